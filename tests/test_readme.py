"""Every Python example in README.md runs as printed (and raises the error printed after it, where one is)."""

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"```python\n(.*?)```(\s*```text\n(.*?)```)?", re.S)
ERROR_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+Error):", re.M)


def examples() -> list:
    found = []
    for number, match in enumerate(FENCE.finditer((ROOT / "README.md").read_text()), start=1):
        code, output = match.group(1), match.group(3) or ""
        error = ERROR_LINE.match(output)
        found.append(pytest.param(code, error.group(1) if error else None, id=f"example-{number}"))
    return found


@pytest.mark.parametrize(("code", "expected_error"), examples())
def test_readme_example_runs(code, expected_error, tmp_path, monkeypatch):
    if "draw(" in code and shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot program")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.syspath_prepend(str(ROOT))  # `from examples.softplus import ...`
    namespace = {"__name__": "readme_example"}
    if expected_error is None:
        exec(compile(code, "README.md", "exec"), namespace)
    else:
        with pytest.raises(Exception) as info:
            exec(compile(code, "README.md", "exec"), namespace)
        assert type(info.value).__name__ == expected_error


def test_the_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.S)[:2]
    install_and_train, install_and_test = commands
    assert install_and_train == "pip install -e . && python -m tinygrad_div train"
    assert install_and_test == 'pip install -e ".[dev]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and 'bash -c "$test_command"' in ci  # CI runs the second command as written
