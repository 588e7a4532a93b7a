"""GetItem exports numpy's indexing exactly: basic indexing, label lookups, masks; the rest refuses by name."""

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from tinygrad_div.onnx import ExportError, export  # noqa: E402

X = np.arange(60.0).reshape(4, 3, 5) - 30.0

INDICES = {
    "int": 2, "negative int": -1, "slice": slice(1, 3), "reversed": slice(None, None, -1),
    "reversed part": slice(2, 0, -1), "step": (slice(None), slice(None, None, 2)), "ints": (1, -1, 2),
    "new axes": (None, Ellipsis, None, 0), "ellipsis": (Ellipsis, 3), "empty slice": slice(3, 1),
    "labels": np.array([3, 0, 0, -1]), "2-d labels": np.array([[0, 1], [2, 3]]),
    "label lookup": (np.array([0, 1, 2, 3]), np.array([2, 0, 1, 1])),
    "int and labels": (slice(None), 1, np.array([4, 0])), "mask": np.array([True, False, True, True]),
    "2-d mask": X[:, :, 0] > -20, "mask on a later axis": (slice(1, None), np.array([False, True, True])),
    "labels then slice": (np.array([1, 1]), slice(None), slice(0, 5, 3)),
}


@pytest.mark.parametrize("index", INDICES.values(), ids=INDICES.keys())
def test_indexing_exports_exactly(index, tmp_path):
    model = lambda x: x[index]
    export(model, X, tmp_path / "i.onnx", dynamic_batch=False)
    (got,) = ort.InferenceSession(str(tmp_path / "i.onnx")).run(None, {"input": X})
    np.testing.assert_array_equal(got, X[index])


def test_slicing_along_a_symbolic_batch_axis(tmp_path):
    export(lambda x: x[1:, ::-1] * 2.0, X[:2], tmp_path / "i.onnx")
    (got,) = ort.InferenceSession(str(tmp_path / "i.onnx")).run(None, {"input": X})
    np.testing.assert_array_equal(got, X[1:, ::-1] * 2.0)


@pytest.mark.parametrize("index", [(np.array([0, 1]), slice(None), np.array([1, 2])), (None, np.array([0]))],
                         ids=["arrays apart", "arrays and new axes"])
def test_index_arrays_numpy_would_move_refuse_by_name(index, tmp_path):
    with pytest.raises(ExportError, match="^GetItem: index .* does not export"):
        export(lambda x: x[index], X, tmp_path / "i.onnx", dynamic_batch=False)


def test_a_mask_computed_from_the_batch_refuses_with_a_symbolic_batch(tmp_path):
    with pytest.raises(ExportError, match="GetItem: the index depends on the batch size"):
        export(lambda x: x[x.data[:, 0, 0] > 0], X, tmp_path / "i.onnx")
