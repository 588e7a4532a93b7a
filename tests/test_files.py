"""files: an output file is checked before the work that fills it, then written whole or not at all."""

import os
import stat
from pathlib import Path

import pytest

from tinygrad_div.files import output_problem, write_atomically


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_a_file_is_written_with_exactly_the_bytes_and_no_temporary_file_is_left(tmp_path):
    write_atomically(tmp_path / "out.bin", lambda file: file.write(b"all of it"))
    assert (tmp_path / "out.bin").read_bytes() == b"all of it"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path, error):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    def half_then_fail(file):
        file.write(b"half")
        raise error

    with pytest.raises(type(error)):
        write_atomically(path, half_then_fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]


def test_the_file_gets_the_mode_the_umask_gives_a_new_file_not_the_temporary_file_s_0600(tmp_path, umask_027):
    write_atomically(tmp_path / "out.bin", lambda file: file.write(b"x"))
    assert stat.S_IMODE(os.stat(tmp_path / "out.bin").st_mode) == 0o640


def test_a_writable_path_has_no_problem_and_checking_it_leaves_nothing_behind(tmp_path):
    assert output_problem(tmp_path / "new.png") is None
    (tmp_path / "old.png").write_bytes(b"replaced later")
    assert output_problem(tmp_path / "old.png") is None
    assert os.listdir(tmp_path) == ["old.png"]


def test_paths_that_cannot_be_written_are_named(tmp_path):
    (tmp_path / "a_file").write_text("")
    assert output_problem(tmp_path) == f"{tmp_path} is a directory"
    assert output_problem(tmp_path / "missing" / "out.png") == f"directory {tmp_path / 'missing'} does not exist"
    assert output_problem(tmp_path / "a_file" / "out.png") == f"{tmp_path / 'a_file'} is not a directory"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be created")
def test_a_directory_that_refuses_new_files_is_named_with_the_reason():
    assert output_problem("/proc/out.png").startswith("cannot write to /proc: ")
