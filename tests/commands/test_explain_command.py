"""`explain` prints the notes' chain rule with numbers for every weight of the network."""

from __future__ import annotations

import contextlib
import io

from tinygrad_div.cli import main


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def test_explain_prints_the_notes_formulas_with_numbers():
    status, out, _ = _run("explain")
    assert status == 0
    assert "dE/dw1[0, 0] = dE/ds1 · ds1/dnet1 · dnet1/dw1[0, 0] = -0.3053 · 0.2267 · 0.6 = -0.04152" in out
    assert "dE/db1 = dE/ds1 · ds1/dnet1 · dnet1/db1 = -0.3053 · 0.2267 · 1 = -0.0692" in out
    assert out.index("dE/dw1:") < out.index("dE/db1:")


def test_explain_hidden_reaches_the_layer_below():
    status, out, _ = _run("explain", "--hidden", "2")
    assert status == 0
    assert "dE/dw2[1, 0] = dE/ds1 · ds1/dnet1 · dnet1/ds2[1] · ds2[1]/dnet2[1] · dnet2[1]/dw2[1, 0] = " in out


def test_explain_refuses_an_empty_layer_in_one_line():
    status, _, err = _run("explain", "--hidden", "0")
    assert status == 2 and err.count("\n") == 1 and "--hidden" in err
