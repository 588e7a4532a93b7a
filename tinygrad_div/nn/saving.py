"""A module's state_dict as a .npz file: written atomically, read without unpickling, checked before use.

The file holds one float64 array per parameter (and each buffer in its own dtype:
BatchNorm's `num_batches_tracked` is int64, as PyTorch's), named as in `state_dict()`
("0.weight", "out.bias", ...), so `np.load(path)` reads it without tinygrad_div and
a PyTorch state_dict of the same names loads into it. Saving goes through
`files.write_atomically` (an interrupted save leaves the old file); loading never
unpickles (`allow_pickle=False`: a file cannot run code) and checks every name,
dtype and shape before a parameter changes.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from tinygrad_div.files import output_problem, write_atomically
from tinygrad_div.nn.module import Module, StateDictError

#: The first bytes of every .npz file (a zip archive).
_ZIP_MAGIC = b"PK\x03\x04"


def save(module: Module, path: str | os.PathLike) -> None:
    """`nn.save(net, "net.npz")`: write `module.state_dict()` to `path` atomically (no ".npz" is appended)."""
    if not isinstance(module, Module):
        raise TypeError(f"save takes a Module, got {type(module).__name__}")
    path = Path(path)
    if problem := output_problem(path):
        raise OSError(f"cannot save {type(module).__name__} to {path}: {problem}")
    state = module.state_dict()
    write_atomically(path, lambda file: np.savez(file, **state))


def load(module: Module, path: str | os.PathLike) -> None:
    """`nn.load(net, "net.npz")`: read a file written by `save` into `module`; a file that does not fit changes
    nothing."""
    if not isinstance(module, Module):
        raise TypeError(f"load takes the Module to load into, got {type(module).__name__}")
    path = Path(path)
    arrays = read_arrays(path, StateDictError)
    dtypes = {name: array.dtype for name, array in module.state_dict().items()}  # float64, or a buffer's own
    for name, array in arrays.items():
        expected = dtypes.get(name, np.dtype(np.float64))
        if array.dtype != expected:
            raise StateDictError(f"{path}: '{name}' must be {expected}, got dtype {array.dtype}")
    try:
        module.load_state_dict(arrays)
    except StateDictError as exc:
        raise StateDictError(f"{path}: {exc}") from None


def read_arrays(path: Path, error: type[Exception]) -> dict[str, np.ndarray]:
    """Every array in the .npz file at `path`, by name, never unpickling; `error` (one line) for anything else."""
    if path.is_dir():
        raise error(f"{path} is a directory, not a saved module")
    if not path.exists():
        raise error(f"{path} not found")
    if not path.is_file():  # a device such as /dev/null, a pipe, a socket
        raise error(f"{path} is not a regular file")
    unreadable = f"{path} is not a readable .npz file"
    try:
        with open(path, "rb") as file:
            magic = file.read(len(_ZIP_MAGIC))
    except OSError as exc:
        raise error(f"{unreadable} ({exc.strerror or exc})") from None
    if magic != _ZIP_MAGIC:
        # numpy would try the file as a pickle, then suggest loading it unsafely: no advice for a user
        raise error(f"{unreadable} (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{unreadable} ({message})") from None
    for key, array in arrays.items():
        if not isinstance(array, np.ndarray):  # numpy hands back the raw bytes of a member that is not a .npy
            raise error(f"{unreadable} (its member {key!r} is not a numpy array)")
    return arrays
