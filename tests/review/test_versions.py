"""Versions: ``-o 'hero_v{version:03d}.mp4'`` takes the next free version (claimed atomically,
released at the end, never overwriting), and ``stillcam versions`` lists them with their
changes (docs/review.md, Versions)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import tiny_shot_inputs
from stillcam.cli import main
from stillcam.errors import InputError, OutputError
from stillcam.review import versions as versions_module
from stillcam.review.versions import (
    claim_next_version,
    claimed_version,
    list_versions,
    parse_version_template,
    uses_version,
    versioned_name,
)

TINY = ["--duration", "0.25", "--fps", "12", "--quiet"]
TEMPLATE = "hero_v{version:03d}.mp4"


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code), captured.out, captured.err


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return tiny_shot_inputs(tmp_path / "in")


def _render(inputs: tuple[Path, Path], output: Path | str, capsys, *extra: str) -> tuple[int, str]:
    photo, depth = inputs
    code, _, err = _run(
        ["render", str(photo), "--depth", str(depth), "-o", str(output), *TINY, *extra], capsys
    )
    return code, err


# ----------------------------------------------------------------------------------------
# Templates


def test_a_template_names_the_shot_before_its_version(tmp_path):
    template = parse_version_template(tmp_path / TEMPLATE)
    assert (template.prefix, template.folder, template.number(7)) == ("hero_v", tmp_path, "007")
    assert template.path(12) == tmp_path / "hero_v012.mp4"
    assert template.claim_path(3) == tmp_path / ".hero_v003.claim"
    assert uses_version(TEMPLATE) and not uses_version("hero.mp4")


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("{shot}_v{version:03d}.mp4", "unknown field {shot}"),
        ("hero_v{version}_{version}.mp4", "more than once"),
        ("v{version:03d}/hero.mp4", "in the file name, not the folder"),
        ("{version:03d}.mp4", "name the shot before {version}"),
        ("hero_v{version:x}.mp4", "give a width only"),
        ("hero_v{version.real}.mp4", "unknown field"),
        ("hero_v{version.mp4", "write {{ and }}"),
    ],
)
def test_a_bad_template_says_what_to_write(output, words):
    with pytest.raises(InputError, match="-o") as info:
        parse_version_template(output)
    assert words in str(info.value)


def test_versioned_names():
    assert versioned_name("hero_v002") == ("hero", 2)
    assert versioned_name("sc010.v12") == ("sc010", 12)
    assert versioned_name("hero_v002_beauty") == ("hero", 2)
    assert versioned_name("hero") is None and versioned_name("hero_vx") is None


# ----------------------------------------------------------------------------------------
# Claims


def test_the_first_version_is_1_then_the_highest_plus_one(tmp_path):
    with claimed_version(tmp_path / TEMPLATE) as claim:
        assert claim.version == 1 and claim.output == tmp_path / "hero_v001.mp4"
        assert claim.path.exists()
        assert json.loads(claim.path.read_text())["pid"] == os.getpid()
    assert not claim.path.exists()  # released
    (tmp_path / "hero_v001.mp4").write_bytes(b"x")
    (tmp_path / "hero_v004.mov.recipe.json").write_text("{}")  # any format takes the number
    (tmp_path / "other_v009.mp4").write_bytes(b"x")  # another shot's
    with claimed_version(tmp_path / TEMPLATE) as claim:
        assert claim.version == 5


def test_a_claim_held_by_another_render_is_skipped(tmp_path):
    (tmp_path / "hero_v001.mp4").write_bytes(b"x")
    held = tmp_path / ".hero_v002.claim"
    held.write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    with claimed_version(tmp_path / TEMPLATE) as claim:
        assert claim.version == 3
        with claimed_version(tmp_path / TEMPLATE) as second:  # two renders at once
            assert second.version == 4
    assert held.exists()  # another's claim is never removed
    assert not (tmp_path / ".hero_v003.claim").exists() and not (tmp_path / ".hero_v004.claim").exists()


def test_claims_made_at_once_never_share_a_number(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: claim_next_version(tmp_path / TEMPLATE), range(16)))
    assert sorted(c.version for c in claims) == list(range(1, 17))
    for claim in claims:
        claim.release()
    assert list(tmp_path.iterdir()) == []


def test_a_version_published_between_the_scan_and_the_claim_is_not_taken(tmp_path, monkeypatch):
    real = versions_module._try_claim

    def racing(template, version):  # another render publishes v1 and releases its claim meanwhile
        if version == 1:
            (tmp_path / "hero_v001.mp4").write_bytes(b"x")
        return real(template, version)

    monkeypatch.setattr(versions_module, "_try_claim", racing)
    claim = claim_next_version(tmp_path / TEMPLATE)
    assert claim.version == 2
    assert not (tmp_path / ".hero_v001.claim").exists()
    claim.release()


def test_exports_take_the_same_version(tmp_path):
    (tmp_path / "hero_v001.glb").write_bytes(b"x")
    exports = [str(tmp_path / "hero_v{version:03d}.glb"), str(tmp_path / "fixed.chan")]
    with claimed_version(tmp_path / TEMPLATE, exports) as claim:
        assert claim.version == 2
        assert claim.exports == (tmp_path / "hero_v002.glb", tmp_path / "fixed.chan")


def test_a_failed_render_releases_its_claim(tmp_path):
    with pytest.raises(RuntimeError), claimed_version(tmp_path / TEMPLATE) as claim:
        raise RuntimeError("render failed")
    assert not claim.path.exists()
    with claimed_version(tmp_path / TEMPLATE) as again:
        assert again.version == 1


def test_overwrite_and_a_missing_folder_are_refused(tmp_path):
    with (
        pytest.raises(InputError, match="never replaces"),
        claimed_version(tmp_path / TEMPLATE, overwrite=True),
    ):
        pass
    with pytest.raises(OutputError, match="does not exist"):
        claim_next_version(tmp_path / "nowhere" / TEMPLATE)


# ----------------------------------------------------------------------------------------
# Renders


def test_renders_are_numbered_and_never_overwrite(tmp_path, inputs, capsys):
    shots = tmp_path / "shots"
    shots.mkdir()
    for degrees in (8, 12):
        code, err = _render(inputs, shots / TEMPLATE, capsys, "--move", f"orbit(degrees={degrees})")
        assert code == 0, err
    first = (shots / "hero_v001.mp4").read_bytes()
    code, err = _render(inputs, shots / "hero_v{version:03d}.####.png", capsys, "--move", "orbit(degrees=12)")
    assert code == 0, err
    assert (shots / "hero_v001.mp4").read_bytes() == first
    names = sorted(p.name for p in shots.iterdir())
    assert names == [
        "hero_v001.mp4",
        "hero_v001.recipe.json",
        "hero_v002.mp4",
        "hero_v002.recipe.json",
        "hero_v003.1001.png",
        "hero_v003.1002.png",
        "hero_v003.1003.png",
        "hero_v003.png.recipe.json",
    ]  # no claim left behind
    code, err = _render(inputs, shots / "hero_v002.mp4", capsys)  # naming a version: refused
    assert code == 1 and "already exists" in err


def test_a_failed_render_takes_no_number(tmp_path, inputs, capsys):
    code, err = _render(inputs, tmp_path / TEMPLATE, capsys, "--move", "warp")
    assert code == 2 and "warp" in err
    code, err = _render((inputs[0].with_name("missing.png"), inputs[1]), tmp_path / TEMPLATE, capsys)
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    code, err = _render(inputs, tmp_path / TEMPLATE, capsys)
    assert code == 0, err
    assert (tmp_path / "hero_v001.mp4").is_file()


def test_the_command_line_refuses_a_bad_template(tmp_path, inputs, capsys):
    code, err = _render(inputs, tmp_path / "{shot}_v{version:03d}.mp4", capsys)
    assert code == 2 and "unknown field {shot}" in err and err.count("\n") == 1
    code, err = _render(inputs, tmp_path / TEMPLATE, capsys, "--overwrite")
    assert code == 2 and "never replaces" in err


# ----------------------------------------------------------------------------------------
# Listing


def test_versions_lists_each_shot_in_order_with_its_changes(tmp_path, inputs, capsys):
    for move, shot in (("orbit(degrees=8)", "hero"), ("orbit(degrees=12)", "hero"), ("pan", "wide")):
        code, err = _render(inputs, tmp_path / f"{shot}_v{{version:03d}}.mp4", capsys, "--move", move)
        assert code == 0, err
    code, err = _render(inputs, tmp_path / TEMPLATE, capsys, "--move", "orbit(degrees=12)")
    assert code == 0, err
    (tmp_path / "notes.recipe.json").write_text("{}")  # no version in the name: not listed
    (tmp_path / "hero_v009.recipe.json").write_text("{not json")  # listed as unreadable
    (tmp_path / ".hero_v010.claim").write_text("{}")

    shots = list_versions(tmp_path)
    assert list(shots) == ["hero", "wide"]
    hero = shots["hero"]
    assert [v.version for v in hero] == [1, 2, 3, 9]
    assert [v.output for v in hero[:3]] == ["hero_v001.mp4", "hero_v002.mp4", "hero_v003.mp4"]
    assert hero[0].changes == () and hero[0].frames == 3 and hero[0].size > 0
    assert hero[1].changes[0].path == "orbit.degrees"
    assert hero[2].changes == ()
    assert hero[3].error is not None

    code, out, _ = _run(["versions", str(tmp_path)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "hero"
    assert lines[1].startswith("  v001  ") and lines[1].endswith("  3 frames") and "hero_v001.mp4" in lines[1]
    assert lines[2].startswith("  v002  ")
    assert lines[3] == "        orbit.degrees 8 deg -> 12 deg"
    assert "        (no change)" in lines
    assert any(line.startswith("        unreadable: ") for line in lines)
    assert "wide" in lines and lines[-1].startswith("claimed: .hero_v010.claim")

    code, out, _ = _run(["versions", str(tmp_path), "--json"], capsys)
    listing = json.loads(out)
    second = listing["shots"]["hero"][1]
    assert second["version"] == 2 and second["frames"] == 3
    assert second["changes"][0] == {"path": "orbit.degrees", "old": 8.0, "new": 12.0, "unit": "deg"}
    assert listing["claims"] == [str(tmp_path / ".hero_v010.claim")]


def test_versions_of_a_missing_folder_exits_2(tmp_path, capsys):
    code, out, err = _run(["versions", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and out == "" and "not a folder" in err
