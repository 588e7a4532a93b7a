"""The `check` command: gradient-check every op a module defines (or the built-ins) and print a table.

    python -m tinygrad_div check                                  # every built-in op
    python -m tinygrad_div check --module mypkg.my_ops --examples 50
    python -m tinygrad_div check --module examples/softplus.py    # a file works too

Importing the module registers its `Function` subclasses; each one then gets the
hypothesis-driven checks the project's own suite runs on every op
(`tinygrad_div.testing.check_op`: first derivatives against finite differences on
drawn inputs, and second derivatives where the op declares them), and then every
other path (`tinygrad_div.crosspath.check_paths`: eager scalar, create_graph, the
compiled step bit for bit, ONNX where the op exports; `--no-paths` skips them). The
same as `check_op(op, paths=check_paths)` in Python: the same inputs, the same
verdict. Exit status: 0 when every op passes, 1 when one fails (its shrunk failing
input is printed), 2 when the module cannot be used.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tinygrad_div.commands.usage import UsageError, integer
from tinygrad_div.engine.function import Function, registered_ops
from tinygrad_div.testing.errors import OpCheckError

#: The module whose ops are checked when no --module is given.
BUILTIN_MODULE = "tinygrad_div.engine.ops"
DEFAULT_EXAMPLES = 30
DEV_INSTALL = 'pip install "tinygrad_div[dev]"'


class CheckUsageError(Exception):
    """The command cannot run: the module does not import, defines no op, or hypothesis is missing."""


@dataclass
class OpResult:
    """One row of the table: the op and either its report or the reason it failed."""

    op: type[Function]
    report: Any = None  # a testing.OpReport when the op passed
    failure: str | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


HELP = "gradient-check ops (yours with --module, else the built-ins) and print a table"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `check` command's options (the CLI calls this)."""
    parser.add_argument("--module", metavar="MODULE",
                        help="module whose Function subclasses to check: a dotted name (mypkg.my_ops) "
                             "or a .py file (default: the built-in ops)")
    parser.add_argument("--examples", type=integer, default=DEFAULT_EXAMPLES, metavar="N",
                        help=f"hypothesis examples per op (default {DEFAULT_EXAMPLES})")
    parser.add_argument("--no-paths", action="store_true",
                        help="check first and second derivatives only, not the other paths (eager scalar, "
                             "create_graph, the compiled step, ONNX)")


def command(args: argparse.Namespace) -> int:
    """The CLI's entry: unusable input becomes the CLI's one-line usage error (exit 2)."""
    try:
        return run(args.module, args.examples, paths=not args.no_paths)
    except CheckUsageError as exc:
        raise UsageError(str(exc)) from None


def run(module: str | None = None, examples: int = DEFAULT_EXAMPLES, *, out: TextIO | None = None,
        paths: bool = True) -> int:
    """Check the ops of `module` (dotted name or .py path; None: the built-ins) and print the table;
    `paths`: also every other path of each op (the cross-path registry).

    Returns the exit status: 0 all passed, 1 some op failed. Raises `CheckUsageError`
    when the module does not import or defines no op, or hypothesis is missing.
    """
    out = sys.stdout if out is None else out
    check_op = _load_check_op()
    checker = _load_check_paths() if paths else None
    if examples < 1:
        raise CheckUsageError(f"--examples must be at least 1, got {examples}")
    ops = ops_of(module)
    table = _Table([op.__name__ for op in ops], out)
    results = []
    for op in ops:  # check_op keeps hypothesis's storage out of the working directory itself
        result = check_one(op, examples, check_op, checker)
        table.row(result)
        results.append(result)
    failed = [r for r in results if not r.passed]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed", file=out)
    for result in results:
        for path, refusal in getattr(result.report.paths if result.passed else None, "refusals", {}).items():
            print(f"{result.op.__name__}: {path} refuses it by name ({refusal.splitlines()[0][:160]})", file=out)
    for result in failed:
        print(f"\n{result.failure}", file=out)
    out.flush()
    return 1 if failed else 0


def check_one(op: type[Function], examples: int, check_op: Any, paths: Any = None) -> OpResult:
    """Run `check_op` on one op; any exception it raises is that op's failure, not the command's."""
    try:
        return OpResult(op, report=check_op(op, examples=examples, paths=paths))
    except SystemExit as exc:  # an op that calls sys.exit() fails; it does not end the command
        return OpResult(op, failure=f"{op.__name__}: called sys.exit({exc.code!r}) while being checked")
    except Exception as exc:  # a broken user op must not stop the other rows
        message = str(exc) if isinstance(exc, OpCheckError) else f"{op.__name__}: {type(exc).__name__}: {exc}"
        return OpResult(op, failure=message)


def ops_of(module: str | None) -> list[type[Function]]:
    """The registered ops defined by `module` once it is imported (None: the built-in ops)."""
    if module is None:
        importlib.import_module(BUILTIN_MODULE)
        return registered_ops(BUILTIN_MODULE)
    name = _import(module)
    # Only the ops the module itself defines (a package: its files), not those it imports from elsewhere.
    package = hasattr(sys.modules.get(name), "__path__")
    ops = [op for op in Function.registry.values()
           if op.__module__ == name or (package and op.__module__.startswith(name + "."))]
    if not ops:
        raise CheckUsageError(f"module {module!r} defines no Function subclass to check")
    return ops


def _import(module: str) -> str:
    """Import a dotted module name or a .py file; return its module name."""
    try:
        if module.endswith(".py") or os.sep in module or "/" in module:
            return _import_file(Path(module))
        # Run as a console script, the current directory is not on sys.path as it is for `python -m`;
        # users expect `--module my_ops` to find ./my_ops.py either way.
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        importlib.import_module(module)
        return module
    except CheckUsageError:
        raise
    except (Exception, SystemExit) as exc:  # SyntaxError, a failing import, sys.exit(): "does not import"
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise CheckUsageError(f"cannot import module {module!r}: {detail}") from None


def _import_file(path: Path) -> str:
    if not path.is_file():
        raise CheckUsageError(f"cannot import module {str(path)!r}: no such file")
    name = path.stem
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == path.resolve():
            return name  # imported before: its ops are registered already
        raise CheckUsageError(f"cannot import {str(path)!r} as module {name!r}: a module of that name is already "
                              f"loaded from {getattr(loaded, '__file__', None) or 'elsewhere'}; rename the file")
    folder = str(path.resolve().parent)
    if folder not in sys.path:  # its sibling modules import as they do when the file runs as a script
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CheckUsageError(f"cannot import module {str(path)!r}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # registered before running it, as `import` does (dataclasses, pickling need it)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return name


def _load_check_op() -> Any:
    """`testing.check_op`, imported only now: it needs hypothesis, a development dependency."""
    try:
        from tinygrad_div.testing import check_op
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "hypothesis":
            raise
        raise CheckUsageError(f"the check command needs hypothesis: {DEV_INSTALL}") from None
    return check_op


def _load_check_paths() -> Any:
    """The cross-path registry's checker (a layer above check_op, so the command joins them)."""
    from tinygrad_div.crosspath import check_paths

    return check_paths


class _Table:
    """Rows printed as each op finishes, so a long run shows progress."""

    HEADER = ("op", "examples", "max abs err", "max rel err", "2nd order", "paths", "result")

    def __init__(self, names: list[str], out: TextIO) -> None:
        self.out = out
        self.widths = (max([len(self.HEADER[0]), *map(len, names)]), 8, 11, 11, 9, 6, 6)
        self._print(self.HEADER)

    def row(self, result: OpResult) -> None:
        if result.passed:
            report = result.report
            errors = report.first_order
            cells = (
                result.op.__name__, str(report.examples), f"{errors.max_abs_error:.1e}",
                f"{errors.max_rel_error:.1e}", "yes" if report.second_order_checked else "no",
                _paths_cell(report.paths), "pass",
            )
        else:
            cells = (result.op.__name__, "-", "-", "-", "-", "-", "FAIL")
        self._print(cells)

    def _print(self, cells: tuple[str, ...]) -> None:
        name, *rest = cells
        line = name.ljust(self.widths[0]) + "".join(
            "  " + cell.rjust(width) for cell, width in zip(rest, self.widths[1:])
        )
        print(line, file=self.out, flush=True)


def _paths_cell(report: Any) -> str:
    """"4/5": of the other paths, how many ran the op and agreed with eager (the rest refused it by name)."""
    if report is None:
        return "-"
    agreed = [p for p in report.paths if report.compared[p] and p not in report.refusals]
    return f"{len(agreed)}/{len(report.paths)}"
