"""Scalars (Python floats) and one-element arrays (ndarrays) take different code paths in
every op; the promise is that they give the same bits: values, first derivatives and the
recorded (create_graph) derivatives, at 0, -0.0, ±inf and nan as much as anywhere else.

Registry-driven: every registered built-in op is checked, so a new op is covered the day
it is added. An op with no scalar form at all declares it in NO_SCALAR_FORM with the
reason; nothing else may be skipped.
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_div import Value, grad, registered_ops
from tinygrad_div.engine.function import input_count

#: Ops that cannot run on a Python-float input at all, with the reason (the documented exceptions).
NO_SCALAR_FORM = {
    "MatMul": "numpy.matmul refuses 0-d operands, so there is no scalar form to compare with",
    "GetItem": "a scalar cannot be indexed (it raises, by design)",
    "Concatenate": "numpy.concatenate refuses 0-d operands, so there is no scalar form to compare with",
    "Stack": "joins its inputs along a new axis: scalars give shape (n,), one-element arrays (n, 1), by definition",
    "Affine": "nn.functional.linear: the weight is (n_out, n_in) by definition, never a scalar",
    "Conv": "convolution takes a batch (N, C, *spatial) and a weight (O, C/groups, *kernel), never scalars",
    "MaxPool": "pooling takes a batch (N, C, *spatial), never a scalar",
    "AvgPool": "pooling takes a batch (N, C, *spatial), never a scalar",
    "BatchNorm": "normalises each channel (axis 1) of a batch (N, C, ...), never a scalar",
}

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, -1e300, np.inf, -np.inf, np.nan]
SEEDS = [1.0, -1.5]
OPS = [op for op in registered_ops("tinygrad_div") if op.__name__ not in NO_SCALAR_FORM]


def bits(x) -> int | str:
    """The float64 bit pattern, with every nan the same (a nan's sign and payload are not a convention)."""
    x = float(np.asarray(x, dtype=np.float64).reshape(-1)[0]) if not isinstance(x, float) else x
    return "nan" if x != x else int(np.float64(x).view(np.int64))


def shared_params(op) -> list[dict]:
    """The op's example parameters that work both on a float and on a one-element array."""
    usable = []
    candidates = op.example_params(*[()] * input_count(op)) + op.example_params(*[(1,)] * input_count(op))
    for params in candidates:
        if params in usable:
            continue
        try:
            outs = [op.apply(*[Value(x) for x in inputs], **params)
                    for inputs in ([1.0] * input_count(op), [np.array([1.0])] * input_count(op))]
        except Exception:  # noqa: BLE001  (a parameter set meant for other shapes)
            continue
        if all(np.size(out.data) == 1 for out in outs):
            usable.append(params)
    return usable


def run(op, inputs, params, seed, create_graph):
    """Output and input gradients (one float each, or an exception type) for these inputs."""
    xs = [Value(x) for x in inputs]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = op.apply(*xs, **params)
            g = seed if type(y.data) is float else np.full(y.shape, seed)
            grads = grad(y, xs, g, allow_unused=True, create_graph=create_graph)
    except Exception as exc:  # noqa: BLE001  (both forms must fail alike)
        return type(exc).__name__
    grads = [0.0 if g is None else getattr(g, "data", g) for g in grads]
    return [bits(y.data)] + [bits(g) for g in grads]


def assert_same_bits(op, values, params):
    for seed, create_graph in itertools.product(SEEDS, (False, True)):
        scalar = run(op, [float(v) for v in values], params, seed, create_graph)
        array = run(op, [np.array([v]) for v in values], params, seed, create_graph)
        assert scalar == array, (
            f"{op.__name__}{tuple(values)} {params} seed={seed} create_graph={create_graph}: "
            f"scalar gives {scalar}, one-element array gives {array}"
        )


def test_every_op_without_a_scalar_form_is_still_registered():
    """An exception for an op that no longer exists is stale and must go."""
    names = {op.__name__ for op in registered_ops("tinygrad_div")}
    assert set(NO_SCALAR_FORM) <= names


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_scalar_and_one_element_array_agree_bitwise_at_the_edges(op):
    params_list = shared_params(op)
    assert params_list, f"{op.__name__} has no parameters that run on a scalar: declare it in NO_SCALAR_FORM"
    for params in params_list:
        for values in itertools.product(EDGES, repeat=input_count(op)):
            assert_same_bits(op, values, params)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
@given(data=st.data())
def test_scalar_and_one_element_array_agree_bitwise_anywhere(op, data):
    values = [data.draw(st.floats(width=64), label=f"x{i}") for i in range(input_count(op))]
    for params in shared_params(op):
        assert_same_bits(op, values, params)
