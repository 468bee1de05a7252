"""Shot lists: YAML and CSV parsing, defaults and their precedence, names and versions, and
every problem of a list reported at once (nothing here renders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stillcam.batch import shotlist
from stillcam.batch.naming import check_template, format_name
from stillcam.batch.run import plan_batch
from stillcam.batch.shotlist import ShotListErrors, cli_level, load_shot_list, merge
from stillcam.errors import InputError

SMALL = {"size": "64x36", "duration": 0.25, "fps": 12}


def _specs(path: Path, cli: dict | None = None) -> dict:
    checked = load_shot_list(path, cli_level(cli or {}, Path.cwd()))
    assert checked.errors == ()
    return {s.name: s for s in checked.specs}


def test_yaml_list_takes_defaults_aliases_and_paths_from_its_folder(
    tmp_path, stills, write_yaml, monkeypatch
):
    monkeypatch.chdir(tmp_path.parent)  # paths are the list's, not the working folder's
    shots = [
        {"name": "SEQ010_SH010", "photo": "in/a.png", "move": "orbit", "set": {"degrees": 8}},
        {"name": "SEQ010_SH020", "photo": "in/b.png", "frames": 6, "fps": 24, "options": {"stride": 2}},
        {
            "name": "SEQ010_SH030",
            "photo": "in/a.png",
            "depth": None,
            "depth_model": "depth-anything-v2-small",
        },
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL, "codec": "h265"})
    specs = _specs(path)
    a, b, c = specs["SEQ010_SH010"], specs["SEQ010_SH020"], specs["SEQ010_SH030"]
    assert a.photo == stills.a and a.depth == stills.depth
    assert a.options.shot.move == "orbit" and a.options.shot.params == ("degrees=8",)
    assert a.options.shot.fps == "12" and a.options.shot.size == "64x36" and a.options.output.codec == "h265"
    assert b.options.scene.stride == 2 and b.options.shot.fps == "24"
    assert b.options.shot.duration * 24 == pytest.approx(6)
    assert c.depth is None and c.options.depth.depth_model == "depth-anything-v2-small"
    assert a.where == f"{path}: shots[0] (SEQ010_SH010)"
    assert a.output == "{shot}_v{version:03d}.mp4" and a.version == 1


def test_csv_list_reads_columns_and_empty_cells_take_the_defaults(tmp_path, stills, write_csv):
    rows = [
        ["name", "photo", "depth", "move", "set", "stride", "snap_edges", "output", "exports", "version"],
        [
            "A",
            "in/a.png",
            "in/depth.npy",
            "orbit",
            "degrees=8;",
            "2",
            "false",
            "",
            "{shot}.glb;{shot}.chan",
            "",
        ],
        ["B", "in/b.png", "in/depth.npy", "", "", "", "", "{shot}_v{version:02d}.####.png", "", "3"],
    ]
    path = write_csv(tmp_path / "shots.csv", rows)
    specs = _specs(path, {"move": "pan", "params": ["degrees=5"], **SMALL, "fps": "12"})
    a, b = specs["A"], specs["B"]
    assert a.options.shot.params == ("degrees=8",) and a.options.scene.stride == 2
    assert a.options.scene.snap_edges is False and a.exports == ("{shot}.glb", "{shot}.chan")
    assert b.options.shot.move == "pan" and b.options.shot.params == ("degrees=5",)  # the command line's
    assert b.options.scene.stride == 0 and b.version == 3 and b.output.endswith(".####.png")
    assert a.where == f"{path} row 2 (A)" and b.where == f"{path} row 3 (B)"


def test_a_shot_beats_the_command_line_which_beats_the_file_defaults(tmp_path, stills, write_yaml):
    defaults = {
        "depth": "in/depth.npy",
        "move": "pan",
        "set": ["degrees=5"],
        "duration": 1.0,
        "size": "32x18",
    }
    shots = [
        {"name": "plain", "photo": "in/a.png"},
        {"name": "own_move", "photo": "in/a.png", "move": "dolly-in"},
        {"name": "own_frames", "photo": "in/a.png", "frames": 3},
        {"name": "own_size", "photo": "in/a.png", "size": "48x27", "set": "degrees=2"},
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, defaults)
    specs = _specs(path, {"move": "orbit", "params": ["degrees=8"], "size": "64x36", "fps": "12"})
    plain = specs["plain"].options.shot
    assert (plain.move, plain.params, plain.size, plain.duration) == ("orbit", ("degrees=8",), "64x36", 1.0)
    own_move = specs["own_move"].options.shot
    assert own_move.move == "dolly-in" and own_move.params == ()  # a new move drops the parameters below
    assert specs["own_frames"].options.shot.duration == pytest.approx(3 / 12)  # frames replace the duration
    own_size = specs["own_size"].options.shot
    assert own_size.size == "48x27" and own_size.params == ("degrees=2",) and own_size.move == "orbit"


def test_merge_drops_the_alternatives_a_level_replaces():
    below = {"move": "pan", "params": ("degrees=5",), "duration": 2.0, "depth": "d.npy", "stride": 2}
    assert merge([below, {"camera_file": "shot.yaml"}]) == {
        "camera_file": "shot.yaml",
        "duration": 2.0,
        "depth": "d.npy",
        "stride": 2,
    }
    assert merge([below, {"frame_count": 10}])["frame_count"] == 10
    assert "duration" not in merge([below, {"frame_count": 10}])
    assert "depth" not in merge([below, {"depth_model": "m"}])
    assert merge([below, {"move": "orbit", "params": ("degrees=1",)}])["params"] == ("degrees=1",)
    assert merge([{"frame_count": 3}, {"duration": 1.0}]) == {"duration": 1.0}


def test_five_kinds_of_errors_are_all_reported_with_their_shots(tmp_path, stills, write_yaml):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "blocked").write_text("a file where a folder should be")
    defaults = {"depth": "in/depth.npy", **SMALL}
    shots = [
        {"name": "ok", "photo": "in/a.png"},
        {"name": "no_photo", "photo": "in/missing.jpg"},
        {"name": "bad_move", "photo": "in/a.png", "move": "orbt"},
        {"name": "bad_size", "photo": "in/a.png", "size": "64x"},
        {"name": "ok", "photo": "in/b.png"},
        {"name": "unwritable", "photo": "in/a.png", "output": "blocked/{shot}.mp4"},
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, defaults)
    with pytest.raises(ShotListErrors) as caught:
        plan_batch(path, tmp_path / "out")
    lines = caught.value.lines
    assert len(lines) == 5, lines
    expected = [
        ("shots[1] (no_photo): photo in/missing.jpg: no such file",),
        ("shots[2] (bad_move):", "orbt"),
        ("shots[3] (bad_size):", "--size"),
        ("shots[4] (ok): duplicate shot name 'ok'", "shots[0] (ok)"),
        ("shots[5] (unwritable):", "blocked", "is a file"),
    ]
    for words in expected:
        assert any(all(w in line for w in words) for line in lines), (words, lines)
    assert all(line.startswith(f"{path}: shots[") for line in lines)
    assert not (tmp_path / "out" / "batch.json").exists()


def test_csv_errors_name_their_rows(tmp_path, stills, write_csv):
    rows = [
        ["name", "photo", "depth", "move", "fps", "stride"],
        ["A", "in/a.png", "in/depth.npy", "orbit", "12", ""],
        ["B", "in/a.png", "in/depth.npy", "orbt", "12", ""],
        ["C", "in/a.png", "in/depth.npy", "", "0", "x"],
        ["D", "in/a.png"],
        ["E F", "in/a.png", "in/depth.npy", "", "12", ""],
    ]
    path = write_csv(tmp_path / "shots.csv", rows)
    with pytest.raises(ShotListErrors) as caught:
        plan_batch(path, tmp_path / "out", {"size": "64x36", "duration": 0.25})
    lines = caught.value.lines
    assert any(line.startswith(f"{path} row 3 (B): ") and "'orbt'" in line for line in lines), lines
    assert any(line.startswith(f"{path} row 4 (C): ") and "stride 'x'" in line for line in lines), lines
    assert any(line.startswith(f"{path} row 5: 2 cells") for line in lines), lines
    assert any(line.startswith(f"{path} row 6 (E F): name 'E F'") for line in lines), lines
    assert len(lines) == 4


def test_bad_files_are_one_line_each(tmp_path, write_yaml, monkeypatch):
    (tmp_path / "shots.txt").write_text("name\n")
    with pytest.raises(InputError, match=r"\.yaml/\.yml, \.json or \.csv"):
        plan_batch(tmp_path / "shots.txt", tmp_path)
    (tmp_path / "bad.yaml").write_text("shots: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        plan_batch(tmp_path / "bad.yaml", tmp_path)
    with pytest.raises(InputError, match="no shots"):
        plan_batch(write_yaml(tmp_path / "empty.yaml", []), tmp_path)
    monkeypatch.setattr(shotlist, "MAX_SHOTS", 2)
    with pytest.raises(InputError, match="at most 2"):
        plan_batch(write_yaml(tmp_path / "many.yaml", [{"name": f"s{i}"} for i in range(3)]), tmp_path)
    with pytest.raises(ShotListErrors, match=r"defaults: options\.strid: not a render option"):
        plan_batch(write_yaml(tmp_path / "opt.yaml", [{"name": "a"}], {"options": {"strid": 1}}), tmp_path)


def test_templates_take_shot_version_and_seq_only():
    assert format_name("{seq}/{shot}_v{version:03d}.####.png", shot="SH1", version=2, seq="SEQ") == (
        "SEQ/SH1_v002.####.png"
    )
    for template, words in [
        ("{shot}_{take}.mp4", "unknown field {take}"),
        ("{}.mp4", "unknown field {}"),
        ("{shot:03d}.mp4", "Unknown format code"),
        ("{shot.upper}.mp4", "unknown field"),
        ("{shot.mp4", "brace"),
    ]:
        with pytest.raises(InputError, match=words.replace("{", r"\{").replace("}", r"\}")):
            check_template(template)
    with pytest.raises(InputError, match="give the shot a seq"):
        format_name("{seq}_{shot}.mp4", shot="a", version=1, seq=None)


def test_names_and_versions(tmp_path, stills, write_yaml):
    out = tmp_path / "out"
    out.mkdir()
    defaults = {"depth": "in/depth.npy", **SMALL}
    path = write_yaml(tmp_path / "shots.yaml", [{"name": "A", "photo": "in/a.png"}], defaults)
    (out / "A_v001.recipe.json").write_text("{}")  # a recipe alone takes its version
    (out / "A_v002.mp4").write_bytes(b"")
    shot = plan_batch(path, out).shots[0]
    assert shot.job.output == out / "A_v003.mp4" and shot.job.version == 3 and shot.requested == 1
    assert "v1 taken" in shot.note and "rendered as v3" in shot.note
    replaced = plan_batch(path, out, overwrite=True).shots[0]
    assert replaced.job.output == out / "A_v001.mp4" and "replaces v1" in replaced.note
    fixed = write_yaml(
        tmp_path / "fixed.yaml", [{"name": "A", "photo": "in/a.png", "output": "A_v002.mp4"}], defaults
    )
    with pytest.raises(ShotListErrors, match=r"has no \{version\}.*--overwrite"):
        plan_batch(fixed, out)
    same = [{"name": n, "photo": "in/a.png", "output": "take.mp4"} for n in ("A", "B")]
    with pytest.raises(
        ShotListErrors, match=r"shots\[1\] \(B\): output .*take.mp4 collides with .*shots\[0\] \(A\)"
    ):
        plan_batch(write_yaml(tmp_path / "same.yaml", same, defaults), out)


def test_render_options_may_sit_beside_the_shot_fields(tmp_path, stills, write_yaml):
    shots = [
        {"name": "A", "photo": "in/a.png", "stride": 3, "encoder_threads": 1, "options": {"fill": "ns"}},
        {"name": "B", "photo": "in/a.png", "stride": 2, "options": {"stride": 1}},
        {"name": "C", "photo": "in/a.png", "strid": 2},
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL, "snap_edges": False})
    checked = load_shot_list(path)
    a = checked.specs[0].options
    assert (a.scene.stride, a.output.encoder_threads, a.scene.fill, a.scene.snap_edges) == (3, 1, "ns", False)
    assert [e.split(": ", 2)[-1] for e in checked.errors] == [
        "stride is given twice (also under options)",
        "strid: is not a known field (misspelt?)",
    ]
