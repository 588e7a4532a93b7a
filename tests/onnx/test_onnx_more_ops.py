"""The ops beyond arithmetic export with their edge cases intact: log1p/expm1 near 0, softmax at ±inf, joins."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from tinygrad_div.onnx import export  # noqa: E402


def exported(model, example, path, x=None, **kwargs):
    """onnxruntime's output of `model` exported on `example`, run on x (default: the example)."""
    export(model, example, path, **kwargs)
    x = example if x is None else x
    inputs = x if isinstance(x, tuple) else (x,)
    session = ort.InferenceSession(str(path))
    return session.run(None, {i.name: v for i, v in zip(session.get_inputs(), inputs)})[0]


def assert_close(got, expected, rtol=1e-12):
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", ["log1p", "expm1"])
def test_log1p_and_expm1_keep_full_precision_near_0(name, tmp_path):
    x = np.array([[1e-300, -1e-17, 1e-10, 3e-8], [0.5, -0.5, 2.0, 0.0]])
    got = exported(lambda v: getattr(v, name)(), x, tmp_path / "f.onnx")
    assert_close(got, getattr(np, name)(x), rtol=1e-15)


def test_expm1_at_the_extremes(tmp_path):
    x = np.array([[-800.0, -40.0, 700.0, 710.0]])
    with np.errstate(over="ignore"):
        expected = np.expm1(x)
    example = np.array([[-800.0, -40.0, 700.0, 1.0]])  # export's own run must stay finite
    got = exported(lambda v: v.expm1(), example, tmp_path / "f.onnx", x=x)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_are_stable(name, tmp_path):
    x = np.array([[0.0, -1000.0, 3.0], [1e300, 1e300, -1e300], [-np.inf, 0.0, 1.0]])
    got = exported(lambda v: getattr(td, name)(v, axis=-1), x[:1], tmp_path / "f.onnx", x=x)
    assert_close(got, getattr(td, name)(Value(x), axis=-1).data)


@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}])
def test_logsumexp_over_any_axes(kwargs, tmp_path):
    x = np.random.default_rng(0).normal(size=(3, 4)) * 300
    got = exported(lambda v: td.logsumexp(v, **kwargs), x, tmp_path / "f.onnx", dynamic_batch=False)
    assert_close(got, td.logsumexp(Value(x), **kwargs).data)


def test_selections_and_limits(tmp_path):
    mask = np.array([True, False, True])
    low, high = np.array([-0.5, 0.0, -1.0]), 0.75

    def model(x):
        picked = td.where(mask, x, -x)
        return td.maximum(picked, 0.1) + td.minimum(x, 0.2) + td.clip(x, low, high) + x.max(axis=1, keepdims=True)

    x = np.random.default_rng(1).uniform(-2, 2, (6, 3))
    assert_close(exported(model, x[:2], tmp_path / "f.onnx", x=x), model(Value(x)).data)


def test_joins_and_shapes_follow_a_symbolic_batch(tmp_path):
    def model(a, b):
        both = td.stack([a, b], axis=-1)                      # (n, 3, 2)
        flat = both.flatten(1)                                 # (n, 6)
        wide = td.concatenate([flat, a.sqrt()], axis=1)        # (n, 9)
        return td.expand_dims(wide, 0).squeeze(0).sin() + td.cos(wide)

    rng = np.random.default_rng(2)
    a, b = rng.uniform(0.1, 2, (2, 3)), rng.uniform(-1, 1, (2, 3))
    x = rng.uniform(0.1, 2, (7, 3)), rng.uniform(-1, 1, (7, 3))
    assert_close(exported(model, (a, b), tmp_path / "f.onnx", x=x), model(Value(x[0]), Value(x[1])).data)


#: eager's own range: from where σ and softplus are subnormal to where e^x overflows, and beyond
EDGES = np.array([[-1000.0, -745.0, -709.0, -40.0, -37.0, -15.0, -11.0, -1e-300, 0.0, 1e-10, 11.0, 40.0, 709.0,
                   710.0, 800.0, 1e308]])


def assert_exact_where_finite(got, expected, rtol=1e-12):
    assert np.array_equal(np.isfinite(got), np.isfinite(expected)) and np.array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=rtol, atol=0)


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_issue15_examples6_and_7_sigmoid_and_softplus_exact_at_large_magnitudes(name, tmp_path):
    """onnxruntime's Sigmoid gives 0 from about -37 and its Softplus (ln(1 + e^x)) inf at 710 and 0 at -40:
    the export follows eager's own formulas instead."""
    fn = (lambda v: v.sigmoid()) if name == "sigmoid" else td.nn.functional.softplus
    got = exported(fn, EDGES, tmp_path / "f.onnx")
    assert_exact_where_finite(got, fn(Value(EDGES)).data)
    with np.errstate(over="ignore"):  # 1e308 is inf in float32
        x32 = EDGES.astype(np.float32)
    got32 = exported(fn, EDGES, tmp_path / "f32.onnx", x=x32, dtype="float32")
    expected = fn(Value(EDGES)).data
    normal = (np.abs(expected) > 1e-30) & (np.abs(EDGES) < 1e38)  # float32's own range
    np.testing.assert_allclose(got32[normal], expected[normal], rtol=1e-6)


def test_issue15_example7_bce_with_logits_follows_eager_at_large_logits(tmp_path):
    x = np.array([[800.0, -800.0, 30.0, 100.0, -40.0, 0.5]])
    y = np.array([[0.0, 1.0, 1.0, 1.0, 0.0, 0.25]])
    loss = td.nn.binary_cross_entropy_with_logits
    for i in range(x.shape[1]):  # each alone: a mean would hide the small ones
        got = exported(lambda a, b: loss(a, b), (x[:, i:i + 1], y[:, i:i + 1]), tmp_path / "bce.onnx")
        expected = loss(Value(x[:, i:i + 1]), y[:, i:i + 1]).data
        assert got == pytest.approx(expected, rel=1e-12, abs=0), (x[0, i], got, expected)


def test_max_and_min_give_nan_where_numpy_does(tmp_path):
    """onnxruntime's ReduceMax/ReduceMin skip nan; numpy's max of a row with nan is nan."""
    x = np.array([[0.0, -0.0, np.inf], [-np.inf, np.nan, 1.0]])
    example = np.array([[0.0, -0.0, 2.0], [-3.0, 4.0, 1.0]])
    for reduce in (lambda v: v.max(), lambda v: v.min(axis=0), lambda v: np.max(v * 1.0, axis=-1, keepdims=True)):
        got = exported(reduce, example, tmp_path / "f.onnx", x=x)
        np.testing.assert_array_equal(got, reduce(Value(x)).data)


def test_log1p_at_its_pole_and_beyond(tmp_path):
    x = np.array([[np.inf, -1.0, -2.0, np.nan, 1e308]])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.log1p(x)
    got = exported(lambda v: v.log1p(), np.array([[1.0, 0.5, 2.0, 3.0, 0.0]]), tmp_path / "f.onnx", x=x)
    np.testing.assert_array_equal(got, expected)


def test_expm1_near_overflow(tmp_path):
    x = np.array([[709.0, 709.7, 300.0, -745.0]])
    got = exported(lambda v: v.expm1(), np.array([[1.0, 2.0, 3.0, 4.0]]), tmp_path / "f.onnx", x=x)
    assert_close(got, np.expm1(x), rtol=1e-14)


def test_pow_uses_numpys_formulas_for_the_exponents_2_half_and_minus_1(tmp_path):
    """-inf ** 0.5 is nan in numpy (and eager), whose sqrt it is; C's pow (onnxruntime's Pow) gives inf."""
    a = np.array([[-np.inf, -0.0, 3.0, -np.inf, 0.0, -2.0]])
    b = np.array([[0.5, 0.5, 2.0, -1.0, -1.0, 3.0]])
    with np.errstate(all="ignore"):
        expected = (Value(a) ** Value(b)).data
        got = exported(lambda x, y: x ** y, (np.ones((1, 6)), np.ones((1, 6))), tmp_path / "p.onnx", x=(a, b))
        np.testing.assert_array_equal(got, expected)
        got = exported(lambda x: x ** 0.5, np.ones((1, 6)), tmp_path / "h.onnx", x=a)
        np.testing.assert_array_equal(got, (Value(a) ** 0.5).data)


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_and_cos_near_multiples_of_pi(name, tmp_path):
    """onnxruntime's Sin gives 0 at x = π (numpy: 1.2e-16), 100% off: the export reduces the argument itself."""
    k = np.array([1.0, 2.0, 3.0, -7.0, 1000.0, 123456.0])
    x = np.concatenate([k * np.pi, k * np.pi / 2, np.nextafter(k * np.pi, 0.0), [0.0, -0.0, 0.5, -3.0, 1e6, 3e7]])[None]
    fn = getattr(np, name)
    got = exported(lambda v: fn(v), np.ones_like(x), tmp_path / "t.onnx", x=x)
    assert_close(got, fn(x), rtol=1e-15)
    got32 = exported(lambda v: fn(v), np.ones_like(x), tmp_path / "t32.onnx", x=x.astype(np.float32), dtype="float32")
    expected32 = fn(x.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(got32, expected32, rtol=1e-6)
