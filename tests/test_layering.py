"""The package's architecture, checked: every module sits in one layer and imports only from its own or lower ones.

    base         tinygrad_div.files                       (imports nothing from the package)
    engine       tinygrad_div.engine.*
    tools        gradcheck, testing.* (a package: locate, check, strategies), anomaly, viz, explain, compile.*
    models       nn.*, optim, onnx.*, data, crosspath.*  (crosspath runs ops through compile and onnx: above both)
    facade       the package __init__: the public API, gathered from the layers below application
    application  division.*
    commands     commands.*, cli, __main__

Read from the source with `ast`, so the rule also covers imports inside functions.
Also checked: no import after the first def/class at module level (a bottom import
hides a dependency cycle), and no reading of another function's frame (`f_locals`).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_div

PACKAGE_DIR = Path(tinygrad_div.__file__).parent
FACADE = "tinygrad_div"

#: layer name -> (rank, the modules and packages in it). A package covers its submodules.
LAYERS: dict[str, tuple[float, tuple[str, ...]]] = {
    "base": (0, ("tinygrad_div.files",)),
    "engine": (1, ("tinygrad_div.engine",)),
    "tools": (2, ("tinygrad_div.gradcheck", "tinygrad_div.testing", "tinygrad_div.anomaly", "tinygrad_div.viz",
                  "tinygrad_div.explain", "tinygrad_div.compile")),
    "models": (3, ("tinygrad_div.nn", "tinygrad_div.optim", "tinygrad_div.onnx", "tinygrad_div.data",
                   "tinygrad_div.crosspath")),
    "facade": (3.5, (FACADE,)),  # above every layer it re-exports, below those that may use the public API
    "application": (4, ("tinygrad_div.division",)),
    "commands": (5, ("tinygrad_div.commands", "tinygrad_div.cli", "tinygrad_div.__main__")),
}

def layer_of(module: str) -> str | None:
    """The layer a module belongs to, or None when the table does not place it."""
    if module == FACADE:
        return "facade"
    for name, (_, members) in LAYERS.items():
        if name != "facade" and any(module == m or module.startswith(m + ".") for m in members):
            return name
    return None


def package_modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, from its __init__.py)."""
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(module: str, tree: ast.Module, known: set[str], is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import of a package module anywhere in `tree`, functions included.

    `from a import b` imports module `a.b` when that is a module, else a name from `a`.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if candidate in known else base))
    return [(line, name) for line, name in found if name == FACADE or name.startswith(FACADE + ".")]


def problems(module: str, source: str, known: set[str], is_package: bool = False) -> list[str]:
    """Every breach of the house rules in one module's source, as readable lines."""
    tree = ast.parse(source)
    found = []
    layer = layer_of(module)
    if layer is None:
        return [f"{module}: not in the layer table of tests/test_layering.py; place it in a layer"]
    rank = LAYERS[layer][0]
    for line, target in imported_modules(module, tree, known, is_package):
        target_layer = layer_of(target)
        if target_layer is None:
            found.append(f"{module}:{line} imports {target}, which is in no layer")
        elif LAYERS[target_layer][0] > rank:
            found.append(f"{module}:{line} ({layer}) imports {target} from a higher layer ({target_layer})")
    seen_definition = False
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            seen_definition = True
            continue
        imports = [n for n in ast.walk(statement) if isinstance(n, (ast.Import, ast.ImportFrom))]
        if seen_definition and imports:
            found.append(f"{module}:{imports[0].lineno} imports after the first def/class (a bottom import)")
    for node in ast.walk(tree):
        reads_locals = (isinstance(node, ast.Attribute) and node.attr == "f_locals") or (
            isinstance(node, ast.Constant) and node.value == "f_locals"
        )
        if reads_locals:
            found.append(f"{module}:{node.lineno} reads a frame's locals (f_locals)")
    return found


MODULES = package_modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_keeps_to_its_layer(module):
    path = MODULES[module]
    assert problems(module, path.read_text(), set(MODULES), path.name == "__init__.py") == []


def test_the_engine_imports_nothing_from_the_tools():
    """Issue 8's own example: anomaly detection plugs into the engine, not the other way round."""
    known = set(MODULES)
    for module in (m for m in MODULES if layer_of(m) == "engine"):
        path = MODULES[module]
        targets = imported_modules(module, ast.parse(path.read_text()), known, path.name == "__init__.py")
        assert [t for _, t in targets if layer_of(t) != "engine"] == [], module


# -- the checker itself: each rule fails on a source that breaks it ------------------------------
KNOWN = {"tinygrad_div", "tinygrad_div.engine", "tinygrad_div.engine.value", "tinygrad_div.anomaly",
         "tinygrad_div.nn", "tinygrad_div.division", "tinygrad_div.division.train"}


@pytest.mark.parametrize("source", [
    "from tinygrad_div import anomaly\n",
    "from tinygrad_div.anomaly import detect_anomaly\n",
    "import tinygrad_div.nn\n",
    "def f():\n    from tinygrad_div.division.train import TrainConfig\n",  # inside a function too
    "from tinygrad_div import Value\n",  # the facade sits above the engine
])
def test_an_upward_import_is_caught(source):
    assert "from a higher layer" in " ".join(problems("tinygrad_div.engine.value", source, KNOWN))


def test_a_relative_upward_import_is_caught():
    found = problems("tinygrad_div.engine.value", "from .. import anomaly\n", KNOWN)
    assert "imports tinygrad_div.anomaly from a higher layer (tools)" in " ".join(found)


def test_imports_from_the_same_or_lower_layers_pass():
    source = "from tinygrad_div import engine\nfrom tinygrad_div.engine.value import Value\nimport numpy as np\n"
    assert problems("tinygrad_div.anomaly", source, KNOWN) == []
    assert problems("tinygrad_div", "from tinygrad_div.nn import MLP\n", KNOWN) == []


def test_the_facade_may_not_import_the_application():
    assert problems("tinygrad_div", "from tinygrad_div.division.train import TrainConfig\n", KNOWN) != []


def test_a_module_missing_from_the_table_fails():
    assert "not in the layer table" in " ".join(problems("tinygrad_div.newthing", "x = 1\n", KNOWN))
    found = problems("tinygrad_div.engine.value", "from tinygrad_div.newthing import y\n", KNOWN)
    assert "in no layer" in " ".join(found)


def test_a_bottom_import_is_caught():
    source = "import numpy as np\n\ndef f():\n    pass\n\nfrom tinygrad_div.engine import value  # noqa\n"
    assert "bottom import" in " ".join(problems("tinygrad_div.engine.function", source, KNOWN))
    guarded = "class A:\n    pass\n\nif True:\n    import os\n"
    assert "bottom import" in " ".join(problems("tinygrad_div.engine.function", guarded, KNOWN))


def test_reading_a_frames_locals_is_caught():
    for source in ("import sys\nx = sys._getframe(1).f_locals['ctx']\n", "y = getattr(frame, 'f_locals')\n"):
        assert "f_locals" in " ".join(problems("tinygrad_div.anomaly", source, KNOWN))


# -- loading order: the engine's modules refer to each other without bottom imports -------------
@pytest.mark.parametrize("module", ["tinygrad_div.engine.value", "tinygrad_div.engine.function",
                                    "tinygrad_div.engine.autograd", "tinygrad_div.engine.ops.shape",
                                    "tinygrad_div.engine.ops.numpy_protocol", "tinygrad_div.anomaly"])
def test_any_engine_module_can_be_imported_first(module):
    """Whichever module a program imports first, the engine loads whole and Values compute."""
    script = (f"import {module}\nfrom tinygrad_div.engine.value import Value\nimport numpy as np\n"
              "x = Value(np.ones(2))\n(np.exp(x) * 2 + 1).sum().backward()\nprint(x.grad.tolist())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PACKAGE_DIR.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([2 * 2.718281828459045] * 2)
