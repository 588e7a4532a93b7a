"""check_op's hooks: each lets a correct op pass and, as a negative control, catches a wrong backward."""

import numpy as np
import pytest

from tinygrad_div import Function
from tinygrad_div.testing import OpCheckError, OpHookError, check_op


def row_scale(wrong: bool):
    class RowScale(Function, register=False):
        """y[n, c] = x[n, c]·w[n];  dy/dx = w[n], dy/dw[n] = Σ_c grad·x over the row"""

        shapes = ("N,C", "N")
        seen: list = []

        @staticmethod
        def forward(ctx, x, w):
            RowScale.seen.append((np.shape(x), np.shape(w)))
            ctx.save_for_backward(x, w)
            return x * w[:, None]

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            grad_w = (grad * x)[:, 0] if wrong else (grad * x).sum(axis=1)  # wrong: right only for C = 1
            return grad * w[:, None], grad_w

    return RowScale


def test_shape_specs_draw_related_shapes():
    op = row_scale(wrong=False)
    check_op(op, examples=10)
    assert all(len(x) == 2 and w == x[:1] for x, w in op.seen)
    assert any(x[1] > 1 for x, _ in op.seen)


def test_shape_specs_negative_control():
    with pytest.raises(OpCheckError, match="RowScale failed its gradient check .* input 1"):
        check_op(row_scale(wrong=True), examples=10)


def test_a_malformed_shape_spec_is_explained():
    op = row_scale(wrong=False)
    op.shapes = ("N,C", "N-1")
    with pytest.raises(OpCheckError, match=r"RowScale.shapes: 'N-1' is not a dimension"):
        check_op(op, examples=2)
    op.shapes = ("N,C",)
    with pytest.raises(OpCheckError, match="RowScale.shapes describes 1 inputs, forward takes 2"):
        check_op(op, examples=2)


def cumulative_sum(wrong: bool):
    class CumSum(Function, register=False):
        """y = running sum along the last axis;  dy/dx: the running sum of grad from the end"""

        min_ndim = 1  # a running sum needs an axis

        @staticmethod
        def forward(ctx, x):
            assert np.ndim(x) >= 1, "drawn a scalar despite min_ndim"
            return np.cumsum(x, axis=-1)

        @staticmethod
        def backward(ctx, grad):
            if wrong:
                return grad  # right only for one element per row
            return np.flip(np.cumsum(np.flip(grad, -1), -1), -1)

    return CumSum


def test_min_ndim_draws_no_scalars():
    check_op(cumulative_sum(wrong=False), examples=10, second_order=False)


def test_min_ndim_negative_control():
    with pytest.raises(OpCheckError, match="CumSum failed its gradient check"):
        check_op(cumulative_sum(wrong=True), examples=10, second_order=False)


def user_maximum(wrong: bool):
    class UserMaximum(Function, register=False):
        """y = max(a, b);  dy/da = [a > b], dy/db = [a < b]"""

        domain = "distinct"

        @staticmethod
        def forward(ctx, a, b):
            ctx.a_wins = np.asarray(a > b, dtype=np.float64)
            return np.maximum(a, b)

        @staticmethod
        def backward(ctx, grad):
            wins = 1.0 if wrong else ctx.a_wins  # wrong: always a's
            return grad * wins, grad * (1.0 - wins)

    return UserMaximum


def test_distinct_domain_lets_a_correct_maximum_pass():
    """Without "distinct", a = b draws (hypothesis likes 0.0 for both) sit on the kink and fail it."""
    check_op(user_maximum(wrong=False), examples=30)


def test_distinct_domain_negative_control():
    with pytest.raises(OpCheckError, match="UserMaximum failed its gradient check"):
        check_op(user_maximum(wrong=True), examples=10)


def test_without_distinct_a_correct_maximum_fails_at_the_kink():
    op = user_maximum(wrong=False)
    op.domain = "real"
    with pytest.raises(OpCheckError):
        check_op(op, examples=30)


def user_where(wrong: bool):
    class Select(Function, register=False):
        """y = a where mask else b;  dy/da = mask, dy/db = not mask"""

        domain = ("bool", "real", "real")

        @staticmethod
        def forward(ctx, mask, a, b):
            ctx.mask = np.asarray(mask, dtype=bool)
            return np.where(ctx.mask, a, b) * 1.0

        @staticmethod
        def backward(ctx, grad):
            picked = ctx.mask * 1.0
            if wrong:
                picked = 1.0 - picked
            return None, grad * picked, grad * (1.0 - picked)

    return Select


def test_bool_domain_draws_masks_and_checks_the_other_inputs():
    check_op(user_where(wrong=False), examples=15)


def test_bool_domain_negative_control():
    with pytest.raises(OpCheckError, match="Select failed its gradient check"):
        check_op(user_where(wrong=True), examples=15)


def picking(wrong: bool, hook=None):
    class Pick(Function, register=False):
        """y[n] = x[n, index[n]]  (index: drawn integer keyword params);  dy/dx: grad at the picked entries"""

        @staticmethod
        def draw_inputs(draw):
            from hypothesis import strategies as st

            n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
            x = np.array(draw(st.lists(st.floats(-2, 2), min_size=n * c, max_size=n * c))).reshape(n, c)
            index = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
            return [x], {"index": index}

        @staticmethod
        def forward(ctx, x, *, index):
            ctx.shape, ctx.index = x.shape, index
            return x[np.arange(len(index)), index]

        @staticmethod
        def backward(ctx, grad):
            out = np.zeros(ctx.shape)
            out[np.arange(len(ctx.index)), 0 if wrong else ctx.index] = grad  # wrong: always column 0
            return out

    if hook is not None:
        Pick.draw_inputs = staticmethod(hook)
    return Pick


def test_draw_inputs_supplies_inputs_and_params():
    report = check_op(picking(wrong=False), examples=10, second_order=False)
    assert report.examples == 10


def test_draw_inputs_negative_control():
    with pytest.raises(OpCheckError, match="Pick failed its gradient check"):
        check_op(picking(wrong=True), examples=20, second_order=False)


def test_an_exception_in_draw_inputs_is_reported_as_the_hooks():
    def broken(draw):
        raise KeyError("no such label")

    with pytest.raises(OpHookError, match=r"^Pick.draw_inputs raised KeyError: 'no such label'") as info:
        check_op(picking(wrong=False, hook=broken), examples=3)
    assert isinstance(info.value.__cause__, KeyError)  # the user's own exception, with its traceback


def test_draw_inputs_must_return_inputs_and_params():
    with pytest.raises(OpHookError, match=r"Pick.draw_inputs must return \(inputs, params\)"):
        check_op(picking(wrong=False, hook=lambda draw: [np.ones(2)]), examples=3)


class Scale(Function, register=False):
    """y = x·k;  dy/dx = k   (k: a keyword parameter from example_params)"""

    @staticmethod
    def forward(ctx, x, *, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k


def test_an_exception_in_example_params_is_reported_as_the_hooks():
    class BadParams(Scale, register=False):
        @staticmethod
        def example_params(*shapes):
            raise ValueError("window size must be odd")

    with pytest.raises(OpHookError, match=r"^BadParams.example_params raised ValueError: window size must be odd"):
        check_op(BadParams, examples=3)


def test_example_params_must_return_a_list_of_dicts():
    class WrongFormat(Scale, register=False):
        @staticmethod
        def example_params(*shapes):
            return {"k": 2.0}

    with pytest.raises(OpHookError, match=r"WrongFormat.example_params must return a list of dicts"):
        check_op(WrongFormat, examples=3)


def test_example_params_reach_forward():
    class Scaled(Scale, register=False):
        @staticmethod
        def example_params(*shapes):
            return [{"k": 2.0}, {"k": -0.5}]

    assert check_op(Scaled, examples=5).examples == 5


class SquareWithConstantSlope(Function, register=False):
    """y = x²; backward 2·x computed from raw data: right first derivative, no second derivative"""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        return grad * (2.0 * ctx.x)


def test_a_second_order_failure_says_second_derivative():
    with pytest.raises(OpCheckError, match=r"^SquareWithConstantSlope failed its second-derivative check on inputs"):
        check_op(SquareWithConstantSlope, examples=5)
    assert check_op(SquareWithConstantSlope, examples=5, second_order=False).examples == 5


def test_a_rule_right_only_for_one_element_fails_however_few_examples():
    """The fixed full-shape cases run after the drawn ones, so one drawn scalar is not enough to pass."""

    class Flip(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x if np.ndim(x) == 0 else x[..., ::-1].copy()

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(OpCheckError, match="Flip failed its gradient check"):
        check_op(Flip, examples=1)


def sin_cos(wrong: bool):
    class SinCos(Function, register=False):
        """(sin x, cos x);  dL/dx = g_sin·cos x - g_cos·sin x"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x), np.cos(x)

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            (x,) = ctx.saved_tensors
            return grad_sin * np.cos(x) + (1.0 if wrong else -1.0) * grad_cos * np.sin(x)

    return SinCos


def test_an_op_with_several_outputs_is_checked_on_all_of_them():
    assert check_op(sin_cos(wrong=False), examples=10).examples == 10


def test_several_outputs_negative_control():
    with pytest.raises(OpCheckError, match="SinCos failed its gradient check"):
        check_op(sin_cos(wrong=True), examples=10)


def labels_op(wrong: bool):
    class NegLogLikelihood(Function, register=False):
        """L = -mean_n z[n, t[n]] with integer labels t as an input;  dL/dz = -onehot(t) / N"""

        shapes = ("N,C", "N")
        seen: list = []

        @staticmethod
        def draw_inputs(draw):
            from hypothesis import strategies as st

            from tinygrad_div.testing import data_in

            n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
            t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
            return [draw(data_in("real", (n, c))), t], {}

        @staticmethod
        def forward(ctx, z, t):
            NegLogLikelihood.seen.append(t.dtype.kind)
            ctx.save_for_backward(z, t)
            return -np.mean(z[np.arange(len(t)), t])

        @staticmethod
        def backward(ctx, grad):
            z, t = ctx.saved_tensors
            onehot = np.eye(z.shape[1])[np.zeros_like(t) if wrong else t]
            return -grad * onehot / len(t), None

    return NegLogLikelihood


def test_integer_inputs_are_passed_unperturbed_to_forward():
    op = labels_op(wrong=False)
    check_op(op, examples=10)
    assert set(op.seen) == {"i"}


def test_integer_inputs_negative_control():
    with pytest.raises(OpCheckError, match="NegLogLikelihood failed its gradient check"):
        check_op(labels_op(wrong=True), examples=20)
