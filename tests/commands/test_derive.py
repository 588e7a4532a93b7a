"""`derive` prints the program td.compile runs for the notes' network, with the notes' formulas beside it."""

from __future__ import annotations

import contextlib
import io

import numpy as np

from tinygrad_div import Value
from tinygrad_div.cli import main
from tinygrad_div.compile.runtime import same_bits
from tinygrad_div.division.derivation import MARK, derivation, notes_step


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def test_derive_prints_the_notes_chain_rule_next_to_the_lines_that_compute_it():
    status, out, _ = _run("derive")
    assert status == 0
    assert "dE_dw1 = (rows_x.T @ rows_g).T" in out
    assert "<- dE/dw1 = dE/ds1*ds1/dnet1 * dnet1/dw1" in out
    assert "<- dE/ds1*ds1/dnet1" in out


def test_derive_hidden_8_reaches_the_second_layer():
    status, out, _ = _run("derive", "--hidden", "8")
    assert status == 0
    assert "<- dE/dw2 = dE/ds1*ds1/dnet1 * dnet1/ds2*ds2/dnet2 * dnet2/dw2" in out
    assert "parameter (8, 2)" in out


def test_derive_refuses_an_empty_layer_in_one_line():
    status, _, err = _run("derive", "--hidden", "0")
    assert status == 2 and err.count("\n") == 1 and "--hidden" in err


def test_the_printed_program_is_what_runs():
    printed = derivation((8,))
    code = "\n".join(line.split(MARK)[0] for line in printed.splitlines() if not line.startswith("# ")) + "\n"
    step, model = notes_step((8,))
    x, t = np.array([0.6, 0.3]), 0.5
    step(x, t)
    traced = next(iter(step.signatures.values()))
    assert code == traced.source
    namespace = dict(traced.run.__globals__)
    exec(code, namespace)  # the printed text, compiled on its own, against eager
    params = model.parameters()
    for p in params:
        p.grad = None
    loss = namespace["step"](x, t)
    printed_grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    eager = model.layers and _eager_loss(model, x, t)
    assert same_bits(loss, eager)
    for p, g in zip(params, printed_grads):
        assert same_bits(p.grad, g)


def _eager_loss(model, x, t):
    from tinygrad_div.nn import mse_loss

    loss = mse_loss(model(Value(x, requires_grad=False)), t)
    loss.backward()
    return loss.data
