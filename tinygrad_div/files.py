"""Output files: checked before the work that fills them, then written whole or not at all.

`output_problem` is asked before a long run, so that a typo in a path costs nothing.
`write_atomically` writes a temporary file next to the target and renames it over
the target (`os.replace` is atomic on one file system), so an interrupted or failed
write never leaves a half-written file and never loses the previous one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def output_problem(path: str | os.PathLike) -> str | None:
    """Why a file could not be written at `path`, or None when it can (one line, naming the path)."""
    path = Path(path)
    if path.is_dir():
        return f"{path} is a directory"
    folder = path.parent
    if not folder.exists():
        return f"directory {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a directory"
    # Permission bits do not tell (root ignores them; /proc and read-only mounts refuse anyway):
    # creating the temporary file the real write will create is the one reliable test
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        return f"cannot write to {folder}: {exc.strerror or exc}"
    os.close(fd)
    os.unlink(probe)
    return None


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`.

    The file gets the mode a newly created file gets (0666 less the umask), not
    mkstemp's private 0600. If `write` raises, or anything else fails, the temporary
    file is removed, `path` is left as it was, and the exception propagates.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    """The process umask. Reading it means setting it, so set it straight back (nothing in between)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
