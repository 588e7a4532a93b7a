"""Graph drawing: the DOT text of a known expression, and rendering it with Graphviz."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_div import Value, viz
from tinygrad_div.viz import GraphvizNotFoundError, draw, retain_all_grads, to_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def value_nodes(dot: str) -> list[str]:
    return re.findall(r"^\s+(v\d+) \[", dot, flags=re.MULTILINE)


def op_nodes(dot: str) -> list[str]:
    return re.findall(r"^\s+(op\d+) \[", dot, flags=re.MULTILINE)


def edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s+(\w+) -> (\w+);", dot, flags=re.MULTILINE)


def label_of(dot: str, node: str) -> str:
    return re.search(rf'^\s+{node} \[.*label="(.*)"', dot, flags=re.MULTILINE).group(1)


@pytest.fixture
def expression():
    """y = ln(a·b + 1) with a = 2, b = 3, after backward: 2 leaves, 1 constant, 3 ops."""
    a, b = Value(2.0), Value(3.0)
    y = (a * b + 1.0).log()
    y.backward()
    return a, b, y


def test_a_known_expression_has_one_node_per_value_and_op_and_an_edge_per_input_and_output(expression):
    a, b, y = expression
    dot = to_dot(y)
    assert len(value_nodes(dot)) == 6  # a, b, the constant 1, a·b, a·b + 1, y
    assert len(op_nodes(dot)) == 3  # Mul, Add, Log
    assert len(edges(dot)) == 8  # Mul: 2 in + 1 out, Add: 2 + 1, Log: 1 + 1


def test_ops_are_named_and_listed_in_the_order_they_ran(expression):
    dot = to_dot(expression[2])
    assert [label_of(dot, op) for op in op_nodes(dot)] == ["Mul", "Add", "Log"]


def test_edges_follow_the_data_from_inputs_through_ops_to_outputs(expression):
    dot = to_dot(expression[2])
    for source, target in edges(dot):
        # every edge joins a value and an op, and its source is defined before it
        assert source.startswith("op") != target.startswith("op")
        assert dot.index(f"  {source} [") < dot.index(f"  {source} -> {target};")
    first_op = op_nodes(dot)[0]
    assert [s for s, t in edges(dot) if t == first_op] == ["v0", "v1"]  # a and b feed Mul, in argument order


def test_value_nodes_summarise_name_data_and_grad(expression):
    a, b, y = expression
    dot = to_dot(y, labels={"a": a, "y": y})
    a_label = label_of(dot, "v0")
    assert a_label == "a | data 2 | grad 0.4286"  # dy/da = b/(ab + 1) = 3/7
    assert "const | 1" in dot
    assert "data 1.946" in label_of(dot, value_nodes(dot)[-1])  # ln 7


def test_arrays_show_their_shape_and_few_values_or_their_range():
    small = Value(np.array([0.5, -1.0, 2.0]))
    large = Value(np.arange(12.0).reshape(3, 4))
    dot = to_dot(small.sum() + large.sum())
    assert "shape (3,) | data [0.5, -1, 2]" in dot
    assert "shape (3, 4) | data min 0, max 11" in dot


def test_a_reused_value_is_drawn_once_with_an_edge_per_use():
    x = Value(3.0)
    dot = to_dot(x * x)
    assert len(value_nodes(dot)) == 2
    assert edges(dot).count(("v0", "op0")) == 2


def test_intermediate_grads_are_drawn_when_retained():
    x = Value(3.0)
    y = (x * 2.0).exp()
    retain_all_grads(y)
    y.backward()
    dot = to_dot(y)
    assert all("grad" in label_of(dot, node) for node in value_nodes(dot) if "const" not in label_of(dot, node))


def test_a_leaf_on_its_own_is_one_node():
    dot = to_dot(Value(1.5))
    assert len(value_nodes(dot)) == 1 and not op_nodes(dot) and not edges(dot)


def test_to_dot_refuses_what_is_not_a_value():
    with pytest.raises(TypeError, match="needs a Value"):
        to_dot(3.0)


@needs_dot
def test_the_dot_text_parses_with_graphviz_even_with_odd_labels(expression):
    a, b, y = expression
    dot = to_dot(y, labels={'a "quoted" {weird} | <name>': a}, title="y = ln(a·b + 1) \\ test")
    done = subprocess.run(["dot", "-Tsvg"], input=dot, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_draw_renders_the_format_the_suffix_names(expression, tmp_path, suffix):
    path = draw(expression[2], tmp_path / f"graph{suffix}")
    assert path.stat().st_size > 0
    head = path.read_bytes()[:200]
    assert (b"<svg" in head or b"<?xml" in head) if suffix == ".svg" else head.startswith(b"\x89PNG")


def test_draw_writes_dot_text_without_graphviz(expression, tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    path = draw(expression[2], tmp_path / "graph.dot")
    assert path.read_text(encoding="utf-8") == to_dot(expression[2])


def test_draw_without_graphviz_says_in_one_line_how_to_install_it(expression, tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError) as error:
        draw(expression[2], tmp_path / "graph.svg")
    message = str(error.value)
    assert "\n" not in message
    assert "Graphviz" in message and "install" in message


@pytest.mark.parametrize(("target", "words"), [("x.svg", "Graphviz"), ("missing/x.dot", "does not exist")])
def test_the_softplus_example_without_graphviz_or_with_a_bad_path_is_one_line(tmp_path, target, words):
    """examples/softplus.py, run as a script where no `dot` is on PATH: one line on stderr, exit 2."""
    script = Path(__file__).resolve().parent.parent / "examples" / "softplus.py"
    env = {**os.environ, "PATH": str(tmp_path)}  # an empty folder: no Graphviz
    done = subprocess.run([sys.executable, str(script), target], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("softplus.py: error: ") and done.stderr.count("\n") == 1 and words in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_drawing_that_fails_leaves_the_old_file_and_no_half_written_one(expression, tmp_path, monkeypatch):
    path = tmp_path / "graph.svg"
    path.write_text("the previous drawing")

    def dot_that_fails_halfway(command, **kwargs):
        half = b"<svg half"
        if "-o" in command:  # dot writes its output file itself
            Path(command[command.index("-o") + 1]).write_bytes(half)
        return subprocess.CompletedProcess(command, 1, stdout=half, stderr=b"Error: out of memory\n")

    monkeypatch.setattr(viz.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(viz.subprocess, "run", dot_that_fails_halfway)
    with pytest.raises(RuntimeError, match="out of memory"):
        draw(expression[2], path)
    assert path.read_text() == "the previous drawing" and os.listdir(tmp_path) == ["graph.svg"]


def test_draw_needs_a_suffix_to_pick_the_format(expression, tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        draw(expression[2], tmp_path / "graph")


def test_drawing_needs_neither_the_command_line_nor_the_models():
    code = ("import sys; import tinygrad_div.viz; print(sorted(m for m in sys.modules if m == 'argparse' or "
            "m.startswith(('tinygrad_div.nn', 'tinygrad_div.division', 'tinygrad_div.commands', 'tinygrad_div.cli'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"  # viz is a checking tool: the division graph lives in division.graph
