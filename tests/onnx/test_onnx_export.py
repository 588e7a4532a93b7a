"""export(): models, names, symbolic batch, float32, user hooks, and the errors, each one line and named."""

import sys

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Function, Value, no_grad
from tinygrad_div.nn import MLP

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from tinygrad_div.onnx import OPSET, ExportError, export  # noqa: E402

#: float64 export against eager forward (relative); float32 export against eager float64 (relative)
RTOL_64, RTOL_32 = 1e-12, 1e-5


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def relative_error(got, expected):
    return float(np.max(np.abs(got - expected) / np.abs(expected)))


@pytest.mark.parametrize("sizes", [[2, 1], [2, 8, 1], [5, 16, 16, 3]], ids=str)
def test_an_mlp_exports_with_a_symbolic_batch_and_matches_eager_forward(sizes, tmp_path):
    net = MLP(sizes, seed=1)
    rng = np.random.default_rng(0)
    export(net, rng.uniform(-2, 2, (3, sizes[0])), tmp_path / "mlp.onnx")
    s = session(tmp_path / "mlp.onnx")
    assert [i.shape for i in s.get_inputs()] == [["batch", sizes[0]]]
    assert [o.shape for o in s.get_outputs()] == [["batch", sizes[-1]]]
    for batch in (1, 7, 500):  # sizes the example never had
        x = rng.uniform(-2, 2, (batch, sizes[0]))
        assert relative_error(s.run(None, {"input": x})[0], net(x).data) <= RTOL_64


def test_the_model_passes_the_full_onnx_checker_and_declares_the_opset(tmp_path):
    proto = export(MLP([2, 8, 1], seed=0), np.ones((4, 2)), tmp_path / "m.onnx")
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded == proto
    assert [o.version for o in loaded.opset_import] == [OPSET] == [18]


def test_parameters_are_named_float64_initializers_and_float32_on_request(tmp_path):
    net = MLP([2, 3, 1], seed=0)
    params = net.parameters()
    loaded = export(net, np.ones((2, 2)), tmp_path / "m.onnx")
    initializers = {t.name: onnx.numpy_helper.to_array(t) for t in loaded.graph.initializer}
    stored = [a for a in initializers.values() if a.shape != ()]
    assert len(stored) == len(params)
    for p in params:  # bit for bit
        assert any(a.dtype == np.float64 and np.array_equal(a, p.data) for a in stored)
    loaded32 = export(net, np.ones((2, 2)), tmp_path / "m32.onnx", dtype="float32")
    assert {t.data_type for t in loaded32.graph.initializer} == {onnx.TensorProto.FLOAT}


def test_float32_export_matches_eager_float64_to_1e_5(tmp_path):
    net = MLP([2, 8, 8, 1], seed=3)
    x = np.random.default_rng(1).uniform(-3, 3, (1000, 2))
    export(net, x[:2], tmp_path / "m32.onnx", dtype="float32")
    got = session(tmp_path / "m32.onnx").run(None, {"input": x.astype(np.float32)})[0]
    assert got.dtype == np.float32
    assert relative_error(got.astype(np.float64), net(x).data) <= RTOL_32


def test_inputs_and_outputs_carry_the_given_names(tmp_path):
    def two_in_two_out(a, b):
        return a * b, (a - b).exp()

    a, b = np.array([1.0, 2.0]), np.array([3.0, 0.5])
    export(two_in_two_out, (a, b), tmp_path / "f.onnx", input_names=["a", "b"], output_names=["product", "e"])
    s = session(tmp_path / "f.onnx")
    assert [i.name for i in s.get_inputs()] == ["a", "b"] and [o.name for o in s.get_outputs()] == ["product", "e"]
    product, e = s.run(None, {"a": a, "b": b})
    np.testing.assert_array_equal(product, a * b)
    np.testing.assert_allclose(e, np.exp(a - b), rtol=RTOL_64)


def test_constants_are_folded_into_one_initializer(tmp_path):
    scale = Value(np.array([2.0, 3.0]), requires_grad=False)

    def model(x):
        return x * (scale * scale + 1.0).log()  # one constant, computed once, not four nodes

    proto = export(model, np.ones((1, 2)), tmp_path / "f.onnx")
    assert [n.op_type for n in proto.graph.node] == ["Mul", "Identity"]
    folded = [onnx.numpy_helper.to_array(t) for t in proto.graph.initializer]
    np.testing.assert_array_equal(folded[0], np.log(scale.data * scale.data + 1.0))


def test_a_fixed_batch_when_asked(tmp_path):
    export(MLP([2, 1], seed=0), np.ones((4, 2)), tmp_path / "m.onnx", dynamic_batch=False)
    assert session(tmp_path / "m.onnx").get_inputs()[0].shape == [4, 2]


def test_sizes_that_follow_the_batch_reshape_and_broadcast_at_any_batch(tmp_path):
    bias = Value(np.array([0.5, -1.0, 2.0]))

    def model(x):  # (n, 2) -> (2n,) -> (n, 2, 1) -> broadcast against a parameter -> (n, 3)
        flat = (x.reshape(-1) ** 2).reshape(x.shape[0], 2, 1)
        return np.broadcast_to(flat.sum(axis=1), (x.shape[0], 3)) + bias

    export(model, np.ones((3, 2)), tmp_path / "f.onnx")
    x = np.random.default_rng(0).uniform(-1, 1, (11, 2))
    np.testing.assert_allclose(session(tmp_path / "f.onnx").run(None, {"input": x})[0], model(Value(x)).data,
                               rtol=RTOL_64)


class Softplus(Function):
    """y = ln(1 + e^x);  dy/dx = σ(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + np.exp(-x))

    @staticmethod
    def to_onnx(ctx, g, x):
        return g.op("Softplus", x)


class Cube(Function):
    """y = x³, with no ONNX hook: its forward is traced"""

    @staticmethod
    def forward(ctx, x):
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


class Cbrt(Function):
    """y = ∛x, through a numpy function that has no ONNX equivalent"""

    @staticmethod
    def forward(ctx, x):
        return np.cbrt(x)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


def test_a_user_function_exports_through_its_own_hook(tmp_path):
    export(lambda x: Softplus.apply(x) * 2.0, np.ones((2, 3)), tmp_path / "f.onnx")
    x = np.random.default_rng(0).uniform(-5, 5, (4, 3))
    np.testing.assert_allclose(session(tmp_path / "f.onnx").run(None, {"input": x})[0], 2 * np.logaddexp(0, x),
                               rtol=RTOL_64)


def test_a_user_function_without_a_hook_exports_through_its_own_forward(tmp_path):
    proto = export(lambda x: Cube.apply(x.exp()), np.ones((2, 2)), tmp_path / "f.onnx")
    assert [n.op_type for n in proto.graph.node] == ["Exp", "Pow", "Identity"]
    x = np.random.default_rng(0).uniform(-3, 3, (5, 2))
    np.testing.assert_allclose(session(tmp_path / "f.onnx").run(None, {"input": x})[0], np.exp(x) ** 3, rtol=RTOL_64)


def test_a_function_whose_forward_has_no_onnx_form_is_refused_naming_it_the_call_and_the_line(tmp_path):
    def model(x):
        y = x.exp()
        return Cbrt.apply(y)  # the line the error names

    with pytest.raises(ExportError) as info:
        export(model, np.ones((2, 2)), tmp_path / "f.onnx")
    message = str(info.value)
    assert message.startswith("Cbrt (a user Function) has no ONNX form: its forward uses numpy.cbrt")
    assert "test_onnx_export.py" in message and "return Cbrt.apply(y)" in message
    assert "\n" not in message
    assert not (tmp_path / "f.onnx").exists()


def test_an_output_computed_without_recording_is_refused(tmp_path):
    def model(x):
        with no_grad():
            return x * 2.0

    with pytest.raises(ExportError, match="^output 0 does not depend on the inputs"):
        export(model, np.ones((2, 2)), tmp_path / "f.onnx", dynamic_batch=False)


def test_a_constant_computed_from_the_batch_is_refused_with_a_symbolic_batch(tmp_path):
    def model(x):
        return x * np.ones(x.shape)

    with pytest.raises(ExportError, match="depends on the batch size.*dynamic_batch=False"):
        export(model, np.ones((2, 2)), tmp_path / "f.onnx")
    export(model, np.ones((2, 2)), tmp_path / "f.onnx", dynamic_batch=False)  # fixed: fine


def test_a_constant_of_the_examples_batch_size_is_refused_with_a_symbolic_batch(tmp_path):
    bias = np.ones((2, 3))  # fits a batch of 2 only: at the other sizes export tries, the model cannot run

    def model(x):
        return x + bias

    with pytest.raises(ExportError, match=r"at batch size 3 the model raised ShapeError.*dynamic_batch=False") as info:
        export(model, np.ones((2, 3)), tmp_path / "f.onnx")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "f.onnx").exists()
    export(model, np.ones((2, 3)), tmp_path / "f.onnx", dynamic_batch=False)  # fixed: fine


def test_bad_paths_and_arguments_give_one_line_errors_and_leave_files_alone(tmp_path):
    net = MLP([2, 1], seed=0)
    with pytest.raises(ExportError, match="does not exist"):
        export(net, np.ones((1, 2)), tmp_path / "missing" / "m.onnx")
    with pytest.raises(ExportError, match="is a directory"):
        export(net, np.ones((1, 2)), tmp_path)
    with pytest.raises(ExportError, match="dtype"):
        export(net, np.ones((1, 2)), tmp_path / "m.onnx", dtype="float16")
    with pytest.raises(ExportError, match="input_names"):
        export(net, np.ones((1, 2)), tmp_path / "m.onnx", input_names=["a", "b"])
    previous = tmp_path / "m.onnx"
    previous.write_bytes(b"an older model")
    with pytest.raises(ExportError):
        export(lambda x: Cbrt.apply(x), np.ones((1, 2)), previous)
    assert previous.read_bytes() == b"an older model"


def test_a_missing_onnx_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ModuleNotFoundError
    package = sys.modules["tinygrad_div.onnx"]
    for name in ("build", "builder", "mappings"):  # the modules that import onnx, as if never imported
        monkeypatch.delitem(sys.modules, f"tinygrad_div.onnx.{name}", raising=False)
        monkeypatch.delattr(package, name, raising=False)
    with pytest.raises(ImportError, match=r"pip install 'tinygrad_div\[onnx\]'"):
        export(MLP([2, 1], seed=0), np.ones((1, 2)), tmp_path / "m.onnx")


@pytest.mark.parametrize("dynamic", [True, False])
def test_a_comparison_mask_is_refused_not_frozen_into_the_graph(tmp_path, dynamic):
    def model(x):
        positive = x.data[0] > 0  # a mask from the data: comparisons are not recorded
        return x * positive

    x = np.array([[1.0, -2.0], [-3.0, 1.0], [4.0, 0.5]])
    with pytest.raises(ExportError, match=r"^a constant into Mul \(created at .*changes with the input values"):
        export(model, x, tmp_path / "f.onnx", dynamic_batch=dynamic)


def test_a_builtin_op_whose_forward_has_no_onnx_form_is_refused_by_name(tmp_path, monkeypatch):
    from tinygrad_div.onnx.symbolic import UFUNCS

    monkeypatch.delitem(UFUNCS, np.tanh)  # as an op added to the engine with a numpy call not in the table
    with pytest.raises(ExportError, match=r"^Tanh \(a built-in op\) has no ONNX form: its forward uses numpy\.tanh, "
                                          r"which has no ONNX equivalent; created at .*\.tanh\(\)"):
        export(lambda x: (x * 2.0).tanh(), np.ones((2, 2)), tmp_path / "f.onnx")


@pytest.mark.parametrize("dynamic", [True, False])
def test_issue15_example5_a_mask_from_a_comparison_becomes_onnx_ops(tmp_path, dynamic):
    """x * (x > 0) was refused with advice (dynamic_batch=False) that then froze the mask as a constant."""
    proto = export(lambda x: x * (x > 0), np.array([[1.0, -1.0], [2.0, -3.0]]), tmp_path / "m.onnx",
                   dynamic_batch=dynamic)
    assert "Greater" in [n.op_type for n in proto.graph.node]
    got = session(tmp_path / "m.onnx").run(None, {"input": np.array([[-1.0, 2.0], [3.0, -4.0]])})[0]
    np.testing.assert_array_equal(got, [[0.0, 2.0], [3.0, 0.0]])


@pytest.mark.parametrize("symbol", ["<", "<=", ">", ">=", "eq", "ne"])
def test_every_comparison_and_where_export_at_ties(tmp_path, symbol):
    compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b, "eq": lambda a, b: a.eq(b), "ne": lambda a, b: a.ne(b)}[symbol]
    bias = Value(np.array([0.5, -1.0, 2.0]), requires_grad=True)

    def model(x):
        return td.where(compare(x, bias), x * 2.0, -x) + x * compare(x.sum(), 1.0)

    export(model, np.zeros((2, 3)), tmp_path / "m.onnx")
    x = np.array([[0.5, -1.0, 2.0], [1.0, -2.0, 3.0], [0.0, 0.0, 0.0], [-0.5, 3.0, 2.0]])  # ties included
    np.testing.assert_array_equal(session(tmp_path / "m.onnx").run(None, {"input": x})[0], model(Value(x)).data)


def test_issue15_example5_a_detached_output_is_refused_without_the_batch_advice(tmp_path):
    with pytest.raises(ExportError, match=r"^output 1 does not depend on the inputs") as info:
        export(lambda x: (x * 2.0, (x * 3.0).detach()), np.ones((2, 2)), tmp_path / "m.onnx")
    assert "dynamic_batch" not in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


def test_issue15_example5_indexing_with_a_mask_from_the_inputs_is_refused_with_a_remedy_that_exports(tmp_path):
    with pytest.raises(ExportError, match=r"^GetItem: x\[mask\] with a mask computed from the inputs.*where") as info:
        export(lambda x: x[x > 0].sum(), np.array([[1.0, -1.0], [2.0, 3.0]]), tmp_path / "m.onnx")
    assert "dynamic_batch" not in str(info.value)
    export(lambda x: td.where(x > 0, x, 0.0).sum(), np.array([[1.0, -1.0], [2.0, 3.0]]), tmp_path / "m.onnx")
    got = session(tmp_path / "m.onnx").run(None, {"input": np.array([[-1.0, 2.0], [3.0, -4.0], [1.0, 1.0]])})[0]
    assert got == 7.0


def test_a_constant_that_reordering_rows_cannot_change_is_still_refused(tmp_path):
    """A sum over the rows, under no_grad(), is the same for the rolled rows: the scaled run catches it."""
    def model(x):
        with no_grad():
            centre = x.sum(axis=0)
        return x - centre

    with pytest.raises(ExportError, match="changes with the input values"):
        export(model, np.array([[1.0, 2.0], [3.0, 5.0]]), tmp_path / "m.onnx", dynamic_batch=False)


def test_a_forward_that_bakes_the_batch_size_is_refused_by_name(tmp_path):
    class Scaled(Function):
        @staticmethod
        def forward(ctx, x):
            return x * float(x.shape[0])  # a number taken from the run's shape

        @staticmethod
        def backward(ctx, grad):
            raise NotImplementedError

    with pytest.raises(ExportError, match=r"^Scaled \(a user Function\) has no ONNX form.*change with the batch size"):
        export(lambda x: Scaled.apply(x), np.ones((2, 3)), tmp_path / "m.onnx")
    export(lambda x: Scaled.apply(x), np.ones((2, 3)), tmp_path / "m.onnx", dynamic_batch=False)  # one size: fine


def test_a_forward_that_computes_otherwise_when_traced_is_refused(tmp_path):
    class TwoFaced(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0 if isinstance(x, np.ndarray) else x * 3.0  # eager's branch is not the traced one

        @staticmethod
        def backward(ctx, grad):
            raise NotImplementedError

    with pytest.raises(ExportError, match=r"^TwoFaced \(a user Function\) has no ONNX form.*not eager's"):
        export(lambda x: TwoFaced.apply(x), np.ones((2, 3)), tmp_path / "m.onnx")


def test_what_a_traced_forward_computes_for_backward_is_pruned(tmp_path):
    proto = export(lambda x: x.relu(), np.ones((2, 3)), tmp_path / "m.onnx")  # forward also saves out != 0
    assert [n.op_type for n in proto.graph.node] == ["Max", "Identity"]
    assert [onnx.numpy_helper.to_array(t).tolist() for t in proto.graph.initializer] == [0.0]


def test_a_size_that_follows_the_batch_irregularly_is_not_fitted_as_a_line(tmp_path):
    """x[::2] along the batch: ceil(n/2) is no scale·n + offset, so a reshape of it must not use one."""
    def model(x):
        return x[::2].reshape(-1)

    with pytest.raises(ExportError, match="irregularly"):
        export(model, np.ones((4, 3)), tmp_path / "m.onnx")


def test_a_user_function_that_indexes_exports_through_its_forward(tmp_path):
    class FirstMinusLast(Function):
        @staticmethod
        def forward(ctx, x):
            return x[:, 0] - x[..., -1] + x[:, [1, 1]].sum(axis=-1)

        @staticmethod
        def backward(ctx, grad):
            raise NotImplementedError

    export(lambda x: FirstMinusLast.apply(x), np.ones((2, 3)), tmp_path / "m.onnx")
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(session(tmp_path / "m.onnx").run(None, {"input": x})[0],
                               x[:, 0] - x[:, -1] + 2 * x[:, 1], rtol=1e-12)


def test_a_module_in_training_mode_exports_in_eval_mode_and_is_put_back(tmp_path):
    """As torch.onnx.export: dropout off and batch norm on its running statistics in the file, no running
    statistic moved by the export's runs, and the module still in training mode afterwards."""
    from tinygrad_div import nn

    td.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    x = np.random.default_rng(1).normal(size=(5, 3))
    model(Value(x))  # one training step's statistics, so that running and batch statistics differ
    before = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    export(model, x, tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    model.eval()
    expected = model(Value(x)).data
    got = session(tmp_path / "m.onnx").run(None, {"input": x})[0]
    assert relative_error(got, expected) < RTOL_64
