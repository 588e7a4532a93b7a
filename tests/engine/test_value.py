"""Value: what it stores, how it mixes with numbers and numpy arrays, and how it refuses bad data."""

import numpy as np
import pytest

from tinygrad_div import DataError, ShapeError, Value, grad


class TestStorage:
    def test_scalars_are_python_floats(self):
        for x in (3, 3.0, np.float32(3.0), np.array(3.0), True):
            v = Value(x)
            assert type(v.data) is float and v.shape == ()

    def test_arrays_are_float64_copies(self):
        source = np.array([1, 2, 3], dtype=np.int32)
        v = Value(source)
        assert v.data.dtype == np.float64 and v.shape == (3,)
        floats = np.array([1.0, 2.0])
        w = Value(floats)
        floats[0] = 99.0
        assert w.data[0] == 1.0, "Value must not alias the caller's array"

    def test_nested_lists(self):
        assert Value([[1, 2], [3, 4]]).shape == (2, 2)

    @pytest.mark.parametrize("bad", ["abc", None, b"x", np.array(["a"]), [1, "b"], 1 + 2j, object()])
    def test_non_numeric_data_is_refused_with_one_line(self, bad):
        with pytest.raises(DataError) as info:
            Value(bad)
        assert "\n" not in str(info.value)

    def test_ragged_lists_are_refused(self):
        with pytest.raises(DataError, match="rectangular"):
            Value([[1, 2], [3]])

    def test_item_and_numpy(self):
        assert Value([2.5]).item() == 2.5
        assert Value(1.5).item() == 1.5
        np.testing.assert_array_equal(Value([1.0, 2.0]).numpy(), [1.0, 2.0])
        np.testing.assert_array_equal(np.asarray(Value([1.0, 2.0])), [1.0, 2.0])
        with pytest.raises(ValueError, match="one element"):
            Value([1.0, 2.0]).item()

    def test_repr_names_the_op(self):
        assert "op=Mul" in repr(Value(2.0) * 3)
        assert repr(Value(2.0, requires_grad=False)) == "Value(2., requires_grad=False)"


class TestOperators:
    def test_numbers_on_either_side(self):
        v = Value(4.0)
        assert (v + 1).data == 5.0 and (1 + v).data == 5.0
        assert (v - 1).data == 3.0 and (1 - v).data == -3.0
        assert (v * 2).data == 8.0 and (2 * v).data == 8.0
        assert (v / 2).data == 2.0 and (2 / v).data == 0.5
        assert (v**2).data == 16.0 and (2**v).data == 16.0
        assert (-v).data == -4.0

    def test_numpy_array_on_the_left_gives_a_value(self):
        v = Value([1.0, 2.0, 3.0])
        for result in (np.ones(3) + v, np.ones(3) * v, np.ones(3) - v, np.ones(3) / v, np.ones((2, 3)) @ v):
            assert isinstance(result, Value), type(result)
        np.testing.assert_array_equal((np.ones(3) - v).data, [0.0, -1.0, -2.0])

    def test_numpy_scalar_on_the_left_gives_a_value(self):
        assert isinstance(np.float64(2.0) * Value(3.0), Value)

    def test_value_exponent(self):
        base, exponent = Value(2.0), Value(3.0)
        y = base**exponent
        y.backward()
        assert y.data == 8.0
        assert base.grad == pytest.approx(12.0)
        assert exponent.grad == pytest.approx(8.0 * np.log(2.0))

    def test_a_constant_base_gives_the_exponent_its_gradient(self):
        """2.0 ** x, numpy bases too: dy/dx = 2^x·ln 2 with only the exponent requiring grad, to second order."""
        x = Value(3.0)
        (2.0**x).backward()
        assert x.grad == 8.0 * np.log(2.0)
        data = np.array([0.5, -1.0, 3.0])
        for base in (2.0, np.float64(2.0), np.full(3, 2.0)):
            x = Value(data)
            (base**x).sum().backward()
            np.testing.assert_array_equal(x.grad, 2.0**data * np.log(2.0))
        x = Value(data)
        (first,) = grad((2.0**x).sum(), x, create_graph=True)
        (second,) = grad(first.sum(), x)
        np.testing.assert_allclose(second, 2.0**data * np.log(2.0) ** 2, rtol=1e-15)

    def test_an_array_to_a_zero_exponent_number_has_zero_base_gradients_in_its_shape(self):
        """Pow's rule gives +0 in the base's shape (not a number the engine would have to expand)."""
        x = Value(np.array([0.0, -2.0, np.nan, np.inf]))
        with np.errstate(all="ignore"):
            (x**0.0).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0] and not np.signbit(x.grad).any()

    def test_a_constant_zero_exponent_gives_recorded_gradients_the_raw_bits(self):
        """x ** 0 under create_graph: exactly +0 wherever b = 0, whatever the upstream gradient (inf, nan, a
        negative number), the raw rule's bits; never upstream·0 (nan, -0.0)."""
        data = np.array([0.0, 2.0, 3.0, -1.0, np.nan, np.inf])
        upstream = np.array([-1.0, np.inf, np.nan, 2.0, 1.0, -1.0])
        with np.errstate(all="ignore"):
            for exponent in (np.zeros(6), Value(np.zeros(6), requires_grad=False)):
                for create_graph in (False, True):
                    x = Value(data)
                    (g,) = grad(x**exponent, x, upstream, create_graph=create_graph)
                    got = g.data if isinstance(g, Value) else g
                    assert got.tolist() == [0.0] * 6 and not np.signbit(got).any()
            for a in (0.0, -0.0, np.nan):
                x = Value(a)
                (g,) = grad(x ** Value(0.0, requires_grad=False), x, -1.0, create_graph=True)
                assert g.data == 0.0 and not np.signbit(g.data)

    def test_integer_power_of_a_negative_base_has_a_gradient(self):
        x = Value(-3.0)
        (x**2).backward()
        assert x.grad == -6.0

    def test_matmul_shapes_follow_numpy(self):
        rng = np.random.default_rng(0)
        for sa, sb in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4))]:
            a, b = rng.standard_normal(sa), rng.standard_normal(sb)
            np.testing.assert_array_equal((Value(a) @ Value(b)).data, a @ b)

    def test_shape_mismatch_names_the_op_and_both_shapes(self):
        with pytest.raises(ShapeError) as info:
            Value(np.ones(2)) + Value(np.ones(3))
        message = str(info.value)
        assert "Add" in message and "(2,)" in message and "(3,)" in message and "\n" not in message

    def test_matmul_mismatch_names_the_op_and_both_shapes(self):
        with pytest.raises(ShapeError) as info:
            Value(np.ones((2, 3))) @ Value(np.ones((2, 3)))
        message = str(info.value)
        assert "MatMul" in message and "(2, 3) and (2, 3)" in message

    def test_non_numeric_operand_is_refused(self):
        with pytest.raises(DataError):
            Value(1.0) + "x"


class TestMethods:
    def test_reductions_take_numpy_axis_arguments(self):
        data = np.arange(24.0).reshape(2, 3, 4)
        v = Value(data)
        for axis in (None, 0, -1, (0, 2), (-1, -3)):
            for keepdims in (False, True):
                np.testing.assert_array_equal(v.sum(axis, keepdims).data, data.sum(axis=axis, keepdims=keepdims))
                np.testing.assert_array_equal(
                    v.mean(axis=axis, keepdims=keepdims).data, data.mean(axis=axis, keepdims=keepdims)
                )

    def test_bad_axis_is_a_shape_error(self):
        with pytest.raises(ShapeError, match="Sum"):
            Value(np.ones(3)).sum(axis=2)

    def test_reshape_and_transpose(self):
        data = np.arange(6.0).reshape(2, 3)
        v = Value(data)
        assert v.reshape(3, 2).shape == (3, 2) and v.reshape((6,)).shape == (6,)
        np.testing.assert_array_equal(v.T.data, data.T)
        np.testing.assert_array_equal(v.transpose(1, 0).data, data.T)
        with pytest.raises(ShapeError, match="Reshape"):
            v.reshape(4)

    def test_indexing_is_recorded(self):
        v = Value([1.0, 2.0, 3.0])
        v[np.array([0, 0, 2])].sum().backward()
        np.testing.assert_array_equal(v.grad, [2.0, 0.0, 1.0])


def test_numbers_beyond_float64_are_refused():
    with pytest.raises(DataError, match="float64"):
        Value(10**400)


@pytest.mark.parametrize("flag", ["no", 1, None, 0.0, np.array(True)])
def test_requires_grad_must_be_a_bool(flag):
    with pytest.raises(TypeError, match=r"^requires_grad must be True or False, got \w+"):
        Value(1.0, requires_grad=flag)
    assert Value(1.0, requires_grad=np.bool_(False)).requires_grad is False


def test_float_of_a_one_element_value_of_any_shape():
    assert float(Value(2.5)) == 2.5 and float(Value([[3.0]])) == 3.0
    with pytest.raises(TypeError, match=r"float\(\) needs a Value with one element, this one has shape \(2,\)"):
        float(Value([1.0, 2.0]))


def test_reducing_a_scalar_over_its_last_axis_is_the_scalar_as_in_numpy():
    assert Value(0.0).sum(axis=-1).data == np.sum(0.0, axis=-1) == 0.0


@pytest.mark.parametrize("spec", ["", ".4f", "8.2e", "+.3g", ">10", ".1%"])
def test_a_scalar_formats_as_a_float(spec):
    assert format(Value(-1234.56789), spec) == format(-1234.56789, spec)
    assert f"{Value(0.5):{spec}}" == f"{0.5:{spec}}"


def test_an_array_formats_as_numpy_prints_it_each_number_in_the_spec():
    data = np.array([[0.25, -1.5], [1e-3, 2.0]])
    assert f"{Value(data)}" == str(data)
    assert f"{Value(data):.2f}" == "[[ 0.25 -1.50]\n [ 0.00  2.00]]"
    with pytest.raises(ValueError, match="Unknown format code 'd'"):
        f"{Value(data):d}"


def test_format_matches_torchs_for_a_scalar():
    torch = pytest.importorskip("torch")
    assert f"{Value(2 / 3):.5f} {Value(1e-9):e}" == f"{torch.tensor(2 / 3, dtype=torch.float64):.5f} " \
        f"{torch.tensor(1e-9, dtype=torch.float64):e}"


DIM_CALLS = [  # method, the call with axis=, the call with dim=
    ("sum", {"axis": 0}, {"dim": 0}), ("mean", {"axis": (0, 1)}, {"dim": (0, 1)}),
    ("max", {"axis": 1, "keepdims": True}, {"dim": 1, "keepdims": True}), ("min", {"axis": -1}, {"dim": -1}),
    ("argmax", {"axis": 1}, {"dim": 1}), ("argmin", {"axis": 0}, {"dim": 0}),
    ("softmax", {"axis": 0}, {"dim": 0}), ("log_softmax", {"axis": 0}, {"dim": 0}),
    ("logsumexp", {"axis": 1}, {"dim": 1}), ("expand_dims", {"axis": 1}, {"dim": 1}),
]


@pytest.mark.parametrize("method, with_axis, with_dim", DIM_CALLS, ids=[c[0] for c in DIM_CALLS])
def test_dim_is_accepted_wherever_axis_is(method, with_axis, with_dim):
    v = Value(np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]]))
    by_axis, by_dim = getattr(v, method)(**with_axis), getattr(v, method)(**with_dim)
    np.testing.assert_array_equal(getattr(by_dim, "data", by_dim), getattr(by_axis, "data", by_axis))
    with pytest.raises(TypeError, match=rf"^{method}\(\) got both axis= and dim= \(dim is torch's name for axis\)"):
        getattr(v, method)(**with_axis, dim=0)


def test_both_axis_and_dim_are_refused_even_at_the_default_axis():
    v = Value(np.ones((2, 3)))
    np.testing.assert_array_equal(v.softmax().data, v.softmax(axis=-1).data)
    with pytest.raises(TypeError, match="got both axis= and dim="):
        v.softmax(axis=-1, dim=0)
    assert v.sum(axis=None, dim=0).shape == (3,)  # axis=None is "not given", as torch's dim=None
    assert Value(np.ones((2, 1))).squeeze(dim=1).shape == (2,)
    with pytest.raises(TypeError, match=r"^expand_dims\(\) needs the axis to insert: axis= \(or dim=\)$"):
        v.expand_dims()
