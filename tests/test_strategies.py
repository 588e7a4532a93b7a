"""testing.strategies: the hypothesis strategies shipped to users draw what they promise, and without
hypothesis the module says in one line what to install."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_div import Function, gradcheck
from tinygrad_div.engine.ops import Exp, Mul, Sum
from tinygrad_div.testing import strategies as tds


@given(st.sampled_from(["real", "positive", "nonzero"]), st.sampled_from([(), (3,), (2, 2)]), st.data())
def test_arrays_are_float64_data_of_the_shape_and_in_the_domain(domain, shape, data):
    x = data.draw(tds.arrays(domain, shape))
    if shape == ():
        assert type(x) is float
    else:
        assert x.dtype == np.float64 and x.shape == shape
    magnitude = np.abs(np.asarray(x))
    assert np.all(magnitude <= tds.HIGH)
    if domain != "real":
        assert np.all(magnitude >= tds.LOW)
    if domain == "positive":
        assert np.all(np.asarray(x) > 0)


@given(st.data())
def test_distinct_and_bool_arrays(data):
    x = data.draw(tds.arrays("distinct", (2, 3)))
    assert len(np.unique(x)) == 6 and np.min(np.diff(np.sort(x.ravel()))) > 0.1
    mask = data.draw(tds.arrays("bool", (4,)))
    assert mask.dtype == np.bool_ and mask.shape == (4,)


@settings(max_examples=100)
@given(tds.edge_values((5,)), tds.edge_values(finite=True))
def test_edge_values_mix_edges_with_ordinary_numbers(x, y):
    assert x.dtype == np.float64 and x.shape == (5,)
    assert np.isfinite(y)


def test_edge_values_reach_inf_nan_and_signed_zero():
    seen = set()

    @settings(max_examples=200, derandomize=True)
    @given(tds.edge_values())
    def collect(x):
        seen.add("nan" if np.isnan(x) else "inf" if np.isinf(x) else "-0" if x == 0 and np.signbit(x) else "")

    collect()
    assert {"nan", "inf", "-0"} <= seen


@given(tds.broadcastable_shapes(3, min_ndim=1))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3 and all(len(s) >= 1 for s in shapes)
    np.broadcast_shapes(*shapes)


@given(tds.op_inputs(Mul))
def test_op_inputs_are_what_check_op_draws(case):
    datas, params = case
    assert len(datas) == 2 and params == {}
    np.broadcast_shapes(np.shape(datas[0]), np.shape(datas[1]))


class Softplus(Function, register=False):
    """y = ln(1 + e^x); dy/dx = σ(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1.0 + np.tanh(x / 2.0)) / 2.0


@settings(max_examples=15)
@given(tds.programs(include=[Softplus], min_ops=5, max_ops=30))
def test_a_user_op_in_random_programs_of_built_in_ones(program):
    assert Softplus in program.ops and 5 <= len(program.steps) <= 30
    y = program(*program.inputs)
    assert y.shape == () and np.isfinite(y.data)
    gradcheck(program, program.inputs)


def test_a_program_reads_as_code():
    program = tds.Program([np.array([1.0, 2.0])], [tds.Step(Exp, (0,)), tds.Step(Mul, (1, 0)),
                                                   tds.Step(Sum, (2,))])
    assert str(program) == ("def program(x0):\n    v0 = Exp.apply(x0)\n    v1 = Mul.apply(v0, x0)\n"
                            "    v2 = Sum.apply(v1)\n    return v2")
    assert program(np.array([1.0, 2.0])).data == np.e + 2 * np.e ** 2


def test_program_ops_leave_out_kinks_and_masks():
    names = {op.__name__ for op in tds.program_ops()}
    assert {"Add", "Mul", "Exp", "Log", "Softmax", "Sum"} <= names
    assert not names & {"Maximum", "Clip", "Max", "Where", "MatMul"}


def test_without_hypothesis_the_strategies_module_says_what_to_install_in_one_line():
    script = ("import sys; sys.modules['hypothesis'] = None\n"
              "import tinygrad_div.testing as t\n"
              "print(t.locate_wrong_gradient.__name__)\n"  # the hypothesis-free part still imports
              "try:\n    import tinygrad_div.testing.strategies\n"
              "except ImportError as e:\n    print(type(e).__name__, e)\n"
              "try:\n    t.check_op\n"
              "except ImportError as e:\n    print(type(e).__name__, e)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "locate_wrong_gradient",
        'ModuleNotFoundError tinygrad_div.testing.strategies needs hypothesis: pip install "tinygrad_div[dev]"',
        'ModuleNotFoundError tinygrad_div.testing.strategies needs hypothesis: pip install "tinygrad_div[dev]"',
    ]
