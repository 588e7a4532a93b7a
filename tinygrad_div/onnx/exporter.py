"""`export`: run a model once on Values, map its recorded graph to ONNX, check the model, write it atomically."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.value import Value
from tinygrad_div.files import output_problem, write_atomically
from tinygrad_div.onnx import trace as tracing
from tinygrad_div.onnx.errors import EXTRA_HINT, ExportError

#: The ONNX operator set the exported models declare. 18 is the first where every reduction takes its
#: axes as an input (ReduceSum since 13, ReduceMean since 18) and Shape takes start/end (15); onnxruntime
#: has run it since 1.14 (2023).
OPSET = 18
#: The ONNX file format version matching opset 18 (accepted by every onnxruntime that runs opset 18).
IR_VERSION = 8
DTYPES = ("float64", "float32")


def export(
    model: Callable[..., Any],
    example_inputs: Any,
    path: str | os.PathLike,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
    dtype: str = "float64",
) -> Any:
    """Write the ONNX model of `model(*example_inputs)` to `path` and return it (an `onnx.ModelProto`).

    `model` is anything callable on Values: an `nn` module, a network, a function.
    `example_inputs` is one array or a tuple of them; the model runs on them (three
    times with `dynamic_batch`, at batch sizes n, n + 1 and 2n + 1, to find which dimensions
    follow axis 0 of the inputs: those become the symbolic dimension "batch").
    Parameters (leaf Values that require grad) become initializers named after
    `model.named_parameters()` when it has them; everything computed from
    constants alone was folded by the run. `dtype="float32"` stores parameters
    and takes inputs in float32. Raises `ExportError` for an op without an ONNX
    mapping (naming it and the line that created it), and ImportError naming the
    extra to install when the onnx package is missing.
    """
    builder = _require_onnx()
    if dtype not in DTYPES:
        raise ExportError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    problem = output_problem(path)
    if problem:
        raise ExportError(f"cannot write {path}: {problem}")
    examples = _examples(example_inputs)
    input_names = _names(input_names, len(examples), "input")
    names = _parameter_names(model)
    with _eval_mode(model):
        traces, batch = _trace(model, examples, names, dynamic_batch)
    output_names = _names(output_names, len(traces[0].outputs), "output")
    proto = builder.build(traces[0], input_names, output_names, dtype, batch, OPSET, IR_VERSION, traces[1:])
    write_atomically(path, lambda file: file.write(proto.SerializeToString()))
    return proto


@contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """A module in training mode exports in eval mode and is put back after, as torch.onnx.export does:
    the model a user ships is the inference one (dropout off, batch norm on its running statistics),
    and exporting (which runs the model several times) moves no running statistic."""
    training = getattr(model, "training", False) is True and callable(getattr(model, "eval", None))
    if training:
        model.eval()
    try:
        yield
    finally:
        if training:
            model.train()


def _require_onnx():
    try:
        from tinygrad_div.onnx import build as builder
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("onnx", "onnxruntime"):
            raise ImportError(f"ONNX export needs the onnx package: {EXTRA_HINT}") from None
        raise
    return builder


def _examples(example_inputs: Any) -> list[np.ndarray]:
    items = list(example_inputs) if isinstance(example_inputs, (tuple, list)) else [example_inputs]
    if not items:
        raise ExportError("export needs at least one example input")
    arrays = []
    for i, x in enumerate(items):
        data = x.data if isinstance(x, Value) else x
        array = np.asarray(data)
        if array.dtype.kind not in "fiu" or array.dtype.kind == "c":
            raise ExportError(f"example input {i} must be real numbers, got dtype {array.dtype}")
        arrays.append(array.astype(np.float64))
    return arrays


def _names(names: Sequence[str] | None, count: int, kind: str) -> list[str]:
    if names is None:
        return [kind] if count == 1 else [f"{kind}_{i}" for i in range(count)]
    names = [str(n) for n in names]
    if len(names) != count:
        raise ExportError(f"{len(names)} {kind}_names for {count} {kind}s")
    if len(set(names)) != len(names) or any(not n for n in names):
        raise ExportError(f"{kind}_names must be distinct and non-empty, got {names}")
    return names


def _parameter_names(model: Any) -> dict[int, str]:
    named = getattr(model, "named_parameters", None)
    if callable(named):
        return {id(v): name for name, v in named()}
    plain = getattr(model, "parameters", None)
    if callable(plain):
        return {id(v): f"param_{i}" for i, v in enumerate(plain())}
    return {}


def _trace(model: Any, examples: list[np.ndarray], names: dict[int, str],
           dynamic_batch: bool) -> tuple[list[tracing.Trace], int | None]:
    """The graph of the model on the examples, with every tensor's dims (then its runs at the other batch
    sizes, if any); and the batch input's index."""
    batched = [i for i, x in enumerate(examples) if x.ndim > 0]
    if not dynamic_batch or not batched:
        # a second run on the rows rolled by one: a graph or constants that change with the data are refused
        rolled = [np.roll(x, 1, axis=0) if x.ndim else x for x in examples]
        traces = [tracing.walk(*tracing.run(model, xs), names) for xs in (examples, rolled)]
        tracing.same_constants(traces + _scaled(model, examples, names))
        tracing.static_dims(traces[0])
        return traces[:1], None
    sizes = {examples[i].shape[0] for i in batched}
    if len(sizes) != 1:
        raise ExportError(f"with dynamic_batch, every input's axis 0 is the batch, but the examples have sizes "
                          f"{sorted(sizes)} there; {tracing.FIXED_BATCH}")
    count = sizes.pop()
    n = max(2, count)  # not 1: a batch of one broadcasts where a larger one would not
    traces, batch_sizes = [], [n, n + 1, 2 * n + 1]
    for shift, size in enumerate(batch_sizes):
        rows = (np.arange(size) + shift) % count  # the examples' rows, from a different one each run
        resized = [x[rows] if i in batched else x for i, x in enumerate(examples)]
        try:
            traces.append(tracing.walk(*tracing.run(model, resized), names))
        except ShapeError as exc:
            if size == count:
                raise  # the model fails on the examples themselves: the caller's own problem, as it is
            raise ExportError(f"with dynamic_batch, axis 0 of every example is the batch, and at batch size {size} "
                              f"the model raised ShapeError: {exc}; give examples with a batch axis, or "
                              f"{tracing.FIXED_BATCH}") from exc
    tracing.symbolic_dims(traces, batch_sizes)
    tracing.same_constants(traces + _scaled(model, [x[(np.arange(n) + 1) % count] if i in batched else x
                                                    for i, x in enumerate(examples)], names))
    return traces, batched[0]


def _scaled(model: Any, examples: list[np.ndarray], names: dict[int, str]) -> list[tracing.Trace]:
    """The graph on the examples scaled by 1 + 2⁻¹⁰, which changes a constant computed from the inputs that
    reordering the rows cannot (a sum over them); none when the model fails there (a domain edge)."""
    try:
        return [tracing.walk(*tracing.run(model, [x * (1.0 + 2.0 ** -10) for x in examples]), names)]
    except Exception:  # noqa: BLE001  (only an extra check: the model ran on the examples themselves)
        return []
