"""The `graph` command: draws the division network, offers train's network options, fails in one line."""

import shutil

import pytest

from tinygrad_div import viz
from tinygrad_div.cli import main
from tinygrad_div.division.data import INPUT_KINDS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def test_the_graph_command_offers_the_input_kinds_train_does(capsys):
    assert main(["graph", "--help"]) == 0
    assert "--inputs {" + ",".join(INPUT_KINDS) + "}" in capsys.readouterr().out

def test_the_graph_command_writes_the_division_network(tmp_path, capsys):
    assert main(["graph", "-o", str(tmp_path / "net.dot")]) == 0
    assert "Affine" in (tmp_path / "net.dot").read_text()
    assert "wrote" in capsys.readouterr().out

@needs_dot
def test_the_graph_command_draws_svg_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["graph"]) == 0
    assert "<svg" in (tmp_path / "division_graph.svg").read_text()

def test_the_graph_command_without_graphviz_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    assert main(["graph", "-o", str(tmp_path / "net.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Graphviz" in err
