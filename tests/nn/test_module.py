"""Module: parameters found through attributes, dotted state_dict names, loading checked, .npz files."""

import os

import numpy as np
import pytest

from tinygrad_div import Value
from tinygrad_div.nn import MLP, Linear, Module, ModuleList, ReLU, Sequential, StateDictError, load, save


class Block(Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.inner = Sequential(Linear(3, 4, rng=np.random.default_rng(0)), ReLU())
        self.heads = [Linear(4, 1, rng=np.random.default_rng(1)), Linear(4, 2, bias=False)]
        self.note = "not a parameter"

    def forward(self, x):
        h = self.inner(x) * self.scale
        return self.heads[0](h), self.heads[1](h)


def test_parameters_are_found_recursively_with_dotted_names_in_assignment_order():
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "inner.0.weight", "inner.0.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight"]
    block = Block()
    assert [id(p) for p in block.parameters()] == [id(p) for _, p in block.named_parameters()]


def test_a_parameter_shared_by_two_modules_is_listed_once():
    shared = Linear(2, 2)
    seq = Sequential(shared, ReLU(), shared)
    assert len(seq.parameters()) == 2 and list(seq.state_dict()) == ["0.weight", "0.bias"]


def test_zero_grad_clears_every_parameter():
    block = Block()
    a, b = block(np.ones(3))
    (a.sum() + b.sum()).backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_the_state_dict_round_trips_and_holds_copies():
    source, target = MLP([3, 5, 2], seed=0), MLP([3, 5, 2], seed=1)
    state = source.state_dict()
    assert all(a.dtype == np.float64 for a in state.values())
    target.load_state_dict(state)
    for a, b in zip(source.parameters(), target.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data is not b.data
    state["0.weight"][:] = 7.0  # the state_dict is a copy: changing it changes no module
    assert not np.any(source.parameters()[0].data == 7.0) and not np.any(target.parameters()[0].data == 7.0)


def test_the_state_dict_maps_onto_pytorchs_one_to_one():
    torch = pytest.importorskip("torch")
    ours = MLP([3, 4, 2], activation="relu", output=None, seed=0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours(x).data, rtol=1e-13)
    back = MLP([3, 4, 2], activation="relu", output=None, seed=1)
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(back(x).data, ours(x).data)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("0.bias"), "missing 0.bias"),
    (lambda s: s.update(extra=np.zeros(1)), "unexpected extra"),
    (lambda s: s.update({"2.weight": np.zeros((2, 5))}),
     r"'2.weight'\] has shape \(2, 5\), the parameter has \(1, 4\)"),
    (lambda s: s.update({"0.bias": np.array(["a"] * 4)}), "must hold real numbers"),
], ids=["missing", "unexpected", "shape", "dtype"])
def test_a_state_dict_that_does_not_fit_is_refused_and_changes_nothing(change, message):
    net = MLP([3, 4, 1], seed=0)
    before = net.state_dict()
    state = MLP([3, 4, 1], seed=1).state_dict()
    change(state)
    with pytest.raises(StateDictError, match=message) as info:
        net.load_state_dict(state)
    assert "\n" not in str(info.value)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_module_saves_to_npz_and_loads_back(tmp_path):
    block, other = Block(), Block()
    for p in other.parameters():
        p.data = p.data * 0.0 + 3.0
    save(block, tmp_path / "block.npz")
    with np.load(tmp_path / "block.npz", allow_pickle=False) as npz:  # plain arrays, by state_dict name
        assert sorted(npz.files) == sorted(block.state_dict())
    load(other, tmp_path / "block.npz")
    for a, b in zip(block.parameters(), other.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert type(other.scale.data) is float  # a scalar parameter stays a Python float


def test_saving_is_atomic_and_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    save(MLP([2, 1], seed=0), path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save(MLP([2, 1], seed=1), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["net.npz"]


def test_saving_where_no_file_can_be_written_is_one_line(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        save(MLP([2, 1]), tmp_path / "missing" / "net.npz")
    with pytest.raises(TypeError, match="save takes a Module"):
        save({"w": np.ones(1)}, tmp_path / "x.npz")


@pytest.mark.parametrize("write, message", [
    (None, "not found"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_text("hello"), "not a zip archive"),
    (lambda p: p.write_bytes(b"PK\x03\x04garbage"), "not a readable .npz"),
    (lambda p: np.savez(p, **{"0.weight": np.zeros((1, 2), dtype=np.float32), "0.bias": np.zeros(1)}),
     "'0.weight' must be float64, got dtype float32"),
    (lambda p: np.savez(p, **{"0.weight": np.zeros((1, 3)), "0.bias": np.zeros(1)}), r"has shape \(1, 3\)"),
    (lambda p: np.savez(p, **{"0.weight": np.zeros((1, 2))}), "missing 0.bias"),
    (lambda p: np.savez(p, **{"0.weight": np.array([{"a": 1}], dtype=object), "0.bias": np.zeros(1)},
                        allow_pickle=True), "not a readable .npz"),
], ids=["missing", "directory", "text", "bad-zip", "float32", "shape", "names", "pickle"])
def test_a_file_that_does_not_fit_is_refused_in_one_line_and_changes_nothing(tmp_path, write, message):
    path = tmp_path / "net.npz"
    if write is not None:
        write(path)
    net = MLP([2, 1], seed=0)
    before = net.state_dict()
    with pytest.raises(StateDictError, match=message) as info:
        load(net, path)
    assert "\n" not in str(info.value)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


class Stats(Module):
    """A module with a parameter and two buffers (as BatchNorm holds them)."""

    def __init__(self):
        self.weight = Value(np.ones(2))
        self.register_buffer("running_mean", np.zeros(2))
        self.register_buffer("count", np.array(0, dtype=np.int64))

    def forward(self, x):
        return x * self.weight


def test_train_and_eval_set_training_recursively_and_return_the_module():
    net = Sequential(Stats(), ModuleList([Stats(), ReLU()]))
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net[1].train(False)
    assert [m.training for m in net.modules()] == [True, True, False, False, False]
    with pytest.raises(TypeError, match="train takes True or False, got str"):
        net.train("no")


def test_buffers_are_saved_after_their_modules_parameters_in_their_own_dtype_but_never_trained():
    net = Sequential(Stats(), Linear(2, 1))
    assert [name for name, _ in net.named_buffers()] == ["0.running_mean", "0.count"]
    state = net.state_dict()
    assert list(state) == ["0.weight", "0.running_mean", "0.count", "1.weight", "1.bias"]  # PyTorch's order
    assert state["0.count"].dtype == np.int64 and len(net.parameters()) == 3
    state["0.running_mean"][:] = 5.0  # a copy
    assert not net[0].running_mean.any()
    state["0.count"] = np.array(3)
    net.load_state_dict(state)
    assert net[0].running_mean.tolist() == [5.0, 5.0] and net[0].count.dtype == np.int64 and net[0].count == 3


def test_a_misshapen_buffer_names_the_key_and_both_shapes():
    state = Stats().state_dict()
    state["running_mean"] = np.zeros(3)
    with pytest.raises(StateDictError, match=r"^state_dict\['running_mean'\] has shape \(3,\), the buffer has \(2,\)$"):
        Stats().load_state_dict(state)


def test_strict_false_loads_what_matches_and_reports_the_rest():
    source, target = MLP([2, 3, 1], seed=0), MLP([2, 3, 1], seed=1)
    state = source.state_dict()
    del state["2.bias"]
    state["extra"] = np.zeros(1)
    result = target.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(target.layers[0].weight.data, source.layers[0].weight.data)
    assert not np.array_equal(target.layers[1].bias.data, source.layers[1].bias.data)
    assert target.load_state_dict(source.state_dict()) == ([], [])
    state["0.weight"] = np.zeros((2, 2))  # a shape mismatch is an error even when not strict, as PyTorch
    with pytest.raises(StateDictError, match=r"'0.weight'\] has shape \(2, 2\), the parameter has \(3, 2\)"):
        target.load_state_dict(state, strict=False)


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    net = MLP([2, 3, 1], seed=0)
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    net.layers[1].requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    net(np.ones((4, 2))).sum().backward()
    assert net.layers[0].weight.grad is None and net.layers[1].weight.grad is not None
    with pytest.raises(TypeError, match="requires_grad_ takes True or False"):
        net.requires_grad_(1)


def test_a_module_list_names_its_modules_by_position():
    class Net(Module):
        def __init__(self):
            self.blocks = ModuleList(Linear(2, 2) for _ in range(2)).append(Linear(2, 1))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert list(net.state_dict()) == [f"blocks.{i}.{p}" for i in range(3) for p in ("weight", "bias")]
    assert len(net.blocks) == 3 and net.blocks[2].n_out == 1 and net(np.ones(2)).shape == (1,)
    with pytest.raises(TypeError, match="ModuleList holds Modules, got int"):
        ModuleList([1])


def test_a_saved_buffer_keeps_its_dtype_through_a_file(tmp_path):
    net = Stats()
    net.count[...] = 7
    save(net, tmp_path / "s.npz")
    other = Stats()
    load(other, tmp_path / "s.npz")
    assert other.count == 7 and other.count.dtype == np.int64
