"""Every code block in README.md and docs/*.md runs as printed.

The convention, one kind of fence per purpose:

- ```python   runs, in a fresh temporary folder (so it must not need the repository as its cwd).
              A ```text block right after it is its output: `XxxError: message` means the
              code raises that exception with that message (as `example.py`); anything
              else is its exact stdout.
- ```console  `$ python -m tinygrad_div ...` lines run through the CLI in one temporary
              folder per page (so a model saved above is there below); the lines after a
              command are its exact output, stdout and stderr together, with the
              training time `in 0.35 s` read as any time and a line `...` as any lines.
- ```bash     commands to type that install or test the project; README's first two are
              checked word for word (CI runs the second).

A ```text block anywhere else, or any other fence, is an error: every block is run.
"""

import contextlib
import io
import linecache
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tinygrad_div.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
ERROR_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)):")
TIME = re.compile(r"in \d+\.\d+ s\b")


def blocks(page: Path) -> list[tuple[str, str]]:
    """(kind, text) of every fenced block of a page, in order."""
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(page.read_text())]


def python_examples() -> list:
    found = []
    for page in PAGES:
        fenced = blocks(page)
        for number, (kind, code) in enumerate(fenced):
            if kind != "python":
                continue
            following = fenced[number + 1] if number + 1 < len(fenced) else ("", "")
            output = following[1] if following[0] == "text" else None
            found.append(pytest.param(page.name, code, output, id=f"{page.name}-block-{number + 1}"))
    return found


def test_every_block_is_of_a_kind_the_tests_run():
    for page in PAGES:
        fenced = blocks(page)
        for number, (kind, _) in enumerate(fenced):
            assert kind in ("python", "text", "console", "bash"), f"{page.name} block {number + 1}: ```{kind}"
            if kind == "text":
                assert number > 0 and fenced[number - 1][0] == "python", \
                    f"{page.name} block {number + 1}: a ```text block must be the output of the python block above it"


@pytest.mark.parametrize(("page", "code", "output"), python_examples())
def test_python_blocks_run_as_printed(page, code, output, tmp_path, monkeypatch, capsys):
    if re.search(r"draw\([^)]*\.(svg|png|pdf)", code) and shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot program")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here, and must not need the repository
    namespace = {"__name__": "doc_example"}
    # as if saved as example.py: messages that quote a line of the caller's source find it
    monkeypatch.setitem(linecache.cache, "example.py", (len(code), None, code.splitlines(keepends=True), "example.py"))
    error = ERROR_LINE.match(output or "")
    if error:  # the exception, and its message as printed (line breaks aside)
        with pytest.raises(Exception) as info:
            exec(compile(code, "example.py", "exec"), namespace)
        assert type(info.value).__name__ == error.group(1)
        assert str(info.value).split() == output[error.end():].split()
        return
    exec(compile(code, "example.py", "exec"), namespace)
    if output is not None:
        assert capsys.readouterr().out == output


def console_pages() -> list:
    return [pytest.param(page, id=page.name) for page in PAGES if any(kind == "console" for kind, _ in blocks(page))]


@pytest.mark.parametrize("page", console_pages())
def test_console_sessions_print_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # `--module examples/softplus.py` as from the root
    for kind, text in blocks(page):
        if kind != "console":
            continue
        for command, expected in _session(text):
            words = shlex.split(command, comments=True)
            assert words[:3] == ["python", "-m", "tinygrad_div"], f"{page.name}: not a tinygrad_div command: {command}"
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                main(words[3:])
            assert _matches(out.getvalue(), expected), f"{page.name}: $ {command}\n{out.getvalue()}"


def _matches(printed: str, expected: str) -> bool:
    """`printed` is `expected`, where a training time may differ and a `...` line stands for any lines."""
    pattern = "".join("(?:.*\n)*?" if line == "...\n" else re.escape(TIME.sub("in T s", line))
                      for line in expected.splitlines(keepends=True))
    return re.fullmatch(pattern, TIME.sub("in T s", printed)) is not None


def _session(text: str) -> list[tuple[str, str]]:
    """(command, its output) for each `$ ` line of a console block."""
    steps: list[tuple[str, str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("$ "):
            steps.append((line[2:].strip(), ""))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1] = (steps[-1][0], steps[-1][1] + line)
    return steps


def test_the_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.S)[:2]
    install_and_train, install_and_test = commands
    assert install_and_train == "pip install -e . && python -m tinygrad_div train"
    assert install_and_test == 'pip install -e ".[dev]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and 'bash -c "$test_command"' in ci  # CI runs the second command as written


def test_the_readme_stays_about_250_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 280
