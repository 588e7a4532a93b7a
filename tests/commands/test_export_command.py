"""`export MODEL.npz MODEL.onnx`: a saved divider as an ONNX file that divides; bad input is one line, exit 2."""

import sys
from contextlib import redirect_stdout
from io import StringIO

import numpy as np
import pytest

from tinygrad_div.cli import main

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "m.npz"
    with redirect_stdout(StringIO()):
        assert main(["train", "--samples", "2000", "--save", str(path)]) == 0
    return path


def predict(model, a, b, capsys):
    assert main(["predict", str(a), str(b), "--model", str(model)]) == 0
    return float(capsys.readouterr().out)


def test_train_then_export_runs_in_plain_onnxruntime_and_divides_like_predict(model, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", str(model), str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    session = ort.InferenceSession(str(out))
    (q,) = session.run(None, {"a": np.array([7.0, 1.0]), "b": np.array([3.0, 8.0])})
    assert q[0] == pytest.approx(predict(model, 7, 3, capsys), rel=1e-9)  # predict prints 10 digits
    assert q[1] == pytest.approx(predict(model, 1, 8, capsys), rel=1e-9)


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinygrad-div: error: ")
    return err


def test_a_malformed_model_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    assert main(["export", str(bad), str(tmp_path / "m.onnx")]) == 2
    assert "not a readable model file" in one_line_error(capsys)
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "m.onnx")]) == 2
    assert "not found" in one_line_error(capsys)
    assert not (tmp_path / "m.onnx").exists()


def test_an_unwritable_path_is_one_line_and_exit_2(model, tmp_path, capsys):
    assert main(["export", str(model), str(tmp_path / "no" / "m.onnx")]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert main(["export", str(model), str(tmp_path)]) == 2
    one_line_error(capsys)


def test_a_missing_onnx_extra_is_one_line_naming_it_and_exit_2(model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now fails
    assert main(["export", str(model), str(tmp_path / "m.onnx")]) == 2
    assert "pip install 'tinygrad_div[onnx]'" in one_line_error(capsys)
    assert not (tmp_path / "m.onnx").exists()


def test_issue15_example8_float32_on_request_and_the_message_names_float32_inputs(model, tmp_path, capsys):
    """Issue 15, example 8: the message named float64 inputs, which onnxruntime refuses for this model."""
    out = tmp_path / "m32.onnx"
    assert main(["export", str(model), str(out), "--dtype", "float32"]) == 0
    assert "inputs a, b (float32 arrays of one length)" in capsys.readouterr().out
    session = ort.InferenceSession(str(out))
    (q,) = session.run(None, {"a": np.array([7.0], np.float32), "b": np.array([3.0], np.float32)})
    assert q.dtype == np.float32 and q[0] == pytest.approx(7 / 3, rel=1e-5)
