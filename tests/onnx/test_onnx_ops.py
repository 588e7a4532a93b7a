"""Every built-in op exports (and onnxruntime agrees with eager forward to 1e-12) or refuses by name; random graphs too.

Registry-driven: an op added to the engine is tried here without touching this file.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tinygrad_div import Value, registered_ops
from tinygrad_div.engine.function import input_count
from tinygrad_div.testing import op_inputs

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from tinygrad_div.onnx import ExportError, export  # noqa: E402

#: onnxruntime against eager forward, float64: relative, and for results near 0 (a sum that cancels)
#: relative to the size of what was added up
RTOL = 1e-12
BUILTIN = registered_ops("tinygrad_div")
MAPPED = BUILTIN  # every op: a mapping, a hook, or its own forward traced


def run_onnx(path, inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: np.asarray(x, dtype=np.float64) for i, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feed)


def assert_close(got, expected, scale=1.0):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= RTOL * np.maximum(np.abs(expected), scale)), (got, expected)


def test_the_builtin_ops_are_the_engines():
    assert {op.__name__ for op in BUILTIN} >= {"Add", "MatMul", "GetItem", "Sigmoid", "Mean"}


@pytest.mark.parametrize("op", BUILTIN, ids=lambda op: op.__name__)
def test_every_builtin_op_exports_exactly_or_refuses_by_name(op, tmp_path):
    path = tmp_path / "op.onnx"

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(op_inputs(op))
    def check(case):
        datas, params = case
        # masks (Where's condition) as numbers: export takes float example inputs, Where reads nonzero as true
        datas = [np.asarray(d, dtype=np.float64) if np.asarray(d).dtype == bool else d for d in datas]
        model = lambda *xs: op.apply(*xs, **params)
        expected = model(*[Value(d) for d in datas]).data
        assume(np.all(np.isfinite(expected)))
        export(model, tuple(datas), path, dynamic_batch=False)
        scale = max([float(np.max(np.abs(d), initial=0.0)) for d in datas] + [1.0])
        assert_close(run_onnx(path, datas)[0], expected, scale)

    check()


def _operand(rng, pool, shape, domain):
    """An input for an op: a pool member of this shape or a fresh constant; kept positive where it must be."""
    same = [v for v in pool if v.shape == shape]
    if same and rng.integers(2):
        x = same[rng.integers(len(same))]
    else:
        x = Value(rng.uniform(-1.5, 1.5, shape), requires_grad=False)
    return x * x + 0.5 if domain in ("positive", "nonzero") else x


@st.composite
def graphs(draw):
    """A model: a chain of 1-6 mapped ops, each on the last result (and on earlier ones or constants).

    Each step's choices come from its own seeded generator, so every run of the model (export runs
    it up to three times) builds the same graph.
    """
    steps = draw(st.lists(st.tuples(st.sampled_from(MAPPED), st.integers(0, 2**32 - 1)), min_size=1, max_size=6))

    def model(x):
        pool = [x]
        for op, seed in steps:
            rng = np.random.default_rng(seed)
            a = pool[-1]
            count = input_count(op)
            domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * count
            if op.shapes == "matmul":
                if a.ndim == 0:
                    continue
                shapes = [a.shape, (a.shape[-1], 2)]
            else:
                shapes = [a.shape] + [a.shape[rng.integers(a.ndim + 1):] for _ in range(count - 1)]
            candidates = op.example_params(*shapes)
            if not candidates:
                continue
            params = candidates[rng.integers(len(candidates))]
            first = a * a + 0.5 if domains[0] in ("positive", "nonzero") else a
            others = [_operand(rng, pool, s, d) for s, d in zip(shapes[1:], domains[1:])]
            pool.append(op.apply(first, *others, **params))
        return pool[-1] if len(pool) > 1 else x.exp()

    return model, steps


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(graphs(), st.integers(2, 4), st.booleans())
def test_random_graphs_over_every_mapped_op_match_eager_forward(tmp_path, drawn, batch, dynamic):
    model, steps = drawn
    rng = np.random.default_rng(batch)
    x = rng.uniform(-1.5, 1.5, (batch, 3))
    try:
        expected = model(Value(x)).data
    except Exception:  # an op refusing its drawn operands (shape problems) is no export question
        assume(False)
    assume(np.all(np.isfinite(expected)))
    path = tmp_path / "graph.onnx"
    try:
        export(model, x, path, dynamic_batch=dynamic)
    except ExportError as exc:
        # the refusals allowed: an Inf on the way (exp overflowing, then a sigmoid), and with a symbolic
        # batch, sizes that follow it irregularly (x[::2]) or constants whose shape follows it
        message = str(exc)
        assert "NaN or Inf" in message or (dynamic and ("batch size" in message or "batch axis" in message)), message
        assume(False)
    assert_close(run_onnx(path, [x])[0], expected, scale=10.0)
