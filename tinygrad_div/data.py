"""Batches for training: `TensorDataset` and `DataLoader`, as torch.utils.data's, yielding numpy arrays.

    loader = DataLoader(TensorDataset(x, labels), batch_size=64, shuffle=True,
                        generator=np.random.default_rng(0))
    for epoch in range(epochs):
        for xb, yb in loader:           # numpy arrays: xb = x[i], yb = labels[i] for the batch's indices i
            ...

With `shuffle=True` each pass draws a new order, a permutation from `generator`, so
the same generator (same seed) gives the same orders, epoch after epoch. The arrays
keep their dtypes (integer labels stay integers) and are copies: changing a batch
never changes the dataset.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_div.engine.randomness import generator_argument
from tinygrad_div.engine.value import Value


class TensorDataset:
    """Arrays that share their first (sample) axis; item i is the tuple of their i-th rows (torch's name)."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise TypeError("TensorDataset needs at least one array")
        converted = []
        for i, array in enumerate(arrays):
            array = np.asarray(array.data if isinstance(array, Value) else array)
            if array.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar; each needs a first (sample) axis")
            if array.dtype.kind not in "biuf":
                raise TypeError(f"TensorDataset: array {i} must hold numbers, got dtype {array.dtype}")
            converted.append(array)
        lengths = [len(a) for a in converted]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: the arrays hold different numbers of samples: "
                             f"{', '.join(map(str, lengths))}")
        #: the arrays, as given (numpy; a Value's data)
        self.arrays: tuple[np.ndarray, ...] = tuple(converted)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Batches of `batch_size` samples of `dataset` (a TensorDataset, or anything with len() and [i]).

    A TensorDataset's batch is the tuple of its arrays' rows; another dataset's items are
    stacked (field by field when they are tuples). `drop_last` leaves out a last, smaller
    batch. `generator` (a numpy Generator) draws the shuffled orders; without one, they
    come from the default generator, which `td.manual_seed` seeds.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 generator: np.random.Generator | None = None) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader takes a dataset with len() and [i] (e.g. TensorDataset(x, y)), "
                            f"got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"DataLoader: batch_size must be an integer, got {type(batch_size).__name__} "
                            f"{batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {type(flag).__name__} {flag!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        #: where the shuffled orders come from: the one given, else the default (`td.manual_seed` seeds it)
        self.generator = generator_argument(generator, "DataLoader: generator")

    def __len__(self) -> int:
        """The number of batches in one pass."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        if self.shuffle:
            order = self.generator.permutation(n)
        else:
            order = np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices: np.ndarray) -> Any:
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[indices]
        items = [self.dataset[int(i)] for i in indices]
        if isinstance(items[0], tuple):
            return tuple(np.stack([np.asarray(item[k]) for item in items]) for k in range(len(items[0])))
        return np.stack([np.asarray(item) for item in items])


__all__ = ["TensorDataset", "DataLoader"]
