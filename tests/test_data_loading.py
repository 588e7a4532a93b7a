"""TensorDataset and DataLoader: every sample once per pass, in batches, reproducibly shuffled, as torch's."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value
from tinygrad_div.data import DataLoader, TensorDataset

X = np.arange(20.0).reshape(10, 2)
LABELS = np.arange(10) % 3


def indices(loader):
    """The sample indices of each batch (X's first column is 2·index)."""
    return [(xb[:, 0] / 2).astype(int).tolist() for xb, _ in loader]


@pytest.mark.parametrize("batch_size, drop_last, expected", [
    (4, False, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
    (4, True, [[0, 1, 2, 3], [4, 5, 6, 7]]),
    (5, True, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]),
    (20, False, [list(range(10))]),
    (20, True, []),
])
def test_batches_cover_the_samples_in_order(batch_size, drop_last, expected):
    loader = DataLoader(TensorDataset(X, LABELS), batch_size=batch_size, drop_last=drop_last)
    assert indices(loader) == expected and len(loader) == len(expected)


def test_a_batch_is_the_arrays_rows_with_their_dtypes_as_copies():
    dataset = TensorDataset(X, LABELS)
    xb, yb = next(iter(DataLoader(dataset, batch_size=3)))
    np.testing.assert_array_equal(xb, X[:3])
    assert yb.dtype == LABELS.dtype and yb.tolist() == LABELS[:3].tolist()
    xb[:] = -1
    assert X[0, 0] == 0.0 and dataset.arrays[0][0, 0] == 0.0


def test_the_same_generator_gives_the_same_orders():
    def orders(seed):
        loader = DataLoader(TensorDataset(X, LABELS), 3, shuffle=True, generator=np.random.default_rng(seed))
        return [indices(loader) for _ in range(3)]

    first = orders(7)
    assert first == orders(7) and first != orders(8)
    assert first[0] != first[1]  # a new order each pass
    for epoch in first:
        assert sorted(sum(epoch, [])) == list(range(10))


def test_without_a_generator_manual_seed_fixes_the_order():
    def order():
        td.manual_seed(3)
        return indices(DataLoader(TensorDataset(X, LABELS), 4, shuffle=True))

    assert order() == order() != indices(DataLoader(TensorDataset(X, LABELS), 4))


def test_other_datasets_are_stacked_field_by_field():
    pairs = [(X[i], int(LABELS[i])) for i in range(10)]
    xb, yb = next(iter(DataLoader(pairs, batch_size=4)))
    np.testing.assert_array_equal(xb, X[:4])
    assert yb.tolist() == LABELS[:4].tolist()
    np.testing.assert_array_equal(next(iter(DataLoader(X, batch_size=2))), X[:2])
    np.testing.assert_array_equal(TensorDataset(Value(X))[1][0], X[1])


def test_batches_match_torchs_dataloader():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDataset

    for drop_last in (False, True):
        ours = DataLoader(TensorDataset(X, LABELS), batch_size=4, drop_last=drop_last)
        theirs = TorchLoader(TorchDataset(torch.from_numpy(X), torch.from_numpy(LABELS)), batch_size=4,
                             drop_last=drop_last)
        assert len(ours) == len(theirs)
        for (xb, yb), (txb, tyb) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(xb, txb.numpy())
            np.testing.assert_array_equal(yb, tyb.numpy())


@pytest.mark.parametrize("make, error, message", [
    (lambda: DataLoader(TensorDataset(X), batch_size=0), ValueError,
     "DataLoader: batch_size must be a positive integer, got 0"),
    (lambda: DataLoader(TensorDataset(X), batch_size=2.0), TypeError, "batch_size must be an integer, got float"),
    (lambda: DataLoader(TensorDataset(X), batch_size=True), TypeError, "batch_size must be an integer, got bool"),
    (lambda: DataLoader(TensorDataset(X), shuffle="yes"), TypeError, "DataLoader: shuffle must be True or False"),
    (lambda: DataLoader(TensorDataset(X), generator=3), TypeError, "DataLoader: generator must be a numpy Generator"),
    (lambda: DataLoader(5, batch_size=2), TypeError, "DataLoader takes a dataset with len"),
    (lambda: TensorDataset(X, LABELS[:9]), ValueError, "different numbers of samples: 10, 9"),
    (lambda: TensorDataset(X, 3.0), ValueError, "array 1 is a scalar"),
    (lambda: TensorDataset(np.array(["a", "b"])), TypeError, "array 0 must hold numbers"),
    (lambda: TensorDataset(), TypeError, "at least one array"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_bad_arguments_get_a_one_line_error(make, error, message):
    with pytest.raises(error, match=message) as info:
        make()
    assert "\n" not in str(info.value)
