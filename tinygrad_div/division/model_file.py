"""Saving and loading a trained divider as a .npz file, safely.

Saving goes through `files.write_atomically` (a temporary file renamed over the
target), so an interrupted save never leaves a half-written model. Loading never
unpickles (`allow_pickle=False`: a model file cannot run code) and checks every
key and shape before building the network.

File layout (all float64 except the two strings):

    format        "tinygrad_div.divider/1"
    inputs        "raw" or "log"
    train_range   [low, high]
    weight_0, bias_0, weight_1, bias_1, ...   (n_in, n_out) and (n_out,), input layer first
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from tinygrad_div.division.data import INPUT_KINDS
from tinygrad_div.division.divider import Divider
from tinygrad_div.files import write_atomically
from tinygrad_div.nn import MLP, Linear

FORMAT = "tinygrad_div.divider/1"
#: The first bytes of every .npz file (a zip archive) and of a lone .npy array.
_ZIP_MAGIC, _NPY_MAGIC = b"PK\x03\x04", b"\x93NUMPY"


class ModelFileError(ValueError):
    """A model file that is missing, unreadable or not a divider saved by `save`; the message is one line."""


def save(divider: Divider, path: str | os.PathLike) -> None:
    """Write `divider` to `path` (exactly that name; no ".npz" is appended), atomically."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "inputs": np.array(divider.inputs),
        "train_range": np.array(divider.train_range, dtype=np.float64),
    }
    for i, layer in enumerate(divider.model.layers):
        arrays[f"weight_{i}"] = np.asarray(layer.weight.data).T  # the file keeps (n_in, n_out)
        arrays[f"bias_{i}"] = np.asarray(layer.bias.data)
    write_atomically(path, lambda file: np.savez(file, **arrays))


def load(path: str | os.PathLike) -> Divider:
    """Read a divider written by `save`; raise `ModelFileError` for anything else."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"model file {path} is a directory")
    if not path.exists():
        raise ModelFileError(f"model file {path} not found (train one with: tinygrad-div train --save {path})")
    if not path.is_file():  # a device such as /dev/null, a pipe, a socket
        raise ModelFileError(f"{path} is not a model file (not a regular file)")
    arrays = _read_arrays(path)
    if _text(arrays.get("format")) != FORMAT:
        raise ModelFileError(f"{path} is not a tinygrad_div model file (no '{FORMAT}' format marker)")
    inputs = _text(arrays.get("inputs"))
    if inputs not in INPUT_KINDS:
        raise ModelFileError(f"{path}: 'inputs' must be one of {', '.join(INPUT_KINDS)}, got {inputs!r}")
    train_range = _float_array(arrays, "train_range", path)
    if train_range.shape != (2,) or not 0 < train_range[0] < train_range[1]:
        raise ModelFileError(f"{path}: 'train_range' must be [low, high] with 0 < low < high")
    return Divider(MLP.from_linears(_layers(arrays, path)), inputs, (float(train_range[0]), float(train_range[1])))


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array in the .npz file at `path`, by name; never unpickles."""
    unreadable = f"{path} is not a readable model file"
    try:
        with open(path, "rb") as file:
            magic = file.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise ModelFileError(f"{unreadable} ({exc.strerror or exc})") from None
    if magic.startswith(_NPY_MAGIC):
        raise ModelFileError(f"{path} holds a single numpy array, not a model file")
    if not magic.startswith(_ZIP_MAGIC):
        # numpy would try the file as a pickle, then suggest loading it unsafely: no advice for a user
        raise ModelFileError(f"{unreadable} (not a .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{unreadable} ({_one_line(exc)})") from None
    for key, array in arrays.items():
        if not isinstance(array, np.ndarray):  # numpy hands back the raw bytes of a member that is not a .npy
            raise ModelFileError(f"{unreadable} (its member {key!r} is not a numpy array)")
    return arrays


def _layers(arrays: dict[str, np.ndarray], path: Path) -> list[Linear]:
    count = sum(1 for key in arrays if key.startswith("weight_"))
    layer_keys = {f"{kind}_{i}" for i in range(count) for kind in ("weight", "bias")}
    expected = {"format", "inputs", "train_range"} | layer_keys
    if count == 0 or set(arrays) != expected:
        unexpected = sorted(set(arrays) ^ expected) or ["weight_0"]
        raise ModelFileError(f"{path}: missing or unexpected arrays: {', '.join(unexpected)}")
    layers = []
    n_in = 2  # every divider reads one pair (a, b)
    for i in range(count):
        weight, bias = _float_array(arrays, f"weight_{i}", path), _float_array(arrays, f"bias_{i}", path)
        if weight.ndim != 2 or weight.shape[0] != n_in or bias.shape != weight.shape[1:]:
            raise ModelFileError(f"{path}: layer {i} has weight {weight.shape} and bias {bias.shape}, "
                                 f"expected ({n_in}, n) and (n,)")
        layers.append(Linear.from_arrays(weight.T, bias))
        n_in = weight.shape[1]
    if n_in != 1:
        raise ModelFileError(f"{path}: the last layer has {n_in} outputs, a divider has 1")
    return layers


def _float_array(arrays: dict[str, np.ndarray], key: str, path: Path) -> np.ndarray:
    array = arrays[key]
    if array.dtype != np.float64 or not np.all(np.isfinite(array)):
        raise ModelFileError(f"{path}: '{key}' must hold finite float64 numbers, got dtype {array.dtype}")
    return array


def _text(array: np.ndarray | None) -> str | None:
    if array is None or array.shape != () or array.dtype.kind != "U":
        return None
    return str(array)


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
