"""testing.check_op: the one-line gradient check a user runs on their own op."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_div import BackwardError, Function
from tinygrad_div.testing import OpCheckError, check_op

ROOT = Path(__file__).resolve().parent.parent


class Softplus(Function, register=False):
    """y = ln(1 + e^x);  dy/dx = σ(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + np.exp(-x))


class WrongHypot(Function, register=False):
    """y = sqrt(a² + b²); the gradient for b is deliberately missing its factor b."""

    domain = "nonzero"  # the cone's tip at 0 has no derivative

    @staticmethod
    def forward(ctx, a, b):
        out = np.sqrt(a * a + b * b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return grad * a / out, grad / out


def test_a_correct_user_op_passes_with_second_derivatives():
    report = check_op(Softplus, examples=15)
    assert report.name == "Softplus" and report.examples == 15 and report.second_order_checked
    assert report.first_order.max_abs_error < 1e-6


def test_a_wrong_user_op_fails_with_the_shrunk_input_and_the_element():
    with pytest.raises(OpCheckError) as info:
        check_op(WrongHypot, examples=15, second_order=False)
    message = str(info.value)
    assert message.startswith("WrongHypot failed its gradient check on inputs (")
    assert "gradient of input 1 at element" in message


class DoubledTotal(Function, register=False):
    """y = 2·x elementwise, but backward returns Σ(g)·2: right for a scalar, a scalar for an array input."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad):
        return np.sum(grad) * 2.0


def test_a_gradient_of_the_wrong_shape_is_reported_as_such_not_as_a_numeric_mismatch():
    """Expanded, Σ(g)·2 would look like wrong numbers; the engine refuses the shape and check_op says so."""
    with pytest.raises(OpCheckError) as info:
        check_op(DoubledTotal, examples=10)
    message = str(info.value)
    assert message.startswith("DoubledTotal failed its gradient check on inputs (")
    assert "DoubledTotal.backward returned an invalid gradient at index 0: got shape () but expected shape " \
           "compatible with (" in message
    assert "analytic" not in message and isinstance(info.value.__cause__, BackwardError)


def test_ops_declaring_a_domain_get_inputs_from_it():
    class LogOfPositive(Function, register=False):
        domain = "positive"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.log(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / x

    assert check_op(LogOfPositive, examples=10).examples == 10


def test_a_bad_domain_name_is_explained():
    class Odd(Function, register=False):
        domain = "complex"

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(OpCheckError, match="unknown domain"):
        check_op(Odd, examples=2)


def test_check_op_in_a_users_script_leaves_no_hypothesis_folder_in_the_working_directory(tmp_path):
    script = tmp_path / "my_ops.py"
    script.write_text(
        "import numpy as np\n"
        "from tinygrad_div import Function\n"
        "from tinygrad_div.testing import check_op\n\n"
        "class Square(Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        ctx.save_for_backward(x)\n"
        "        return x * x\n\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad):\n"
        "        (x,) = ctx.saved_tensors\n"
        "        return 2.0 * x * grad\n\n"
        "print(check_op(Square).examples)\n"
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert done.returncode == 0 and done.stdout.strip() == "30", done.stderr
    # by default hypothesis writes ./.hypothesis/constants once it has run a few examples
    assert os.listdir(tmp_path) == ["my_ops.py"]


def test_check_op_draws_the_same_inputs_whatever_modules_were_imported(tmp_path, monkeypatch):
    """Hypothesis also draws constants found in the user's imported modules; check_op must not, or
    `check --module file.py` and check_op in a session disagree on the same op (the Huber report)."""
    seen: list[list[float]] = []

    class Recorded(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            seen[-1].extend(np.ravel(x).tolist())
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2.0 * x * grad

    seen.append([])
    check_op(Recorded, examples=20, second_order=False)
    (tmp_path / "many_constants.py").write_text(
        "CONSTANTS = (" + ", ".join(f"{k / 7:.17g}" for k in range(-300, 300)) + ")\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("many_constants")
    seen.append([])
    check_op(Recorded, examples=20, second_order=False)
    assert seen[0] == seen[1]


HUBER = '''import os
import numpy as np
from tinygrad_div import Function


class Huber(Function):
    """y = r²/2 for |r| <= 1, else |r| - 1/2, r = x - t;  dy/dx = clip(r, -1, 1) = -dy/dt"""

    @staticmethod
    def forward(ctx, x, t):
        with open(os.environ["DRAWS"], "a") as log:  # every input the check runs the op on, in order
            log.write(repr((np.asarray(x).tolist(), np.asarray(t).tolist())) + "\\n")
        ctx.save_for_backward(x, t)
        r = x - t
        return np.where(np.abs(r) <= 1.0, 0.5 * r * r, np.abs(r) - 0.5)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        g = np.clip(x - t, -1.0, 1.0)
        return grad * g, -grad * g
'''


def test_the_check_command_and_check_op_draw_the_same_inputs_and_agree(tmp_path):
    """The Huber case: `check --module my_ops.py` failed it where check_op passed it, because hypothesis
    also draws numbers written in the source of loaded modules, and the command loads other modules.
    Both now draw without them: the very same inputs, in the same order, and the same verdict, on
    every path (the command runs `check_op(op, paths=check_paths)`)."""
    (tmp_path / "my_ops.py").write_text(HUBER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    api = subprocess.run([sys.executable, "-c", "import my_ops\nfrom tinygrad_div.testing import check_op\n"
                          "from tinygrad_div.crosspath import check_paths\n"
                          "check_op(my_ops.Huber, examples=20, paths=check_paths)\nprint('pass')"],
                         cwd=tmp_path, capture_output=True, text=True, env={**env, "DRAWS": "api.txt"}, timeout=120)
    cli = subprocess.run([sys.executable, "-m", "tinygrad_div", "check", "--module", "my_ops.py", "--examples", "20"],
                         cwd=tmp_path, capture_output=True, text=True, env={**env, "DRAWS": "cli.txt"}, timeout=120)
    assert api.returncode == 0 and api.stdout == "pass\n", api.stderr
    assert cli.returncode == 0 and "1 passed, 0 failed" in cli.stdout, cli.stdout + cli.stderr
    drawn = (tmp_path / "api.txt").read_text()
    assert drawn.count("\n") > 100 and drawn == (tmp_path / "cli.txt").read_text()


def test_check_op_runs_the_paths_hook_after_the_derivatives_and_fails_on_its_report():
    class Report:
        def __init__(self, ok):
            self.ok = ok

        def __str__(self):
            return "compile: gradient of input 0 differs in bits"

    seen = []
    report = check_op(Softplus, examples=3, paths=lambda op: seen.append(op) or Report(True))
    assert seen == [Softplus] and report.paths.ok
    with pytest.raises(OpCheckError, match="Softplus failed its check of the other paths: compile: gradient of"):
        check_op(Softplus, examples=3, paths=lambda op: Report(False))
