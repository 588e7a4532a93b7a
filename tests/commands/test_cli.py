"""The command line: `train` learns to divide and prints its table, `predict` divides, bad input is one line, exit 2."""

import io
import os
import subprocess
import sys
import warnings
import zipfile
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pytest

from tinygrad_div import cli
from tinygrad_div.cli import Command, UsageError, main
from tinygrad_div.commands import train as train_command
from tinygrad_div.division import model_file
from tinygrad_div.division.divider import Divider
from tinygrad_div.nn import MLP, Linear

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Paths of a trained log model, a trained raw model, and broken or missing model files."""
    folder = tmp_path_factory.mktemp("models")
    paths = {name: folder / f"{name}.npz" for name in ("default", "log", "raw", "corrupt", "bad_shape", "missing",
                                                         "foreign", "not_array", "overflowing")}
    with redirect_stdout(StringIO()):
        assert main(["train", "--save", str(paths["default"])]) == 0
        assert main(["train", "--samples", "3000", "--save", str(paths["log"])]) == 0
        assert main(["train", "--samples", "500", "--inputs", "raw", "--hidden", "4", "--save", str(paths["raw"])]) == 0
    paths["corrupt"].write_bytes(paths["log"].read_bytes()[:200])
    with np.load(paths["log"]) as npz:
        arrays = dict(npz)
    np.savez(paths["bad_shape"], **{**arrays, "weight_0": np.zeros((3, 1))})
    paths["foreign"].write_text("just some text, not a model")
    with zipfile.ZipFile(paths["not_array"], "w") as archive:  # a member numpy returns as raw bytes
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr("format" if key == "format" else f"{key}.npy",
                             b"x" if key == "format" else buffer.getvalue())
    # log inputs with weights (2, 0): for a = 1e200 its net is 921, beyond ln(largest float) ≈ 709.8
    model_file.save(Divider(MLP.from_linears([Linear.from_arrays([[2.0, 0.0]], [0.0])]), "log"),
                    paths["overflowing"])
    paths["no_dir"] = folder / "no such folder" / "model.npz"
    paths["folder"] = folder
    return paths


def run(argv, capsys):
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _row(table: str, label: str) -> list[float]:
    """The numbers at the end of the table row that starts with `label` (count, MSE, median, 95%)."""
    (line,) = [line for line in table.splitlines() if line.startswith(label)]
    return [float(x) for x in line.split()[-4:]]


def test_train_with_the_notes_defaults_prints_the_table_and_divides_to_1e_6(capsys):
    status, out, err = run(["train"], capsys)
    assert status == 0 and err == ""
    assert "2 -> 1 sigmoid network on 8000 pairs (log inputs, 1 epoch(s), batch 1" in out
    for label, count in (("train [0.1, 1)", 8000), ("test  [0.1, 1)", 2000), ("wider [0.001, 10)", 2000)):
        row_count, mse, median, p95 = _row(out, label)
        assert row_count == count and median < 1e-6 and p95 >= median and mse >= 0
    examples = out.split("predicted\n")[1].strip().splitlines()
    assert len(examples) == 5
    for line in examples:
        a, b, true, predicted = map(float, line.split())
        assert true == pytest.approx(a / b, rel=1e-3)  # a and b are shown rounded to 4 digits
        assert predicted == pytest.approx(true, rel=1e-9)


def test_train_saves_a_model_that_predict_uses(models, capsys):
    status, out, err = run(["predict", 7, 3, "--model", models["log"]], capsys)
    assert status == 0 and err == ""
    assert float(out) == pytest.approx(7 / 3, rel=1e-9)


@pytest.mark.parametrize("a, b", [(1e12, 1), (1e15, 1), (1e17, 1), (1, 1e15), (1e300, 1e-5), (3e-200, 1e100)])
def test_predict_divides_quotients_far_beyond_the_training_range_to_1e_12(models, capsys, a, b):
    # decoding the sigmoid's output t as t/(1 - t) printed 9.999111073e+11 for 1e12 and was 10% off at 1e15
    status, out, err = run(["predict", a, b, "--model", models["default"]], capsys)
    assert status == 0 and err == ""
    assert float(out) == pytest.approx(a / b, rel=1e-12)


def test_predict_with_a_raw_model_outside_its_training_range_says_so(models, capsys):
    status, out, err = run(["predict", 7, 3, "--model", models["raw"]], capsys)
    assert status == 0 and float(out) > 0
    assert "outside the training range [0.1, 1)" in err


def test_python_dash_m_runs_the_cli(models):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "tinygrad_div", "predict", "7", "3", "--model", str(models["log"])],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0 and float(ok.stdout) == pytest.approx(7 / 3, rel=1e-9)
    bad = subprocess.run([sys.executable, "-m", "tinygrad_div", "predict", "7", "0", "--model", str(models["log"])],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "tinygrad-div: error: cannot divide by zero (b = 0)\n"


def test_a_reader_that_leaves_early_gets_no_traceback(models):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tinygrad_div", "train", "--samples", "200"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    process.stdout.close()  # like `| head -0`: nobody reads what train prints
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1 and err == b""


BAD_INPUT = {
    "negative-samples": (["train", "--samples", "-5"], "--samples must be at least 3"),
    "too-few-samples-for-a-test-set": (["train", "--samples", "2"], "--samples must be at least 3"),
    "huge-samples": (["train", "--samples", "99999999999999999999"], "memory"),
    "huge-hidden": (["train", "--hidden", "99999999999"], "memory"),
    "huge-epochs": (["train", "--epochs", "99999999999999999999"], "memory"),
    "negative-seed": (["train", "--seed", "-1"], "--seed must be >= 0, got -1"),
    "subnormal-range": (["train", "--range", "1e-320", "1e-310"], "subnormal"),
    "range-overflowing-when-widened": (["train", "--range", "1e300", "1e308"], "overflow"),
    "infinite-range": (["train", "--range", "0.1", "inf"], "expected a finite number"),
    "samples-not-a-number": (["train", "--samples", "ten"], "expected a whole number, got 'ten'"),
    "fractional-samples": (["train", "--samples", "2.5"], "expected a whole number"),
    "zero-epochs": (["train", "--epochs", "0"], "--epochs must be >= 1"),
    "negative-batch": (["train", "--batch-size", "-1"], "--batch-size must be >= 1"),
    "zero-hidden": (["train", "--hidden", "8", "0"], "--hidden sizes must be >= 1"),
    "negative-lr": (["train", "--lr", "-0.1"], "--lr must be a positive number"),
    "nan-lr": (["train", "--lr", "nan"], "expected a finite number"),
    "reversed-range": (["train", "--range", "1", "0.1"], "0 < LOW < HIGH"),
    "negative-range": (["train", "--range", "-1", "1"], "0 < LOW < HIGH"),
    "unknown-inputs": (["train", "--inputs", "cubic"], "invalid choice: 'cubic'"),
    "save-to-missing-folder": (["train", "--save", "{no_dir}"], "does not exist"),
    "save-to-a-folder": (["train", "--save", "{folder}"], "is a directory"),
    "save-to-a-folder-with-slash": (["train", "--save", "{no_dir}/"], "expected a file name"),
    "save-to-no-name": (["train", "--save", ""], "expected a file name, got an empty one"),
    "save-and-plot-to-one-file": (["train", "--save", "{log}.png", "--plot", "{log}.png"], "the same file"),
    "plot-to-unknown-format": (["train", "--plot", "loss.xyz"], "--plot: loss.xyz must end in .png, .svg, .pdf"),
    "dividend-not-a-number": (["predict", "seven", "3", "--model", "{log}"], "expected a number, got 'seven'"),
    "divisor-not-a-number": (["predict", "7", "1/3", "--model", "{log}"], "expected a number, got '1/3'"),
    "infinite-divisor": (["predict", "7", "inf", "--model", "{log}"], "expected a finite number"),
    "zero-divisor": (["predict", "7", "0", "--model", "{log}"], "cannot divide by zero"),
    "negative-divisor-log": (["predict", "7", "-3", "--model", "{log}"], "log inputs, so a and b must be > 0"),
    "negative-dividend-log": (["predict", "-7", "3", "--model", "{log}"], "log inputs, so a and b must be > 0"),
    "negative-divisor-raw": (["predict", "7", "-3", "--model", "{raw}"], "divides positive numbers only"),
    "missing-model": (["predict", "7", "3", "--model", "{missing}"], "not found"),
    "corrupt-model": (["predict", "7", "3", "--model", "{corrupt}"], "is not a readable model file"),
    "wrong-shapes": (["predict", "7", "3", "--model", "{bad_shape}"], "layer 0 has weight (3, 1)"),
    "model-is-a-folder": (["predict", "7", "3", "--model", "{folder}"], "is a directory"),
    "quotient-overflows": (["predict", "1e308", "1e-308", "--model", "{log}"], "overflows"),
    "quotient-underflows": (["predict", "1e-300", "1e10", "--model", "{log}"], "underflows float64"),
    "network-quotient-overflows": (["predict", "1e200", "1", "--model", "{overflowing}"], "beyond float64's range"),
    "foreign-model": (["predict", "7", "3", "--model", "{foreign}"], "is not a readable model file"),
    "model-member-not-an-array": (["predict", "7", "3", "--model", "{not_array}"], "'format' is not a numpy array"),
    "model-is-not-a-regular-file": (["predict", "7", "3", "--model", "/dev/null"], "/dev/null is not a model file"),
    "zero-lr": (["train", "--lr", "0"], "--lr must be a positive number, got 0"),
    "plot-to-a-folder": (["train", "--plot", "{folder}"], "is a directory"),
    "graph-negative-seed": (["graph", "--seed", "-1", "-o", "{folder}/g.dot"], "--seed must be >= 0"),
    "graph-seed-not-a-number": (["graph", "--seed", "x"], "expected a whole number, got 'x'"),
    "graph-zero-hidden": (["graph", "--hidden", "0", "-o", "{folder}/g.dot"], "--hidden sizes must be >= 1"),
    "graph-huge-hidden": (["graph", "--hidden", "99999999999", "-o", "{folder}/g.dot"], "memory"),
    "graph-unknown-inputs": (["graph", "--inputs", "cubic"], "invalid choice: 'cubic'"),
    "graph-to-a-folder": (["graph", "-o", "{folder}"], "is a directory"),
    "graph-to-missing-folder": (["graph", "-o", "{no_dir}.dot"], "does not exist"),
    "check-examples-not-a-number": (["check", "--examples", "x"], "expected a whole number, got 'x'"),
    "no-command": ([], "required: COMMAND"),
    "unknown-command": (["divide"], "invalid choice: 'divide'"),
    "unknown-option": (["train", "--fast"], "unrecognized arguments: --fast"),
}


@pytest.mark.parametrize("argv, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_on_stderr_and_exit_status_2(models, capsys, argv, message):
    status, out, err = run([arg.format(**models) for arg in argv], capsys)
    assert status == 2 and out == ""
    assert err.startswith("tinygrad-div: error: ") and err.endswith("\n") and err.count("\n") == 1
    assert message in err


def test_plot_without_matplotlib_is_refused_before_training(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` sees when it is not installed
    monkeypatch.setattr(cli, "train", lambda *args, **kwargs: pytest.fail("trained before checking matplotlib"))
    status, out, err = run(["train", "--plot", tmp_path / "loss.png"], capsys)
    assert status == 2 and out == ""
    assert err == "tinygrad-div: error: --plot needs matplotlib, which is not installed " \
                  "(pip install 'tinygrad_div[plot]')\n"


REFUSED_BEFORE_TRAINING = {
    "save-to-a-folder": ["--save", "{folder}"],
    "save-to-missing-folder": ["--save", "{no_dir}"],
    "plot-to-missing-folder": ["--plot", "{no_dir}.png"],
    "too-few-samples": ["--samples", "2"],
    "negative-seed": ["--seed", "-1"],
    "subnormal-range": ["--range", "1e-320", "1e-310"],
}


@pytest.mark.parametrize("options", REFUSED_BEFORE_TRAINING.values(), ids=REFUSED_BEFORE_TRAINING.keys())
def test_bad_input_is_refused_before_training_not_after(models, monkeypatch, capsys, options):
    monkeypatch.setattr(cli, "train", lambda *args, **kwargs: pytest.fail("trained before checking the input"))
    status, out, _ = run(["train", *[option.format(**models) for option in options]], capsys)
    assert status == 2 and out == ""


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be created")
def test_a_plot_into_a_directory_that_refuses_files_is_refused_before_training(monkeypatch, capsys):
    monkeypatch.setattr(cli, "train", lambda *args, **kwargs: pytest.fail("trained before checking --plot"))
    status, out, err = run(["train", "--plot", "/proc/p.png"], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("tinygrad-div: error: --plot: cannot write to /proc: ")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be created")
def test_a_save_into_a_directory_that_refuses_files_is_refused_before_training(monkeypatch, capsys):
    monkeypatch.setattr(cli, "train", lambda *args, **kwargs: pytest.fail("trained before checking --save"))
    status, out, err = run(["train", "--save", "/proc/model.npz"], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("tinygrad-div: error: --save: cannot write to /proc: ")


def test_graph_of_a_wide_hidden_layer_is_drawn_rather_than_refused_with_the_training_estimate(models, capsys):
    # one sample through a 2 -> 99999 -> 1 network takes a few MB; training it on 8000 pairs would take 25 GB
    status, out, err = run(["graph", "--hidden", "99999", "-o", models["folder"] / "wide.dot"], capsys)
    assert (status, err) == (0, "") and (models["folder"] / "wide.dot").read_text().startswith("digraph")


def test_graph_too_large_for_memory_names_only_the_options_graph_has(models, capsys):
    status, out, err = run(["graph", "--hidden", "99999999999", "-o", models["folder"] / "g.dot"], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "memory" in err and "--hidden" in err and "--samples" not in err and "--epochs" not in err


def test_a_plot_that_fails_while_writing_is_one_line_and_leaves_the_old_file(monkeypatch, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    path = tmp_path / "loss.png"
    path.write_bytes(b"the previous plot")

    def disk_full(self, file, **kwargs):
        file.write(b"half a png")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", disk_full)
    status, out, err = run(["train", "--samples", "100", "--plot", path], capsys)
    assert status == 2 and "trained" in out  # the table was printed before the plot was drawn
    assert err == f"tinygrad-div: error: --plot: cannot write {path}: No space left on device\n"
    assert path.read_bytes() == b"the previous plot" and os.listdir(tmp_path) == ["loss.png"]


def test_a_narrow_range_with_too_few_distinct_pairs_is_one_line(capsys):
    status, out, err = run(["train", "--samples", "100", "--range", "0.1", "0.10000000000000002"], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1 and "distinct pair" in err


def test_a_range_far_from_1_runs_without_warnings(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, out, err = run(["train", "--samples", "100", "--range", "1e-300", "1e-290"], capsys)
    assert status == 0 and err == ""  # the sigmoid saturates there, so the errors are inf, but it is not bad input


def test_plot_writes_a_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "loss.png"
    status, out, _ = run(["train", "--samples", "400", "--plot", path], capsys)
    assert status == 0 and f"plot written to {path}" in out
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert os.listdir(tmp_path) == ["loss.png"]


def test_help_lists_the_commands_and_options(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "train" in out and "predict" in out
    status, out, _ = run(["train", "--help"], capsys)
    for option in ("--samples", "--hidden", "--epochs", "--batch-size", "--lr", "--seed", "--inputs", "--range",
                   "--save", "--plot"):
        assert option in out


def documented_options() -> list:
    """(subcommand, option) for every subcommand and each of its options, as `--help` lists them."""
    found = []
    for name, sub in cli.build_parser()._subparsers._group_actions[0].choices.items():
        found.append((name, None))
        for action in sub._actions:
            found += [(name, option) for option in action.option_strings if option not in ("-h", "--help")]
    return found


@pytest.mark.parametrize(("command", "option"), documented_options())
def test_every_subcommand_and_option_of_help_is_in_docs_cli_md(command, option):
    """docs/cli.md cannot fall behind the parser: each subcommand has a heading, each option its name."""
    page = (ROOT / "docs" / "cli.md").read_text()
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert any(command in line.replace(",", " ").split() for line in headings), f"no heading for {command}"
    if option is not None:
        assert f"`{option}" in page or f"/{option}" in page, f"{command} {option} is not in docs/cli.md"


def test_docs_cli_md_counts_the_subcommands():
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
    assert f"has {words[len(cli.COMMANDS)]} subcommands" in (ROOT / "docs" / "cli.md").read_text()


def test_a_new_subcommand_is_one_registry_entry(monkeypatch, capsys):
    def add_arguments(parser):
        parser.add_argument("word")

    def shout(args):
        if not args.word.isalpha():
            raise UsageError(f"not a word: {args.word!r}")
        print(args.word.upper())
        return 0

    monkeypatch.setitem(cli.COMMANDS, "shout", Command("say it louder", add_arguments, shout))
    assert run(["shout", "hello"], capsys)[:2] == (0, "HELLO\n")
    assert run(["shout", "42"], capsys) == (2, "", "tinygrad-div: error: not a word: '42'\n")


def test_an_interrupted_run_exits_130_without_a_traceback(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "train", interrupted)
    assert run(["train"], capsys) == (130, "", "tinygrad-div: interrupted\n")
