"""Mutation testing of the gradient code: does the suite catch a wrong backward rule?

    python tests/mutate.py                 # every mutant, against the suite as it is
    python tests/mutate.py --only pow-,relu-   # the mutants whose id starts with "pow-" or "relu-"
    python tests/mutate.py --tests-from REV   # the same mutants against the tests of commit REV
    python tests/mutate.py --list

Each mutant is one hand-written textual change to one file of a backward rule
(tinygrad_div/engine/ops/, nn/functional.py) or of the engine's gradient bookkeeping (autograd, function,
value). The runner copies the repository to a temporary directory once, then for each
mutant: applies the change, runs the relevant tests (`pytest -x -q`, hypothesis in its
deterministic "ci" profile), records killed (the suite failed) or survived, and restores
the file. The unmutated copy must pass first, or every mutant would look killed.

A mutant whose original text is not found exactly once stops the run with an error
naming it: when the code changes, the mutant is rewritten rather than silently skipped.
A development tool (docs/mutation.md), not part of CI; it is not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: test_gradcheck.py first: it runs in a fraction of a second and kills gradcheck's own mutants (-x stops there)
TESTS = ["tests/test_gradcheck.py", "tests/engine", "tests/nn", "tests/test_testing.py", "tests/test_anomaly.py",
         "tests/test_cross_path.py"]
#: the tests that kill td.compile's mutants: its own and the cross-path registry (the engine's never run a program)
COMPILE_TESTS = ("tests/compile", "tests/test_compile.py", "tests/test_cross_path.py")
TIMEOUT = 600  # seconds; a mutant that hangs the suite counts as killed


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str  # relative to the repository root
    original: str  # must occur exactly once in the file
    mutated: str
    why: str  # what a user would get wrong
    tests: tuple[str, ...] = ()  # the tests that must kill it; () means TESTS


def _default(id: str, signature: str, old: str, new: str, why: str) -> Mutant:
    """A mutant of one keyword default in one of gradcheck.py's signatures."""
    return Mutant(id, GRADCHECK, signature, signature.replace(old, new), why)


OPS = "tinygrad_div/engine/ops/"
ONNX = "tinygrad_div/onnx/"
#: the export path's mutants run the export tests (an ONNX mutant cannot change what the engine's tests see)
EXPORT_TESTS = ("tests/onnx", "tests/commands/test_export_command.py", "tests/test_cross_path.py")
ENGINE = "tinygrad_div/engine/"
NN = "tinygrad_div/nn/"
_OP_CHECK = "tests/engine/test_ops.py::test_every_builtin_op_matches_finite_differences"
CROSSPATH = "tinygrad_div/crosspath/"
#: the cross-path registry's mutants run its test (its self-tests hold each comparison to a wrong path)
CROSSPATH_TESTS = ("tests/test_cross_path.py",)
GRADCHECK = "tinygrad_div/gradcheck.py"
OPTIM = "tinygrad_div/optim/"
DATA = "tinygrad_div/data.py"
#: the training kit's mutants run its tests
KIT_TESTS = ("tests/optim", "tests/nn/test_optim.py", "tests/nn/test_optimizers.py", "tests/nn/test_utils.py",
             "tests/nn/test_losses.py", "tests/nn/test_loss_reductions.py", "tests/test_data_loading.py",
             "tests/engine/test_value.py", "tests/engine/test_ops_functional.py", "tests/test_gradcheck.py")
# the keyword defaults of gradcheck, compare_gradients and gradgradcheck, each told apart by what follows them
_DEFAULTS = "    eps: float = 1e-6,\n    atol: float = 1e-5,\n    rtol: float = 1e-3,\n    seed: int = 0,\n"
_GRADCHECK = _DEFAULTS + ") -> bool:\n    \"\"\"Check `fn`'s gradients"
_COMPARE = _DEFAULTS + ") -> GradientErrors:"
_GRADGRAD = _DEFAULTS + "    projections: int = 2,"
_CONTRACT_CALL = "    if ctx is not None:  # ctx None: a seed, whose shape _seed checked (only its type differs)\n"
_TOLERANCES, _SWAPPED = "atol: float = 1e-5,\n    rtol: float = 1e-3", "atol: float = 1e-3,\n    rtol: float = 1e-5"

MUTANTS = [
    # -- arithmetic -------------------------------------------------------------------------
    Mutant("add-b", OPS + "arithmetic.py", "        return grad, grad\n", "        return grad, grad * 0.5\n",
           "Add's second gradient halved"),
    Mutant("sub-sign", OPS + "arithmetic.py", "        return grad, -grad\n", "        return grad, grad\n",
           "Sub's second gradient with the wrong sign"),
    Mutant("neg-sign", OPS + "arithmetic.py", "        return (-grad,)\n", "        return (grad,)\n",
           "Neg passing the gradient through unchanged"),
    Mutant("mul-swap", OPS + "arithmetic.py", "return grad * b, grad * a", "return grad * a, grad * b",
           "Mul's two gradients swapped"),
    Mutant("div-a", OPS + "arithmetic.py", "grad_a = divide(grad, b)", "grad_a = divide(grad, a)",
           "Div's first gradient divided by the wrong operand"),
    Mutant("div-b-sign", OPS + "arithmetic.py", "divide(-grad_a * a, b)", "divide(grad_a * a, b)",
           "Div's second gradient with the wrong sign"),
    Mutant("pow-a-scalar", OPS + "arithmetic.py", "if b == 0.0 else grad * b * power(a, b - 1.0)",
           "if b == 0.0 else grad * b * power(a, b)", "Pow's base gradient off by one in the exponent"),
    Mutant("pow-a-zero-exponent", OPS + "arithmetic.py", "grad_a = _zero_like(a) if b == 0.0 else",
           "grad_a = grad * b * power(a, b - 1.0) if b == 0.0 else", "a**0 at a = 0 gives 0·inf = nan"),
    Mutant("pow-a-array", OPS + "arithmetic.py",
           "            else:\n                grad_a = grad * b * power(a, b - 1.0)\n",
           "            else:\n                grad_a = grad * power(a, b - 1.0)\n",
           "Pow's base gradient for array exponents without the factor b"),
    Mutant("pow-a-array-zero", OPS + "arithmetic.py", "            if zero.any():", "            if False:",
           "a**zeros(n) at a = 0 gives nan (the issue's bug 2)"),
    Mutant("pow-a-recorded", OPS + "arithmetic.py", "power(a + np.where(zero & (raw(a) == 0.0), 1.0, -0.0), b - 1.0)",
           "power(a + np.where(raw(a) == 0.0, 1.0, -0.0), b - 1.0)",
           "recorded base gradient shifted at a = 0 for any b"),
    Mutant("pow-a-recorded-zero-select", OPS + "arithmetic.py",
           "Where.apply(zero & finite, kept, Where.apply(zero, 0.0, grad_a))",
           "Where.apply(zero & finite, kept, grad_a)",
           "recorded a**0 with an infinite or nan upstream gradient: nan (raw: +0)"),
    Mutant("pow-a-recorded-signed-zero", OPS + "arithmetic.py", "np.where(zero & (raw(a) == 0.0), 1.0, -0.0)",
           "np.where(zero & (raw(a) == 0.0), 1.0, 0.0)",
           "recorded (-0.0) ** -2 gives -inf where eager gives inf: adding +0.0 turns a = -0.0 into +0.0"),
    Mutant("pow-a-recorded-zero-exponent", OPS + "arithmetic.py",
           "            if np.any(zero):  # exactly +0 where b = 0", "            if False:  # exactly +0 where b = 0",
           "recorded base gradient at b = -0.0 is -0.0 (or nan at a = nan) where eager's is exactly +0"),
    Mutant("pow-a-recorded-zero-exponent-cut", OPS + "arithmetic.py",
           "Where.apply(zero & finite, kept, Where.apply(zero, 0.0, grad_a))", "Where.apply(zero, 0.0, grad_a)",
           "recorded base gradient at b = 0 selected as a constant: the mixed second derivative 1/a lost"),
    Mutant("pow-b-base-zero", OPS + "arithmetic.py", "np.log(a + ((raw(a) == 0.0) & (raw(b) >= 0.0)))",
           "np.log(a)", "exponent gradient at base 0 is 0·(-inf) = nan (the issue's bug 1)"),
    Mutant("pow-b-negative-base", OPS + "arithmetic.py", "np.log(a + ((raw(a) == 0.0) & (raw(b) >= 0.0)))",
           "np.log(np.abs(a) + ((raw(a) == 0.0) & (raw(b) >= 0.0)))",
           "exponent gradient finite for a negative base (PyTorch: nan)"),
    Mutant("pow-b-zero-exponent", OPS + "arithmetic.py", "(raw(b) >= 0.0)))", "(raw(b) > 0.0)))",
           "0**0's exponent gradient -inf"),
    Mutant("pow-b-factor", OPS + "arithmetic.py", "grad_b = grad * out * np.log", "grad_b = grad * np.log",
           "exponent gradient without the factor a^b"),
    Mutant("numeric-raw", OPS + "numeric.py", "return x.data if isinstance(x, Value) else x",
           'return getattr(x, "data", x)', "raw() reading an ndarray's memoryview (the issue's bug 1)"),
    Mutant("numeric-exact-powers", OPS + "numeric.py", "        if where.any():\n", "        if False:\n",
           "array exponents 2, 0.5, -1 off by one bit from scalar ones"),
    # -- elementwise ------------------------------------------------------------------------
    Mutant("exp", OPS + "elementwise.py", "        return grad * out\n", "        return grad * out * out\n",
           "Exp's gradient squared"),
    Mutant("log", OPS + "elementwise.py", "        return divide(grad, a)\n", "        return divide(grad, a * a)\n",
           "Log's gradient 1/a²"),
    Mutant("sigmoid", OPS + "elementwise.py", "        out *= r  # in place on arrays (one temporary, not three); "
           "a plain product on floats and Values\n        out *= r\n",
           "        out *= r  # in place on arrays (one temporary, not three); a plain product on floats and Values\n",
           "Sigmoid's gradient missing a factor r"),
    Mutant("sigmoid-second-order", OPS + "elementwise.py", "return _logistic_parts(inputs[0])",
           "return _logistic_parts(inputs[0].detach())", "Sigmoid's second derivative lost (saved values constant)"),
    Mutant("tanh", OPS + "elementwise.py", "return grad * 4.0 * z * r * r", "return grad * 2.0 * z * r * r",
           "Tanh's gradient halved"),
    Mutant("relu-scalar-kink", OPS + "elementwise.py", "passes = a > 0.0 or a != a", "passes = a >= 0.0 or a != a",
           "ReLU' at 0 is 1 for scalars (PyTorch: 0)"),
    Mutant("relu-array-kink", OPS + "elementwise.py", "ctx.save_for_backward(out != 0.0)",
           "ctx.save_for_backward(a >= 0.0)", "ReLU' at 0 is 1 for arrays (PyTorch: 0)"),
    Mutant("relu-array-nan", OPS + "elementwise.py", "ctx.save_for_backward(out != 0.0)",
           "ctx.save_for_backward(a > 0.0)", "ReLU' at nan is 0 for arrays, 1 for scalars"),
    Mutant("relu-backward", OPS + "elementwise.py", "        return grad * mask\n", "        return grad\n",
           "ReLU passing every gradient"),
    Mutant("abs-scalar-zero", OPS + "elementwise.py", "(-1.0 if a < 0.0 else 0.0)", "(-1.0 if a < 0.0 else 1.0)",
           "Abs' at 0 is 1 for scalars (PyTorch: 0)"),
    Mutant("abs-array-zero", OPS + "elementwise.py", "        sign = np.sign(a)\n",
           "        sign = np.where(a < 0.0, -1.0, 1.0)\n", "Abs' at 0 is 1 for arrays (PyTorch: 0)"),
    Mutant("abs-array-nan", OPS + "elementwise.py",
           "        np.copyto(sign, 0.0, where=sign != sign)  # np.sign(nan) is nan\n",
           "", "Abs' at nan is nan for arrays, 0 for scalars (the issue's bug 3)"),
    Mutant("abs-backward", OPS + "elementwise.py", "        return grad * sign\n", "        return grad * abs(sign)\n",
           "Abs' always positive"),
    # -- reductions, shapes, indexing, matmul -------------------------------------------------
    Mutant("sum-spread", OPS + "reduce.py", "return spread(grad, ctx.kept_shape, ctx.input_shape)",
           "return spread(grad * 2.0, ctx.kept_shape, ctx.input_shape)", "Sum's gradient doubled"),
    Mutant("mean-count", OPS + "reduce.py", "return spread(divide(grad, ctx.count), ctx.kept_shape, ctx.input_shape)",
           "return spread(grad, ctx.kept_shape, ctx.input_shape)", "Mean's gradient not divided by n"),
    Mutant("transpose-inverse", OPS + "shape.py", "inverse = None if ctx.axes is None else tuple(np.argsort(ctx.axes))",
           "inverse = ctx.axes", "Transpose's gradient permuted forwards, not back"),
    Mutant("getitem-repeated", OPS + "shape.py", "    np.add.at(out, index, grad)\n", "    out[index] = grad\n",
           "repeated indices overwrite instead of adding up"),
    Mutant("scatter-raw-index", OPS + "shape.py", "else grad[ctx.index]", "else grad",
           "ScatterAdd's raw backward ignores its index (second order through indexing)"),
    Mutant("scatter-recorded-index", OPS + "shape.py", "GetItem.apply(grad, index=ctx.index) if isinstance",
           "GetItem.apply(grad, index=slice(None)) if isinstance",
           "ScatterAdd's recorded backward ignores its index (third order through indexing)"),
    Mutant("sum-to-shape", OPS + "shape.py", "if n == 1 and x.shape[lead + i] != 1)",
           "if n == 1 and x.shape[lead + i] != 1 and i > 0)",
           "broadcast gradient not summed over a first stretched axis"),
    Mutant("matmul-1d-swap", OPS + "linalg.py",
           "return (grad * b if need_a else None), (grad * a if need_b else None)",
           "return (grad * a if need_a else None), (grad * b if need_b else None)",
           "the two gradients of a 1-D · 1-D matmul (a dot product) swapped"),
    Mutant("matmul-a-transpose", OPS + "linalg.py", "grad_a = grad @ b.swapaxes(-1, -2) if need_a",
           "grad_a = grad @ b if need_a", "dL/dA = G @ B instead of G @ Bᵀ"),
    Mutant("matmul-b-transpose", OPS + "linalg.py", "grad_b = a.swapaxes(-1, -2) @ grad if need_b",
           "grad_b = a @ grad if need_b", "dL/dB = A @ G instead of Aᵀ @ G"),
    Mutant("matmul-vector-b", OPS + "linalg.py", "grad = grad.reshape((*grad.shape, 1))",
           "grad = grad.reshape((*grad.shape[:-1], 1, grad.shape[-1])) if grad.ndim > 1 else grad.reshape((1, -1))",
           "matrix · vector: the gradient's unit axis in the wrong place"),
    # -- selection and limits (select.py) -----------------------------------------------------
    Mutant("where-swap", OPS + "select.py", "return None, grad * w, grad * (1.0 - w)",
           "return None, grad * (1.0 - w), grad * w", "Where sends each gradient to the branch it did not pick"),
    Mutant("maximum-picks-smaller", OPS + "select.py", "ctx.weight_a = _weights(a > b, a == b)",
           "ctx.weight_a = _weights(a < b, a == b)", "Maximum's gradient goes to the smaller input"),
    Mutant("maximum-tie-to-a", OPS + "select.py", "ctx.weight_a = _weights(a > b, a == b)",
           "ctx.weight_a = _weights(a >= b, a != a)", "maximum(a, b) at a tie gives a everything (PyTorch splits)"),
    Mutant("minimum-picks-larger", OPS + "select.py", "ctx.weight_a = _weights(a < b, a == b)",
           "ctx.weight_a = _weights(a > b, a == b)", "Minimum's gradient goes to the larger input"),
    Mutant("weights-tie-array", OPS + "select.py", "    out[tied] = 0.5\n", "",
           "maximum/minimum of arrays drop the gradient at a tie (scalars split it)"),
    Mutant("weights-tie-scalar", OPS + "select.py", "return 1.0 if chosen else (0.5 if tied else 0.0)",
           "return 1.0 if chosen else 0.0", "maximum/minimum of scalars drop the gradient at a tie (arrays split it)"),
    Mutant("clip-limits-strict", OPS + "select.py", "((a >= lo) & (a <= hi),", "((a > lo) & (a < hi),",
           "clip loses the gradient at a = lo or a = hi (torch.clamp passes it to a)"),
    Mutant("clip-lo-hi-swap", OPS + "select.py", "(a < lo) & (lo <= hi), (a > hi) | (lo > hi))",
           "(a > hi) | (lo > hi), (a < lo) & (lo <= hi))", "clip gives lo the gradient of the elements clipped to hi"),
    Mutant("clip-crossed-limits", OPS + "select.py", "(a < lo) & (lo <= hi),", "(a < lo),",
           "clip with lo > hi (output hi) still gives lo a gradient"),
    Mutant("clip-equal-limits", OPS + "select.py", "(a < lo) & (lo <= hi),", "(a < lo) & (lo < hi),",
           "clip(a, v, v) = v below v gives v no gradient (torch.clamp's choice at a < lo = hi)"),
    Mutant("clip-hi-nan", OPS + "select.py", "(a > hi) | (lo > hi))", "np.maximum(a, lo) > hi)",
           "clip gives hi no gradient when a or lo is nan and the other is above hi (torch.clamp: 1)"),
    Mutant("max-reduction-ties-whole", OPS + "select.py", "ctx.weights = hit / np.maximum(ties, 1)",
           "ctx.weights = hit.astype(np.float64)", "max/min reductions give every tied element the whole gradient"),
    Mutant("max-reduction-ties-axis", OPS + "select.py",
           "ties = np.sum(hit, axis=reduced_axes(shape, axis), keepdims=True)", "ties = np.sum(hit)",
           "max/min over an axis count ties over the whole array (gradient divided by the number of rows)"),
    Mutant("min-reduction-picks-max", OPS + "select.py", "hit = np.asarray(a) == np.reshape(out, kept)",
           "hit = np.asarray(a) == np.max(a, axis=axis, keepdims=True)",
           "the min reduction's gradient goes to the maximum (weights computed with max)"),
    # -- the later elementwise functions ---------------------------------------------------------
    Mutant("sqrt-factor", OPS + "elementwise.py", "return divide(grad, 2.0 * out)", "return divide(grad, out)",
           "Sqrt's gradient 1/y instead of 1/(2y)"),
    Mutant("sin-sign", OPS + "elementwise.py", "        return grad * call(np.cos, a)\n",
           "        return -grad * call(np.cos, a)\n", "Sin's gradient -cos a"),
    Mutant("cos-sign", OPS + "elementwise.py", "        return -grad * call(np.sin, a)\n",
           "        return grad * call(np.sin, a)\n", "Cos's gradient +sin a"),
    Mutant("log1p-one", OPS + "elementwise.py", "return divide(grad, 1.0 + a)", "return divide(grad, a)",
           "Log1p's gradient 1/a (Log's rule) instead of 1/(1 + a)"),
    Mutant("expm1-derivative", OPS + "elementwise.py", "        return grad * call(np.exp, a)\n",
           "        return grad * call(np.expm1, a)\n", "Expm1's gradient e^a - 1 instead of e^a"),
    # -- normalising (normalize.py) ---------------------------------------------------------------
    Mutant("logsumexp-unnormalised", OPS + "normalize.py", "softmax = np.exp(a - reshape(out, ctx.kept_shape))",
           "softmax = np.exp(a)", "LogSumExp's gradient e^a, not e^(a - y) (softmax)"),
    Mutant("log-softmax-exp", OPS + "normalize.py", "return grad - np.exp(out) * np.sum(grad,",
           "return grad - out * np.sum(grad,", "LogSoftmax's gradient weighted by y, not by e^y"),
    Mutant("softmax-jacobian", OPS + "normalize.py", "return product - out * np.sum(product,",
           "return product - np.sum(product,", "Softmax's gradient without the factor y on the sum"),
    Mutant("softmax-axis", OPS + "normalize.py", "return product - out * np.sum(product, axis=ctx.axes,",
           "return product - out * np.sum(product, axis=-1,",
           "Softmax's gradient summed over the last axis, not `axis`"),
    # -- joining and shapes (join.py, shape.py) ---------------------------------------------------
    Mutant("concatenate-axis", OPS + "join.py", "return tuple(grad[(*lead, slice(start, end))] for",
           "return tuple(grad[(slice(start, end),)] for", "Concatenate's gradient sliced along axis 0, not `axis`"),
    Mutant("stack-reversed", OPS + "join.py", "return tuple(grad[(*lead, k)] for k in range(ctx.count))",
           "return tuple(grad[(*lead, -1 - k)] for k in range(ctx.count))",
           "Stack gives each input another input's gradient (reversed)"),
    Mutant("squeeze-axis-front", OPS + "shape.py",
           "        ctx.input_shape = shape_of(a)\n        return np.squeeze(a, axis)\n",
           "        ctx.input_shape = (1, *np.shape(np.squeeze(a, axis)))\n"
           "        return np.squeeze(a, axis)\n",
           "Squeeze's gradient gets the removed axis back at the front, not where it was"),
    Mutant("expand-dims-not-undone", OPS + "shape.py",
           "        return np.expand_dims(a, axis)\n\n    @staticmethod\n    def backward(ctx, grad):\n"
           "        return reshape(grad, ctx.input_shape)\n",
           "        return np.expand_dims(a, axis)\n\n    @staticmethod\n    def backward(ctx, grad):\n"
           "        return grad\n",
           "ExpandDims' gradient keeps the new axes (the engine's fitting rescues axis 0 only)"),
    Mutant("flatten-column-major", OPS + "shape.py",
           "*shape[last + 1:]))\n\n    @staticmethod\n    def backward(ctx, grad):\n"
           "        return reshape(grad, ctx.input_shape)\n",
           "*shape[last + 1:]))\n\n    @staticmethod\n    def backward(ctx, grad):\n"
           "        return reshape(grad, ctx.input_shape[::-1]).T\n",
           "Flatten's gradient unflattened in column-major order (right shape, elements permuted)"),
    Mutant("getitem-index-alias", OPS + "shape.py", "        return np.array(index)\n",
           "        return np.asarray(index)\n",
           "an index array changed by the caller after the forward pass moves the gradient"),
    Mutant("scatter-mask-rows", OPS + "shape.py", "    out = np.zeros(shape)\n    np.add.at(out, index, grad)\n",
           "    out = np.zeros(shape)\n"
           "    np.add.at(out, np.nonzero(index)[0] if getattr(index, 'dtype', None) == bool else index, grad)\n",
           "a boolean mask's gradient scattered by its first axis only (mask.nonzero()[0])"),
    # -- nn's ops (nn/functional.py) --------------------------------------------------------------
    Mutant("affine-w-transpose", NN + "functional.py", "grad_w = (rows_x.T @ rows_g).T",
           "grad_w = rows_x.T @ rows_g", "Linear's weight gradient left (n_in, n_out): right only for square layers"),
    Mutant("affine-bias-mean", NN + "functional.py", "return grad_x, grad_w, grad  # the engine",
           "return grad_x, grad_w, (grad.mean(axis=0) if len(grad.shape) > 1 else grad)  # the engine",
           "Linear's bias gradient averaged over the batch, not summed"),
    Mutant("affine-second-order", NN + "functional.py",
           "return (x if isinstance(x, Value) else Value(x, requires_grad=False),",
           "return (x.detach() if isinstance(x, Value) else Value(x, requires_grad=False),",
           "Linear's recorded backward treats x as a constant (no d²L/dx dW)"),
    Mutant("softplus-sign", NN + "functional.py", "s = ops.Sigmoid.apply(x)", "s = ops.Sigmoid.apply(-x)",
           "Softplus' gradient σ(-x) instead of σ(x)"),
    Mutant("softplus-second-order", NN + "functional.py",
           "return grad * (s if isinstance(x, Value) else s.data)", "return grad * s.data",
           "Softplus' second derivative lost (σ(x) a constant in the recorded backward)"),
    # -- issue 16's ops: convolution, pooling, batch norm, activations -----------------------------
    Mutant("conv-bias-mean", OPS + "conv.py", "grad_b = np.sum(grad, axis=(0, *range(2, len(grad.shape))))",
           "grad_b = np.mean(grad, axis=(0, *range(2, len(grad.shape))))",
           "conv's bias gradient averaged over the batch and positions, not summed", (_OP_CHECK + "[Conv]",)),
    Mutant("conv-columns-constant", OPS + "conv.py",
           "columns = ctx.columns if not isinstance(x, Value) and ctx.columns is not None else",
           "columns = ctx.columns if ctx.columns is not None else",
           "conv's recorded backward takes x's windows as constants (no d²L/dw dx)", (_OP_CHECK + "[Conv]",)),
    Mutant("fold-no-dilation", OPS + "windows.py", "target = tuple(slice(o * d, o * d + s * (m - 1) + 1, s)",
           "target = tuple(slice(o, o + s * (m - 1) + 1, s)",
           "the windows' gradient scattered as if undilated", (_OP_CHECK + "[Conv]", _OP_CHECK + "[MaxPool]")),
    Mutant("maxpool-ties-each-all", OPS + "pool.py",
           "weights = hit / np.maximum(np.sum(hit, axis=-1, keepdims=True), 1)", "weights = hit * 1.0",
           "max_pool2d gives every tied maximum the whole gradient",
           ("tests/engine/test_conventions.py::test_max_pool_ties_share_the_gradient_evenly",)),
    Mutant("avgpool-no-count", OPS + "pool.py", "share = np.reshape(grad / ctx.count,", "share = np.reshape(grad,",
           "avg_pool2d's gradient not divided by the window size", (_OP_CHECK + "[AvgPool]",)),
    Mutant("batchnorm-no-mean-term", OPS + "batch_norm.py", "g = g - np.mean(grad, axis=axes, keepdims=True) - x_hat",
           "g = g - x_hat", "batch_norm's input gradient forgets that the batch mean depends on x",
           (_OP_CHECK + "[BatchNorm]",)),
    Mutant("batchnorm-running-var-biased", OPS + "batch_norm.py", "/ (count - 1))", "/ count)",
           "batch_norm's running variance biased (PyTorch keeps the unbiased one)",
           ("tests/engine/test_batch_norm.py::test_running_statistics_follow_pytorchs_update_in_place",)),
    Mutant("batchnorm-second-order", OPS + "batch_norm.py",
           "x_hat, inv = normalised(ctx, x if isinstance(x, Value) else", "x_hat, inv = normalised(ctx, x.detach() if "
           "isinstance(x, Value) else", "batch_norm's recorded backward takes x̂ and 1/σ as constants",
           (_OP_CHECK + "[BatchNorm]",)),
    Mutant("gelu-no-density-term", OPS + "activation.py", "return cdf + x * (np.exp(-0.5 * (x * x)) * NORMAL)",
           "return cdf", "gelu's derivative Φ(x) alone (the x·φ(x) term lost)", (_OP_CHECK + "[GELU]",)),
    Mutant("erf-derivative", OPS + "activation.py", "np.exp(-(x * x))", "np.exp(-x)",
           "erf's derivative wrong: only gelu's second derivative sees it", (_OP_CHECK + "[GELU]",)),
    Mutant("leaky-relu-slope-above-zero", OPS + "activation.py", "ctx.weight = weight = 1.0 if x > 0 else",
           "ctx.weight = weight = 1.0 if x >= 0 else", "leaky_relu's gradient at 0 is 1 (PyTorch: the slope)",
           ("tests/engine/test_conventions.py::test_leaky_relu_gradient_at_zero_is_the_slope",)),
    Mutant("pow-b-needs-base", OPS + "arithmetic.py", "        if ctx.needs_input_grad[1]:\n            # 1 added",
           "        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:\n            # 1 added",
           "2.0 ** x gives x no gradient (the exponent's gradient only when the base needs one too)"),
    # -- the checkers (gradcheck.py): tolerances, step, projections ----------------------------
    _default("gradcheck-atol", _GRADCHECK, "atol: float = 1e-5", "atol: float = 1e-2",
             "gradcheck's default atol loosened to 1e-2"),
    _default("gradcheck-rtol", _GRADCHECK, "rtol: float = 1e-3", "rtol: float = 1e-1",
             "gradcheck's default rtol loosened to 1e-1"),
    _default("gradcheck-swapped", _GRADCHECK, _TOLERANCES, _SWAPPED,
             "gradcheck's default atol and rtol swapped: any error under 1e-3 passes"),
    _default("gradcheck-eps-coarse", _GRADCHECK, "eps: float = 1e-6", "eps: float = 1e-5",
             "gradcheck's finite-difference step 1e-5"),
    _default("gradcheck-eps-fine", _GRADCHECK, "eps: float = 1e-6", "eps: float = 1e-7",
             "gradcheck's finite-difference step 1e-7"),
    Mutant("gradcheck-isclose-swapped", GRADCHECK, "np.isclose(value, numeric, rtol=rtol, atol=atol)",
           "np.isclose(value, numeric, rtol=atol, atol=rtol)",
           "every check (check_op's included) with rtol and atol swapped"),
    _default("compare-gradients-atol", _COMPARE, "atol: float = 1e-5", "atol: float = 1e-2",
             "compare_gradients' default atol loosened to 1e-2"),
    _default("compare-gradients-rtol", _COMPARE, "rtol: float = 1e-3", "rtol: float = 1e-1",
             "compare_gradients' default rtol loosened to 1e-1"),
    _default("gradgradcheck-atol", _GRADGRAD, "atol: float = 1e-5", "atol: float = 1e-2",
             "gradgradcheck's default atol loosened to 1e-2"),
    _default("gradgradcheck-rtol", _GRADGRAD, "rtol: float = 1e-3", "rtol: float = 1e-1",
             "gradgradcheck's default rtol loosened to 1e-1"),
    _default("gradgradcheck-swapped", _GRADGRAD, _TOLERANCES, _SWAPPED,
             "gradgradcheck's default atol and rtol swapped"),
    _default("gradgradcheck-eps", _GRADGRAD, "eps: float = 1e-6", "eps: float = 1e-4",
             "gradgradcheck's finite-difference step 1e-4"),
    Mutant("gradgradcheck-first-projection", GRADCHECK, "    for _ in range(projections):\n",
           "    for _ in range(min(projections, 1)):\n", "gradgradcheck checks only its first projection"),
    Mutant("gradgradcheck-unweighted", GRADCHECK, "total = total + (g * w).sum()", "total = total + g.sum()",
           "gradgradcheck projects every gradient on ones, not on its random weights"),
    Mutant("seed-grad-outputs-detached", ENGINE + "autograd.py",
           "    elif create_graph and isinstance(grad, Value):\n        seed = grad\n",
           "    elif create_graph and isinstance(grad, Value):\n        seed = grad.detach()\n",
           "grad(..., grad_outputs=v, create_graph=True) treats v as a constant"),
    Mutant("bce-cancelling", NN + "losses.py", "softplus(-logits) * targets + softplus(logits) * (1.0 - targets)",
           "softplus(logits) - logits * targets",
           "BCE with logits as softplus(x) − x·y: a confident, correct prediction's loss rounds away"),
    # -- the engine's gradient bookkeeping ------------------------------------------------------
    Mutant("leaf-accumulate", ENGINE + "autograd.py", "            p.grad = p.grad + g\n",
           "            p.grad = g\n", "a leaf's gradient overwritten (two uses, backward twice, a leaf as the root)"),
    Mutant("leaf-owned", ENGINE + "autograd.py", "p.grad = g.copy() if type(g) is _ndarray else g  # see _owned",
           "p.grad = g  # see _owned", "a leaf's .grad aliases an array another gradient shares"),
    Mutant("node-accumulate", ENGINE + "autograd.py", "pending[p] = pending[p] + pg", "pending[p] = pg",
           "a node's gradients from two consumers, or two roots (grad([y, y], x)), not summed"),
    Mutant("retain-grad-accumulate", ENGINE + "autograd.py",
           "v.grad = _owned(g) if v.grad is None else v.grad + g", "v.grad = _owned(g)",
           "retain_grad() overwrites across backward calls"),
    Mutant("retain-grad-owned", ENGINE + "autograd.py",
           "v.grad = _owned(g) if v.grad is None else v.grad + g", "v.grad = g if v.grad is None else v.grad + g",
           "a retained .grad aliases the array flowing on"),
    Mutant("order", ENGINE + "autograd.py", "heappush(heap, (-p._ctx.sequence, p))",
           "heappush(heap, (p._ctx.sequence, p))", "nodes run before all their consumers have passed on"),
    Mutant("constants-get-grad", ENGINE + "autograd.py",
           "if pg is None or not isinstance(p, Value) or not p.requires_grad:",
           "if pg is None or not isinstance(p, Value):", "a Value with requires_grad=False accumulates .grad"),
    Mutant("grad-leaf-accumulate", ENGINE + "autograd.py",
           "self.grads[p] = g if previous is None else previous + g", "self.grads[p] = g",
           "grad() keeps only the last gradient of a leaf input used twice"),
    Mutant("grad-owned", ENGINE + "autograd.py", "return tuple(_owned(sink.grads[x]) for x in inputs)",
           "return tuple(sink.grads[x] for x in inputs)", "grad() returns arrays shared with the graph"),
    Mutant("grad-leading", ENGINE + "autograd.py", "            leading.add(v)\n            reach.add(v)\n",
           "            leading.add(v)\n", "grad() runs only the nodes next to an input"),
    Mutant("fit-sum", ENGINE + "autograd.py", "g = sum_to_shape(np.asarray(g, dtype=np.float64), target)",
           "g = np.asarray(g, dtype=np.float64).reshape(-1)[: int(np.prod(target))].reshape(target)",
           "a broadcast gradient truncated instead of summed"),
    Mutant("fit-value-sum", ENGINE + "autograd.py", "return g if g.shape == target else sum_to(g, target)",
           "return g", "a recorded broadcast gradient (create_graph) not summed back"),
    # -- the gradient shape contract (gradient_needs_sum): summed down or refused, never expanded --
    Mutant("contract-expand", ENGINE + "autograd.py", _CONTRACT_CALL,
           "    if np.ndim(g) == 0 and target and not isinstance(g, Value):\n        return np.full(target, float(g))\n"
           + _CONTRACT_CALL, "a number for an array input expanded (.grad all 12s in the issue's example)"),
    Mutant("contract-unchecked", ENGINE + "autograd.py", _CONTRACT_CALL, "    if False:\n",
           "no shape contract: a wrong shape is numpy's reshape error, or a recorded op's, never the op named"),
    Mutant("contract-index", ENGINE + "autograd.py", "type(ctx).__name__, _index(ctx, parent))",
           "type(ctx).__name__, 0)", "the error names input 0 whichever input's gradient is wrong"),
    Mutant("contract-any-lead", ENGINE + "autograd.py", "    if reducible(shape, target):\n        return True\n",
           "    if len(shape) >= len(target):\n        return True\n",
           "any gradient with enough axes is 'summed down': (2, 1) for (2, 3) is numpy's error, not the op's"),
    Mutant("contract-pow-zero-exponent", OPS + "arithmetic.py", "grad_a = _zero_like(a) if b == 0.0 else",
           "grad_a = 0.0 if b == 0.0 else", "x ** 0.0 for an array x: Pow's base gradient a number (refused now)"),
    Mutant("contract-compile-unchecked", "tinygrad_div/compile/backward.py",
           "    gradient_needs_sum(g, target, node.op.__name__, node.ins.index(slot))\n", "",
           "a compiled chain rule that fits a gradient the engine refuses", ("tests/compile/test_checks.py",)),
    Mutant("seed", ENGINE + "autograd.py", "        seed: Any = 1.0\n", "        seed: Any = 2.0\n",
           "backward() seeded with 2"),
    Mutant("version-check-skipped", ENGINE + "autograd.py", "                if ctx.sequence < changed:\n",
           "                if False:\n", "stale saved data used silently (the version counter never checked)"),
    Mutant("version-compare", ENGINE + "autograd.py", "p.version > ctx.sequence", "p.version < ctx.sequence",
           "the version check compares the wrong way"),
    Mutant("version-rebind-unseen", ENGINE + "value.py", "        self._version = state.data_changed = next(clock)\n"
           "\n    data = property", "        self._version = next(clock)\n\n    data = property",
           "rebinding .data bumps the version but backward skips the check"),
    Mutant("saved-output-identity", ENGINE + "function.py", "        by_identity[id(output._data)] = output\n", "",
           "a saved output is a constant in the recorded backward (second order through exp, pow)"),
    Mutant("saved-input-identity", ENGINE + "function.py",
           "by_identity = {id(data): x for x, data in zip(inputs, seen) if isinstance(x, Value)}",
           "by_identity = {}", "saved inputs are constants in the recorded backward (no second order)"),
    # -- td.compile (tinygrad_div/compile/): the kept rules, the chain-rule walk, guards, checks ----------
    *[Mutant(id_, "tinygrad_div/compile/" + path, original, mutated, why, COMPILE_TESTS) for id_, path, original,
      mutated, why in [
        ("compile-relu-mask", "lower.py", '"{0} != 0.0", (out,)', '"{0} > 0.0", (out,)',
         "compiled ReLU' masks with a > 0: nan at x = inf, w = 0 (issue 15, bug 3)"),
        ("compile-relu-scalar-mask", "lower.py", '"0.0 if {0} <= 0.0 else 1.0"', '"1.0 if {0} > 0.0 else 0.0"',
         "compiled scalar ReLU' is 0 at nan"),
        ("compile-relu-scalar-zero", "lower.py", '"0.0 if {0} <= 0.0 else {0}"', '"0.0 if {0} < 0.0 else {0}"',
         "compiled scalar ReLU(-0.0) is -0.0 (eager: +0.0)"),
        ("compile-pow-zero-exponent", "lower.py", "(v.value == value if value is not None else v.value != 0.0)",
         "(v.value == value if value is not None else True)", "x ** 0.0 by the rule: 0·inf = nan at x = 0"),
        ("compile-pow-square", "lower.py", '"{0} * 2.0 * {1}"', '"{0} * {1}"', "d(x²)/dx without the 2"),
        ("compile-sigmoid-backward", "lower.py", '"{0} * {1} * {2} * {2}"', '"{0} * {1} * {2}"',
         "σ' as z·r instead of z·r²"),
        ("compile-sigmoid-negative", "lower.py", '"np.exp(np.minimum({0}, 0.0)) * {1}"', '"{1} + 0.0 * {0}"',
         "σ(a) as 1/(1+e^-|a|): wrong for a < 0"),
        ("compile-mean-count", "lower.py", "count = b.const(float(math.prod(shape[i] for i in axes)))",
         "count = b.const(float(math.prod(shape)))", "a mean over an axis divided by every element's count"),
        ("compile-matmul-dot", "lower.py", 'b.line("{0} * {1}", (g, y), "MatMul", "d_matmul")',
         'b.line("{0} * {1}", (g, x), "MatMul", "d_matmul")', "a dot product's gradient is its own vector"),
        ("compile-affine-bias", "lower.py", "    return grad_x, grad_w, g\n", "    return grad_x, grad_w, None\n",
         "Affine's bias gets no gradient from the rule"),
        ("compile-walk-sum", "backward.py", 'pending[slot] = b.line("{0} + {1}", (pending[slot], pg)',
         'pending[slot] = b.line("{1} + 0.0 * {0}", (pending[slot], pg)',
         "a node used twice keeps only its last gradient"),
        ("compile-walk-order", "backward.py", "for node in reversed(nodes):", "for node in nodes:",
         "the chain rule walked oldest node first"),
        ("compile-walk-needs", "backward.py", "if pg is None or not need:", "if pg is None:",
         "constants (requires_grad=False) get a .grad"),
        ("compile-accumulate-copy", "backward.py", '"{0}.copy() if {1} is None else {1} + {0}"',
         '"{0} if {1} is None else {1} + {0}"', "two parameters' .grad share one array"),
        ("compile-rule-check", "backward.py", "if grads is not None and _matches(b, node, grads, eager):",
         "if grads is not None:", "a backward rule that disagrees with its op is used anyway"),
        ("compile-forward-check", "tracer.py", "if out is not None and same_bits(self.b.value(out), eager)",
         "if out is not None", "a forward rule that disagrees with its op is used anyway"),
        ("compile-state-restore", "compiled.py", "        _restore(state)\n        compiled = traced.run(*datas)\n",
         "        compiled = traced.run(*datas)\n", "a first call updates batch_norm's running statistics twice"),
        ("compile-first-call-check", "compiled.py", "if differ or not same_bits(compiled, loss.data):", "if False:",
         "a program that differs from eager is cached and run"),
        ("compile-first-call-grads", "compiled.py",
         "if not (same_bits(p.grad, g) and type(p.grad) is type(g))]", "if False]",
         "the first call compares only the loss with eager"),
        ("compile-guard-none", "tracer.py", "if type(out.data) is np.ndarray and self._masked(inputs, params):",
         "if False:", "a mask's selection count baked in (issue 15, bug 1)"),
        ("compile-guard-params", "tracer.py", "mask(v) or type(v) is tuple and any(mask(u) for u in v)", "False",
         "indexing with a mask (a parameter of GetItem) not guarded"),
        ("compile-guard-ndim", "builder.py", '"if {0}.shape != %r: guard', '"if {0}.ndim != len(%r): guard',
         "the guard checks the number of axes, not the count"),
        ("compile-variant-reuse", "compiled.py", "for other in traced.variants:", "for other in ():",
         "a selection count seen before traces again (and soon refuses)"),
        ("compile-variant-limit", "compiled.py", "if len(traced.variants) + 1 >= MAX_VARIANTS:", "if False:",
         "a count that keeps changing traces without end"),
        ("compile-static-int", "compiled.py", "(type(d).__name__, d) if _static(d)", "() if _static(d)",
         "an int label's program reused for another label"),
        ("compile-float32", "compiled.py",
         'if isinstance(a, (_ndarray, np.floating)) and a.dtype.kind == "f" and a.dtype != _F64:', "if False:",
         "float32 arguments converted silently"),
        ("compile-replay-needs", "runtime.py", "        v.requires_grad = flag\n", "        v.requires_grad = False\n",
         "a replayed backward sees needs_input_grad all False (issue 15, item 12)"),
        ("compile-param-frozen", "tracer.py", 'slot = self.b.program.slot("param"',
         'slot = self.b.program.slot("const"',
         "parameters frozen at their trace-time data"),
        ("compile-mask-const", "tracer.py", "        if type(x) is np.ndarray and id(x) in self.masks:\n",
         "        if False:\n", "a comparison's mask frozen as a constant"),
    ]],
    # -- ONNX export: the primitives table, the trace walk, symbolic dims, the constant checks ----
    Mutant("onnx-minimum", ONNX + "symbolic.py", 'np.minimum: _same("Min")', 'np.minimum: _same("Max")',
           "np.minimum exported as Max (Sigmoid's e^min(a,0), ReLU, minimum)", EXPORT_TESTS),
    Mutant("onnx-log1p-tiny", ONNX + "exact.py",
           '    return g.op("Where", g.op("Equal", u, g.constant(1.0)), x, g.op("Where", infinite, u, ratio))',
           '    return g.op("Where", infinite, u, ratio)', "log1p loses x where 1 + x rounds to 1", EXPORT_TESTS),
    Mutant("onnx-log1p-inf", ONNX + "exact.py", 'g.op("Where", infinite, u, ratio))', "ratio)",
           "log1p(inf) is nan (inf·0)", EXPORT_TESTS),
    Mutant("onnx-expm1-exact", ONNX + "exact.py", "g.op(\"Where\", exact, um1, ratio))", "ratio)",
           "expm1 at -inf and overflow: 0/0 and inf/inf", EXPORT_TESTS),
    Mutant("onnx-logaddexp", ONNX + "exact.py", 'general = g.op("Add", g.op("Max", a, b)',
           'general = g.op("Add", g.op("Min", a, b)', "softplus (logaddexp) from the smaller operand", EXPORT_TESTS),
    Mutant("onnx-power-half", ONNX + "exact.py", ' (0.5, lambda g, x: g.op("Sqrt", x)),', "",
           "a ** 0.5 by Pow: -inf ** 0.5 is inf where numpy gives nan", EXPORT_TESTS),
    Mutant("onnx-greater-tie", ONNX + "build.py", '">": ("Greater", False)', '">": ("GreaterOrEqual", False)',
           "x > y exported as >=: wrong at ties", EXPORT_TESTS),
    Mutant("onnx-not-equal", ONNX + "build.py", '"!=": ("Equal", True)', '"!=": ("Equal", False)',
           "v.ne(w) exported as v.eq(w)", EXPORT_TESTS),
    Mutant("onnx-reduce-nan", ONNX + "builder.py", "        if onnx_op not in (\"ReduceMax\", \"ReduceMin\"):\n",
           "        if True:\n", "max/min of a row with nan: onnxruntime skips it", EXPORT_TESTS),
    Mutant("onnx-mean", ONNX + "mappings.py", 'ops.Mean: _reduce("ReduceMean")', 'ops.Mean: _reduce("ReduceSum")',
           "Mean exported as a sum", EXPORT_TESTS),
    Mutant("onnx-walk-masks", ONNX + "trace.py", "mask = recorder.masks.get(id(x)) if ctx is None else None",
           "mask = None", "a comparison's mask frozen as a constant (the issue's example 5)", EXPORT_TESTS),
    Mutant("onnx-record-masks", ONNX + "trace.py", "        self.masks[id(out)] = (symbol, a, b)\n", "",
           "comparisons not recorded: masks frozen as constants", EXPORT_TESTS),
    Mutant("onnx-detached-output", ONNX + "trace.py", "        if index[id(out)] not in live:",
           "        if False:", "a detached output exported as a constant", EXPORT_TESTS),
    Mutant("onnx-mask-index", ONNX + "trace.py", "if mask is not None and any(index.get(id(p)) in live",
           "if mask is not None and all(index.get(id(p)) in live",
           "x[x > 0] meets advice that freezes the mask (only checked when both operands are live)", EXPORT_TESTS),
    Mutant("onnx-dim-scale", ONNX + "trace.py", "    scale = (d2 - d1) // (n2 - n1)\n", "    scale = 1\n",
           "a size 2·batch taken as batch + offset", EXPORT_TESTS),
    Mutant("onnx-dim-line", ONNX + "trace.py",
           "if (d2 - d1) % (n2 - n1) or any(d != scale * n + dim.offset for d, n in zip(rest, more)):",
           "if (d2 - d1) % (n2 - n1):", "ceil(batch/2) fitted as a line from two runs", EXPORT_TESTS),
    Mutant("onnx-constants", ONNX + "trace.py",
           "if not np.array_equal(a.data, b.data, equal_nan=np.asarray(a.data).dtype.kind == \"f\"):",
           "if False:", "a constant computed from the inputs frozen in the graph", EXPORT_TESTS),
    Mutant("onnx-scaled-run", ONNX + "exporter.py",
           "        return [tracing.walk(*tracing.run(model, [x * (1.0 + 2.0 ** -10) for x in examples]), names)]",
           "        return []", "a sum over the rows under no_grad() frozen (rolling rows cannot change it)",
           EXPORT_TESTS),
    Mutant("onnx-traced-value", ONNX + "build.py", "    if value is None or value.shape != np.shape(ref.data) or not",
           "    if value is None or value.shape != np.shape(ref.data) or False and not",
           "a traced forward that computes other numbers than eager is kept", EXPORT_TESTS),
    Mutant("onnx-traced-batch", ONNX + "build.py",
           "            if _signature(scratch, scratch.nodes, inputs) != signature:", "            if False:",
           "a forward that takes a count from the batch size bakes it", EXPORT_TESTS),
    Mutant("onnx-sin-reduce", ONNX + "exact.py",
           '        out = g.op("Where", g.op("Less", g.op("Abs", x), c(REDUCED)), out, plain)\n',
           "        out = plain\n",
           "sin and cos by onnxruntime's own reduction: sin(π) is 0 (numpy: 1.2e-16)", EXPORT_TESTS),
    Mutant("onnx-sym-out", ONNX + "symbolic.py", "        target.name, target.value = result.name, np.asarray(",
           "        target.value = np.asarray(", "np.exp(out, out) in a forward leaves out's ONNX tensor as it was",
           EXPORT_TESTS),
    Mutant("onnx-sym-index", ONNX + "symbolic.py", "Sym(self.g, index_tensor(self.g, self.name, self.shape, key),",
           "Sym(self.g, self.name,", "x[index] inside a traced forward exported as x", EXPORT_TESTS),
    Mutant("onnx-prune", ONNX + "build.py", "        if any(o in needed for o in node.output):", "        if True:",
           "what forward computes for backward kept in the model", EXPORT_TESTS),
    # -- the training kit: optimizers, schedules, clipping, data, losses, the Value API ---------
    Mutant("kit-group-options", OPTIM + "optimizer.py",
           "self._checked({**self.defaults, **{k: v for k, v in group.items() if k != \"params\"}}, name)",
           "self._checked({**{k: v for k, v in group.items() if k != \"params\"}, **self.defaults}, name)",
           "a parameter group's own lr and weight decay overridden by the defaults", KIT_TESTS),
    Mutant("kit-state-kept", OPTIM + "optimizer.py", "buffers = state[p] = {}", "buffers = {}",
           "momentum and moments forgotten between steps", KIT_TESTS),
    Mutant("kit-state-index", OPTIM + "optimizer.py",
           'packed["params"] = list(range(index, index + len(group["params"])))',
           'packed["params"] = list(range(len(group["params"])))',
           "state_dict numbers each group's parameters from 0 (torch numbers them through the groups)", KIT_TESTS),
    Mutant("kit-load-groups", OPTIM + "optimizer.py", "        self.param_groups = groups\n", "",
           "load_state_dict drops the checkpoint's lr and options", KIT_TESTS),
    Mutant("kit-steplr-epoch", OPTIM + "lr_scheduler.py", "self.last_epoch % self.step_size != 0",
           "(self.last_epoch + 1) % self.step_size != 0", "StepLR decays one epoch early", KIT_TESTS),
    Mutant("kit-cosine-restart", OPTIM + "lr_scheduler.py", "if (e - 1 - t_max) % (2 * t_max) == 0:",
           "if (e - t_max) % (2 * t_max) == 0:", "cosine annealing's restart branch one epoch off", KIT_TESTS),
    Mutant("kit-lambda-base", OPTIM + "lr_scheduler.py", "zip(self.lr_lambdas, self.base_lrs)",
           "zip(self.lr_lambdas, self._lrs())", "LambdaLR compounds on the current lr, not the initial one",
           KIT_TESTS),
    Mutant("kit-clip-eps", NN + "utils.py", "coefficient = max_norm / (total + EPS)",
           "coefficient = max_norm / total", "clip_grad_norm_ without torch's 1e-6", KIT_TESTS),
    Mutant("kit-clip-total", NN + "utils.py",
           "total = _norm(np.array([_norm(g, norm_type) for _, g in grads]), norm_type)",
           "total = sum(_norm(g, norm_type) for _, g in grads)", "the total norm a sum of the norms", KIT_TESTS),
    Mutant("kit-loader-drop-last", DATA, "stop = n - n % self.batch_size if self.drop_last else n", "stop = n",
           "drop_last keeps the short last batch", KIT_TESTS),
    Mutant("kit-loader-generator", DATA, "order = self.generator.permutation(n)",
           "order = np.random.default_rng(0).permutation(n)", "shuffling ignores the generator (one order)",
           KIT_TESTS),
    Mutant("kit-smooth-l1-linear", NN + "losses.py", "size - 0.5 * beta), reduction)", "size - beta), reduction)",
           "smooth L1's linear piece not joined to the quadratic one", KIT_TESTS),
    Mutant("kit-label-smoothing", NN + "losses.py", "smooth * (float(label_smoothing) / logits.shape[-1])",
           "smooth * float(label_smoothing)", "label smoothing's mass not spread over the classes", KIT_TESTS),
    Mutant("kit-reduction-sum", NN + "losses.py", 'return loss.sum() if reduction == "sum" else loss',
           'return loss.mean() if reduction == "sum" else loss', 'reduction="sum" averages', KIT_TESTS),
    Mutant("kit-dim-both", ENGINE + "value.py", "    if axis is not None and not isinstance(axis, _Unset):\n",
           "    if False:\n", "axis= and dim= both given: one silently wins", KIT_TESTS),
    Mutant("kit-gradcheck-tuple", GRADCHECK, "return [_output(fn, k) for k in positions]",
           "return [_output(fn, positions[0])]", "gradcheck of a tuple checks its first output only", KIT_TESTS),
    Mutant("kit-format-columns", ENGINE + "value.py", "format(x, spec).rjust(width)", "format(x, spec)",
           "an f-string of an array with its columns unaligned (numpy aligns them)", KIT_TESTS),
    # -- the cross-path registry: its bitwise comparison, its tolerances, its refusal rule, its cases -------
    *[Mutant(id_, CROSSPATH + path, original, mutated, why, CROSSPATH_TESTS) for id_, path, original, mutated, why in (
        ("crosspath-signed-zero", "report.py", "(a.view(np.int64) == b.view(np.int64))", "(a == b)",
         "-0.0 and +0.0 compare equal: a compiled sign error passes"),
        ("crosspath-nan-any", "report.py", "| (np.isnan(a) & np.isnan(b))", "| np.isnan(a)",
         "a nan from a path equals any number eager gives"),
        ("crosspath-gradients-skipped", "report.py", "enumerate(zip(got.grads, expected.grads))",
         "enumerate(zip(got.grads[:0], expected.grads))", "only the forward output compared, never a gradient"),
        ("crosspath-refusal-unnamed", "report.py", "        if self.op in str(exc):\n", "        if True:\n",
         "any error counts as a refusal, named or not"),
        ("crosspath-scalar-self", "paths.py", 'report.compare("eager scalar", as_scalar, got, flat)',
         'report.compare("eager scalar", as_scalar, flat, flat)', "the eager scalar path compared with itself"),
        ("crosspath-onnx-rtol", "onnx_path.py", "RTOL, RTOL32 = 1e-12, 1e-5", "RTOL, RTOL32 = 1e-6, 1e-5",
         "ONNX float64 held to 1e-6"),
        ("crosspath-onnx-slack", "onnx_path.py", "SLACK = 8.0", "SLACK = 1e6",
         "ONNX allowed a million times what rounding moves eager's answer"),
        ("crosspath-onnx-nonfinite", "onnx_path.py", "(np.isnan(e) & np.isnan(got)) | (got == e))",
         "~np.isfinite(got))", "any inf or nan accepted where eager has inf or nan"),
        ("crosspath-edges-no-nan", "samples.py", "-np.inf, np.nan, 1.0,", "-np.inf, 1.0,", "nan never an input"),
        ("crosspath-no-ties", "samples.py", "    if len(floats) > 1:\n", "    if False:\n",
         "inputs never equal: maximum at a = b, clip at a = lo = hi untried"),
    )],
]


def mutants_matching(prefix: str | None) -> list[Mutant]:
    prefixes = None if prefix is None else tuple(prefix.split(","))
    chosen = [m for m in MUTANTS if prefixes is None or m.id.startswith(prefixes)]
    if not chosen:
        sys.exit(f"mutate.py: no mutant id starts with {prefix!r}")
    return chosen


def check_applicable(mutants: list[Mutant], root: Path) -> None:
    """Every mutant's original text occurs exactly once: otherwise stop, naming them all."""
    stale = []
    for m in mutants:
        text = (root / m.path).read_text()
        count = text.count(m.original)
        if count != 1:
            stale.append(f"  {m.id}: its original text occurs {count} times in {m.path}")
            continue
        try:  # a mutant that does not even compile would be "killed" for nothing
            compile(text.replace(m.original, m.mutated), m.path, "exec")
        except SyntaxError as exc:
            stale.append(f"  {m.id}: the mutated {m.path} is not valid Python ({exc.msg}, line {exc.lineno})")
    if stale:
        sys.exit("mutate.py: these mutants no longer apply to the code; rewrite them:\n" + "\n".join(stale))


def copy_repository(destination: Path, tests_from: str | None) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    if tests_from:
        shutil.rmtree(destination / "tests")
        archive = subprocess.run(["git", "archive", tests_from, "tests"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)


# Loaded with `-p`: hypothesis as in CI (derandomized) but without shrinking, since only
# "does some test fail" matters here, and with no example database written.
PLUGIN = """
from hypothesis import HealthCheck, Phase, settings


def pytest_configure(config):
    settings.register_profile("mutate", derandomize=True, deadline=None, max_examples=60, database=None,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate],
                              suppress_health_check=list(HealthCheck))
    settings.load_profile("mutate")
"""


def run_tests(root: Path, tests: list[str]) -> tuple[bool, float]:
    """Whether the tests pass in `root`, and how long they took."""
    (root / "_mutate_plugin.py").write_text(PLUGIN)
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    try:
        command = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "_mutate_plugin", *tests]
        result = subprocess.run([sys.executable, *command],
                                cwd=root, env=env, capture_output=True, timeout=TIMEOUT)
        passed = result.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False
    return passed, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the mutants whose id starts with this (or one of these, comma-separated)")
    parser.add_argument("--tests-from", metavar="REV", help="use the tests/ folder of this git revision")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    mutants = mutants_matching(args.only)
    check_applicable(mutants, ROOT)
    if args.list:
        for m in mutants:
            print(f"{m.id:32} {m.path.removeprefix('tinygrad_div/').removeprefix('engine/'):22} {m.why}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mutate-") as temporary:
        root = Path(temporary)
        copy_repository(root, args.tests_from)
        passed, seconds = run_tests(root, sorted(set(TESTS) | {t for m in mutants for t in m.tests}))
        if not passed:
            sys.exit("mutate.py: the tests fail without any mutant; fix them first")
        print(f"unmutated suite passes ({seconds:.0f} s); {len(mutants)} mutants", flush=True)
        survivors = []
        for m in mutants:
            path = root / m.path
            original = path.read_text()
            path.write_text(original.replace(m.original, m.mutated))
            try:
                passed, seconds = run_tests(root, list(m.tests) or TESTS)
            finally:
                path.write_text(original)
            print(f"{'SURVIVED' if passed else 'killed  '} {m.id:32} {seconds:5.1f} s  {m.why}", flush=True)
            if passed:
                survivors.append(m)
    killed = len(mutants) - len(survivors)
    print(f"\nscore: {killed}/{len(mutants)} killed ({100 * killed / len(mutants):.0f}%)")
    for m in survivors:
        print(f"  survived: {m.id} ({m.path}): {m.why}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
