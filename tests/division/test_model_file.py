"""model_file: a saved divider loads back identical; a bad file is refused with one line, never unpickled."""

import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_div.division import model_file
from tinygrad_div.division.divider import Divider
from tinygrad_div.division.model_file import ModelFileError
from tinygrad_div.nn import MLP


@pytest.fixture
def divider():
    return Divider(MLP([2, 3, 1], seed=0), "raw", (0.5, 2.0))


def _arrays(path):
    with np.load(path) as npz:
        return dict(npz)


def _rewrite(path, **changes):
    arrays = {**_arrays(path), **changes}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def test_a_saved_divider_loads_back_identical(tmp_path, divider):
    path = tmp_path / "model.npz"
    model_file.save(divider, path)
    loaded = model_file.load(path)
    assert (loaded.inputs, loaded.train_range, loaded.model.sizes) == ("raw", (0.5, 2.0), [2, 3, 1])
    for saved, back in zip(divider.model.parameters(), loaded.model.parameters()):
        np.testing.assert_array_equal(saved.data, back.data)
    a, b = np.array([0.7, 1.5]), np.array([1.2, 0.6])
    np.testing.assert_array_equal(loaded.quotients(a, b), divider.quotients(a, b))


def test_save_writes_exactly_the_given_name_and_leaves_no_temporary_file(tmp_path, divider):
    model_file.save(divider, tmp_path / "model")
    assert os.listdir(tmp_path) == ["model"]


def test_an_interrupted_save_keeps_the_old_model_and_cleans_up(tmp_path, divider, monkeypatch):
    path = tmp_path / "model.npz"
    model_file.save(divider, path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        model_file.save(Divider(MLP([2, 1], seed=1), "log"), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]


def test_a_saved_model_gets_the_mode_the_umask_gives_new_files(tmp_path, divider):
    old = os.umask(0o022)
    try:
        model_file.save(divider, tmp_path / "model.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "model.npz").st_mode) == 0o644  # not mkstemp's private 0600


def test_loading_never_unpickles(tmp_path, divider):
    path = tmp_path / "model.npz"
    model_file.save(divider, path)
    _rewrite(path, inputs=np.array(["log"], dtype=object))
    with pytest.raises(ModelFileError, match="not a readable model file"):
        model_file.load(path)


def _saved(tmp_path, divider):
    path = tmp_path / "model.npz"
    model_file.save(divider, path)
    return path


@pytest.mark.parametrize("changes, message", [
    ({"format": np.array("something else")}, "format marker"),
    ({"format": None}, "format marker"),
    ({"inputs": np.array("sqrt")}, "'inputs'"),
    ({"train_range": np.array([1.0, 0.5])}, "train_range"),
    ({"weight_0": np.zeros((3, 3))}, r"layer 0 has weight \(3, 3\)"),
    ({"bias_1": np.zeros(2)}, r"layer 1 has weight \(3, 1\) and bias \(2,\)"),
    ({"weight_1": np.zeros((3, 2)), "bias_1": np.zeros(2)}, "last layer has 2 outputs"),
    ({"bias_1": None}, "missing or unexpected arrays: bias_1"),
    ({"extra": np.zeros(1)}, "unexpected arrays: extra"),
    ({"weight_0": np.full((2, 3), np.nan)}, "finite float64"),
    ({"weight_0": np.zeros((2, 3), dtype=np.int64)}, "finite float64"),
], ids=["wrong-format", "no-format", "inputs", "range", "weight-shape", "bias-shape", "outputs", "missing",
        "extra", "nan", "dtype"])
def test_files_with_wrong_keys_or_shapes_are_refused(tmp_path, divider, changes, message):
    path = _saved(tmp_path, divider)
    _rewrite(path, **changes)
    with pytest.raises(ModelFileError, match=message):
        model_file.load(path)


def test_missing_truncated_and_foreign_files_are_refused(tmp_path, divider):
    with pytest.raises(ModelFileError, match="not found"):
        model_file.load(tmp_path / "absent.npz")
    with pytest.raises(ModelFileError, match="is a directory"):
        model_file.load(tmp_path)
    path = _saved(tmp_path, divider)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ModelFileError, match="not a readable model file"):
        model_file.load(path)
    path.write_bytes(b"just some text, not numpy")
    with pytest.raises(ModelFileError, match="not a readable model file") as refused:
        model_file.load(path)
    assert "allow_pickle" not in str(refused.value)  # numpy's hint to load it unsafely is no advice for a user
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))  # a lone .npy array, not an archive of named arrays
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ModelFileError):
        model_file.load(path)


@pytest.mark.parametrize("member", ["format", "weight_0"])
def test_a_member_that_is_not_a_numpy_array_is_refused(tmp_path, divider, member):
    """numpy returns the raw bytes of a zip member not stored as .npy; that is not a model file, not a crash."""
    arrays = _arrays(_saved(tmp_path, divider))
    path = tmp_path / "rebuilt.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            if key == member:
                archive.writestr(key, b"x")
            else:
                buffer = io.BytesIO()
                np.save(buffer, array)
                archive.writestr(f"{key}.npy", buffer.getvalue())
    with pytest.raises(ModelFileError, match=f"not a readable model file .its member '{member}' is not a numpy array"):
        model_file.load(path)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_path_that_exists_but_is_no_regular_file_is_not_a_model_file_rather_than_not_found():
    with pytest.raises(ModelFileError, match="/dev/null is not a model file") as refused:
        model_file.load("/dev/null")
    assert "not found" not in str(refused.value)
