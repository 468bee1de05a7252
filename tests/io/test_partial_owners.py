"""Partials with an owner tag (io/files.py ``owned_by``): an attempt of the same work removes
the partials a dead earlier attempt left, here or on another host; nobody else's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stillcam.errors import OutputError
from stillcam.io import files

OTHER_HOST = "ffffff" if files._host() != "ffffff" else "eeeeee"


def _foreign_partial(final: Path, owner: str = "", pid: int = 4242) -> Path:
    """A partial of ``final`` as a process ``pid`` on another host would have left it."""
    writer = f"{OTHER_HOST}-{pid}-" + (f"{owner}-" if owner else "") + "abc_1234"
    path = final.parent / f"{files._prefix(final)}{writer}{files.PARTIAL_SUFFIX}"
    path.mkdir()
    (path / final.name).write_bytes(b"half")
    return path


def test_partials_made_under_an_owner_carry_it(tmp_path):
    final = tmp_path / "shot.mp4"
    with files.owned_by("0a1b2c"):
        tagged = files.make_partial(final)
    plain = files.make_partial(final)
    found = {p.path: p for p in files.partials_of(final)}
    assert found[tagged].owner == "0a1b2c" and found[tagged].pid == os.getpid()
    assert found[plain].owner == ""
    assert found[tagged].state == found[plain].state == "alive"


@pytest.mark.parametrize("owner", ["", "ABC", "x" * 3, "0" * 17, "a-b"])
def test_an_owner_tag_is_lowercase_hex(owner):
    with pytest.raises(ValueError, match="hex digits"), files.owned_by(owner):
        pass


def test_the_owner_is_restored_after_the_block(tmp_path):
    final = tmp_path / "x.png"
    with files.owned_by("aa"):
        with files.owned_by("bb"):
            inner = files.make_partial(final)
        outer = files.make_partial(final)
    after = files.make_partial(final)
    owners = {p.path: p.owner for p in files.partials_of(final)}
    assert (owners[inner], owners[outer], owners[after]) == ("bb", "aa", "")


def test_a_partial_from_another_host_refuses_the_output(tmp_path):
    final = tmp_path / "shot.mp4"
    _foreign_partial(final, owner="0a1b2c")
    (partial,) = files.partials_of(final)
    assert (partial.state, partial.owner) == ("elsewhere", "0a1b2c")
    assert files.remove_stale_partials(final) == []  # its liveness cannot be told here
    with pytest.raises(OutputError, match="another host"):
        files.check_destination(final, overwrite=False)


def test_its_owner_removes_it_and_nobody_else(tmp_path, caplog):
    final = tmp_path / "shot.mp4"
    mine = _foreign_partial(final, owner="0a1b2c")
    theirs = _foreign_partial(final, owner="0a1b2d", pid=4243)
    untagged = _foreign_partial(final, pid=4244)
    assert files.remove_owned_partials(tmp_path, "0a1b2c") == [mine]
    assert not mine.exists() and theirs.exists() and untagged.exists()
    assert "earlier attempt" in caplog.text
    with pytest.raises(OutputError, match="another host"):
        files.check_destination(final, overwrite=False)


def test_an_owner_never_removes_a_live_partial_of_this_host(tmp_path):
    final = tmp_path / "shot.mp4"
    with files.owned_by("0a1b2c"):
        live = files.make_partial(final)  # this process: alive
    assert files.remove_owned_partials(tmp_path, "0a1b2c") == []
    assert live.exists()


def test_any_partial_of_the_owner_in_the_folder_goes(tmp_path):
    """The output, its recipe and its passes: every final name in the folder."""
    names = ("a.mp4", "a.mp4.recipe.json", "a.depth.0001.exr")
    made = [_foreign_partial(tmp_path / name, owner="77") for name in names]
    assert sorted(files.remove_owned_partials(tmp_path, "77")) == sorted(made)
    assert files.remove_owned_partials(tmp_path / "missing", "77") == []
