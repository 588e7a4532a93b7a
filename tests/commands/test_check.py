"""`python -m tinygrad_div check`: gradient-check the ops of a module, print a table, exit 0 / 1 / 2."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tinygrad_div.cli import main
from tinygrad_div.commands import check
from tinygrad_div.engine.function import Function, registered_ops

REPO = Path(__file__).resolve().parents[2]

CORRECT_OP = '''
import numpy as np
from tinygrad_div import Function

class Cube(Function):
    """y = x³;  dy/dx = 3x²"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3.0 * x * x * grad
'''

# Reverses the last axis but forgets to reverse the gradient back: right for one element, wrong beyond.
WRONG_OP = '''
import numpy as np
from tinygrad_div import Function

class Flip(Function):
    """y = x reversed along its last axis;  the gradient must be reversed too (this one is not)"""

    @staticmethod
    def forward(ctx, x):
        return x if np.ndim(x) == 0 else x[..., ::-1].copy()

    @staticmethod
    def backward(ctx, grad):
        return grad
'''


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch, tmp_path_factory):
    """The ops and modules a test imports from its files leave the registry and sys.modules when it ends.

    Otherwise a deliberately wrong op would stay registered for the suite's every-op tests.
    """
    monkeypatch.setattr(Function, "registry", dict(Function.registry))
    before = set(sys.modules)
    yield
    homes = (str(tmp_path_factory.getbasetemp()), str(REPO / "examples"))
    for name in set(sys.modules) - before:
        if (getattr(sys.modules[name], "__file__", None) or "").startswith(homes):
            del sys.modules[name]


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """Write `name.py` with `source` into a directory on sys.path; return the module name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


def run_cli(capsys, *args: str, paths: bool = False) -> tuple[int, str, str]:
    """`check` with `args`; the other paths (3 s or so an op) only where a test is about them."""
    status = main(["check", *args, *([] if paths else ["--no-paths"])])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def rows(out: str) -> dict[str, list[str]]:
    """The table's rows by op name (the header and the lines after the table are left out)."""
    table = out.split("\n\n")[0].splitlines()[1:]
    return {line.split()[0]: line.split()[1:] for line in table}


def test_a_correct_user_op_passes_with_its_errors_in_the_table(user_module, capsys):
    status, out, _ = run_cli(capsys, "--module", user_module("good_ops", CORRECT_OP), "--examples", "5")
    assert status == 0
    assert out.splitlines()[0].split() == ["op", "examples", "max", "abs", "err", "max", "rel", "err", "2nd",
                                           "order", "paths", "result"]
    examples, abs_err, rel_err, second_order, paths, result = rows(out)["Cube"]
    assert examples == "5" and result == "pass" and second_order == "yes" and paths == "-"
    assert float(abs_err) < 1e-6 and float(rel_err) < 1e-6
    assert "1 passed, 0 failed" in out


def test_a_wrong_user_op_fails_naming_the_element_and_the_shrunk_input(user_module, capsys):
    status, out, _ = run_cli(capsys, "--module", user_module("bad_ops", WRONG_OP), "--examples", "20")
    assert status == 1
    assert rows(out)["Flip"][-1] == "FAIL"
    failure = out.split("0 passed, 1 failed")[1].strip()
    assert failure.startswith("Flip failed its gradient check on inputs ([")  # the shrunk failing input
    assert "gradient of input 0 at element (0,)" in failure
    assert "analytic 1, numeric 0" in failure


def test_one_failing_op_does_not_hide_the_others(user_module, capsys):
    name = user_module("mixed_ops", CORRECT_OP + WRONG_OP)
    status, out, _ = run_cli(capsys, "--module", name, "--examples", "5")
    assert status == 1
    assert rows(out)["Cube"][-1] == "pass" and rows(out)["Flip"][-1] == "FAIL"


def test_a_module_can_be_given_as_a_file(tmp_path, capsys):
    path = tmp_path / "file_ops.py"
    path.write_text(CORRECT_OP)
    status, out, _ = run_cli(capsys, "--module", str(path), "--examples", "3")
    assert status == 0 and "Cube" in rows(out)


def test_a_file_imports_its_siblings_and_only_its_own_ops_are_checked(tmp_path, capsys):
    """The file's folder goes on sys.path (as when it runs as a script); ops it imports are not its own."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "shared_ops.py").write_text(WRONG_OP)  # a sibling module with an op of its own
    (folder / "my_ops.py").write_text("from shared_ops import Flip  # noqa: F401\n" + CORRECT_OP)
    status, out, _ = run_cli(capsys, "--module", str(folder / "my_ops.py"), "--examples", "3")
    assert status == 0 and set(rows(out)) == {"Cube"}


def test_a_file_that_only_imports_ops_defines_none(tmp_path, capsys):
    (tmp_path / "lib_ops.py").write_text(CORRECT_OP)
    (tmp_path / "reexport.py").write_text("from lib_ops import Cube  # noqa: F401\n")
    status, _, err = run_cli(capsys, "--module", str(tmp_path / "reexport.py"))
    assert status == 2 and "defines no Function subclass" in err


def test_with_no_module_every_builtin_op_is_checked(capsys):
    status, out, _ = run_cli(capsys, "--examples", "2")
    assert status == 0
    assert set(rows(out)) == {op.__name__ for op in registered_ops(check.BUILTIN_MODULE)}
    assert {"Add", "Log", "Sigmoid", "MatMul", "Sum"} <= set(rows(out))


def test_the_softplus_example_passes(capsys):
    status, out, _ = run_cli(capsys, "--module", str(REPO / "examples" / "softplus.py"), "--examples", "5")
    assert status == 0 and rows(out)["Softplus"][-1] == "pass"


@pytest.mark.parametrize("source, reason", [
    (None, "No module named"),
    ("import not_a_real_dependency_xyz\n", "No module named 'not_a_real_dependency_xyz'"),
    ("def broken(:\n", "SyntaxError"),
    ("x = 1\n", "defines no Function subclass"),
])
def test_a_module_that_cannot_be_used_is_a_one_line_error_with_status_2(user_module, capsys, source, reason):
    name = "missing_ops_xyz" if source is None else user_module("unusable_ops", source)
    status, out, err = run_cli(capsys, "--module", name)
    assert status == 2
    assert err.count("\n") == 1 and reason in err and "Traceback" not in err
    assert out == ""


def test_examples_must_be_positive(capsys):
    status, _, err = run_cli(capsys, "--examples", "0")
    assert status == 2 and "--examples must be at least 1" in err


def test_without_hypothesis_the_error_names_the_dev_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # makes `import hypothesis` fail
    for module in ("tinygrad_div.testing", "tinygrad_div.testing.check", "tinygrad_div.testing.strategies"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    status, _, err = run_cli(capsys)
    assert status == 2
    assert 'pip install "tinygrad_div[dev]"' in err and err.count("\n") == 1


def test_python_dash_m_runs_it_end_to_end_with_the_exit_status(tmp_path):
    (tmp_path / "cli_ops.py").write_text(WRONG_OP)
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_div", "check", "--module", "cli_ops", "--examples", "5", "--no-paths"],
        cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert done.returncode == 1, done.stderr
    assert "FAIL" in done.stdout and "element (0,)" in done.stdout


EXITING_OP = '''
import sys
from tinygrad_div import Function

class Quit(Function):
    @staticmethod
    def forward(ctx, x):
        sys.exit(5)

    @staticmethod
    def backward(ctx, grad):
        return grad
'''


def test_an_op_that_calls_sys_exit_is_reported_as_failing_not_as_the_exit_status(user_module, capsys):
    status, out, err = run_cli(capsys, "--module", user_module("exiting_ops", CORRECT_OP + EXITING_OP),
                               "--examples", "3")
    assert status == 1 and err == ""
    assert rows(out)["Quit"][-1] == "FAIL" and rows(out)["Cube"][-1] == "pass"
    assert "Quit: called sys.exit(5)" in out


def test_the_command_leaves_no_hypothesis_folder_in_the_working_directory(tmp_path):
    done = subprocess.run(  # the built-in ops: hypothesis caches their constants under ./.hypothesis by default
        [sys.executable, "-m", "tinygrad_div", "check", "--examples", "2", "--no-paths"],
        cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert os.listdir(tmp_path) == []


def test_a_file_named_like_a_loaded_module_is_refused_rather_than_replacing_it(tmp_path, capsys):
    path = tmp_path / "textwrap.py"  # textwrap is imported by this test file
    path.write_text(CORRECT_OP)
    status, _, err = run_cli(capsys, "--module", str(path))
    assert status == 2 and "already loaded" in err
    assert sys.modules["textwrap"] is textwrap


# Right derivatives, but a Python float takes another formula than an array: only the scalar path sees it.
SCALAR_SLIP_OP = '''
import numpy as np
from tinygrad_div import Function

class Slip(Function):
    """y = 2x, except that a float input gets 2x + 1e-9"""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x + 1e-9 if isinstance(x, float) else 2.0 * x

    @staticmethod
    def backward(ctx, grad):
        return 2.0 * grad
'''


def test_every_path_is_checked_by_default_as_check_op_with_check_paths_does(user_module, capsys):
    from tinygrad_div.crosspath import check_paths
    from tinygrad_div.testing import check_op

    status, out, _ = run_cli(capsys, "--module", user_module("path_ops", CORRECT_OP), "--examples", "5", paths=True)
    assert status == 0
    report = check_op(sys.modules["path_ops"].Cube, examples=5, paths=check_paths).paths
    agreed = [p for p in report.paths if report.compared[p] and p not in report.refusals]
    assert rows(out)["Cube"][-2:] == [f"{len(agreed)}/{len(report.paths)}", "pass"]
    assert {"compile", "create_graph", "eager scalar"} <= set(agreed)


def test_an_op_wrong_only_on_another_path_fails_there_and_check_op_says_the_same(user_module, capsys):
    from tinygrad_div.crosspath import check_paths
    from tinygrad_div.testing import OpCheckError, check_op

    name = user_module("slip_ops", SCALAR_SLIP_OP)
    assert run_cli(capsys, "--module", name, "--examples", "5")[0] == 0  # its derivatives are right
    status, out, _ = run_cli(capsys, "--module", name, "--examples", "5", paths=True)
    assert status == 1 and rows(out)["Slip"][-1] == "FAIL"
    failure = out.split("0 passed, 1 failed")[1].strip()
    assert failure.startswith("Slip failed its check of the other paths: Slip: eager scalar")
    with pytest.raises(OpCheckError) as info:
        check_op(sys.modules[name].Slip, examples=5, paths=check_paths)
    assert str(info.value) == failure
