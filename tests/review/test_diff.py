"""``stillcam diff``: every kind of change between two recipes, in its unit; no change, no
lines and exit 0; a change exit 1; a bad recipe exit 2 (docs/review.md, Diff)."""

from __future__ import annotations

import copy
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from helpers import tiny_shot_inputs
from stillcam.cli import main
from stillcam.errors import RecipeError
from stillcam.options import SECTIONS
from stillcam.review.diff import (
    OPTION_UNITS,
    Change,
    diff_files,
    diff_recipes,
    format_change,
    format_changes,
    format_value,
    move_changes,
)

TINY = ["--duration", "0.25", "--fps", "12", "--quiet"]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the CLI run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code), captured.out, captured.err


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """The recipe of a tiny render (64x36, 3 frames) of a two-segment move."""
    folder = tmp_path_factory.mktemp("diff")
    photo, depth = tiny_shot_inputs(folder)
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(folder / "a.mp4"), *TINY]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--move", "orbit(degrees=8) then pan"])
    assert exit_info.value.code == 0
    return folder / "a.recipe.json"


@pytest.fixture()
def recipe(rendered: Path) -> dict[str, Any]:
    return json.loads(rendered.read_text())


def _lines(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return format_changes(diff_recipes(a, b)).splitlines()


def _changed(recipe: dict[str, Any], section: str, **values: Any) -> dict[str, Any]:
    other = copy.deepcopy(recipe)
    other["options"][section].update(values)
    return other


def test_the_same_recipe_has_no_changes(recipe):
    assert diff_recipes(recipe, copy.deepcopy(recipe)) == ()
    assert format_changes(()) == ""


@pytest.mark.parametrize(
    ("section", "values", "expected"),
    [
        ("shot", {"duration": 3.0}, "shot.duration 0.25 s -> 3 s"),
        ("shot", {"fps": "24000/1001"}, "shot.fps 12 fps -> 24000/1001 fps"),
        ("shot", {"focal_mm": 35.0}, "shot.focal_mm unset -> 35 mm"),
        ("shot", {"fov": 60.0}, "shot.fov unset -> 60 deg"),
        ("shot", {"size": "HD"}, "shot.size source -> HD"),
        ("shot", {"first_frame": 1}, "shot.first_frame 1001 -> 1"),
        ("shot", {"frames": "1001-1002"}, "shot.frames unset -> 1001-1002"),
        ("shot", {"target_depth": 2.5}, "shot.target_depth unset -> 2.5 m"),
        ("shot", {"safe": True}, "shot.safe off -> on"),
        ("shot", {"easing": "linear"}, "shot.easing ease-in-out -> linear"),
        ("depth", {"depth_kind": "inverse-depth"}, "depth.depth_kind depth -> inverse-depth"),
        ("depth", {"near": 0.5}, "depth.near unset -> 0.5 m"),
        ("depth", {"depth_scale": 0.001}, "depth.depth_scale 1x -> 0.001x"),
        ("depth", {"depth_model": "depth-pro"}, "depth.depth_model depth-anything-v2-small -> depth-pro"),
        ("scene", {"stride": 2}, "scene.stride 0 px -> 2 px"),
        ("scene", {"fill": "ns"}, "scene.fill telea -> ns"),
        ("scene", {"snap_edges": False}, "scene.snap_edges on -> off"),
        ("render", {"fstop": 2.8}, "render.fstop unset -> f/2.8"),
        ("render", {"vignette": 0.5}, "render.vignette 0 stops -> 0.5 stops"),
        ("render", {"shutter": 180.0}, "render.shutter unset -> 180 deg"),
        ("render", {"focus": "2.5"}, "render.focus subject -> 2.5 m"),
        ("render", {"interaxial": 30.0}, "render.interaxial 65 mm -> 30 mm"),
        ("render", {"distortion": [-0.1, 0.0, 0.0, 0.0]}, "render.distortion unset -> [-0.1, 0, 0, 0]"),
        ("output", {"codec": "prores-422hq"}, "output.codec h264 -> prores-422hq"),
        ("output", {"crf": 20}, "output.crf 16 -> 20"),
        ("output", {"bit_depth": 16}, "output.bit_depth 8 bits -> 16 bits"),
        ("output", {"timecode": "01:00:00:00"}, 'output.timecode "" -> 01:00:00:00'),
        ("output", {"passes": ["depth"]}, "output.passes [] -> [depth]"),
        ("output", {"matte": [1.0, 1.0, 1.0]}, "output.matte [0, 0, 0] -> [1, 1, 1]"),
        ("provenance", {"commercial_only": True}, "provenance.commercial_only off -> on"),
    ],
)
def test_each_option_section_changes_in_its_unit(recipe, section, values, expected):
    assert _lines(recipe, _changed(recipe, section, **values)) == [expected]


def test_the_unit_table_names_only_options():
    known = {f"{name}.{f.name}" for name, section in SECTIONS.items() for f in fields(section)}
    assert set(OPTION_UNITS) <= known


def test_frame_rates_compare_as_fractions(recipe):
    a, b = _changed(recipe, "shot", fps="23.976"), _changed(recipe, "shot", fps="24000/1001")
    assert diff_recipes(a, b) == ()


def test_a_field_an_older_recipe_lacks_counts_as_its_default(recipe):
    older = copy.deepcopy(recipe)
    del older["options"]["render"]["vignette"], older["options"]["provenance"]
    assert diff_recipes(older, recipe) == ()
    assert _lines(older, _changed(recipe, "render", vignette=1.0)) == ["render.vignette 0 stops -> 1 stops"]


def test_a_recipe_from_before_a_default_changed_counts_as_what_it_was_rendered_with(recipe):
    """--mesh-error arrived off and became 0.1 by default: a recipe without it was the full grid."""
    assert recipe["options"]["scene"]["mesh_error"] == 0.1
    older = copy.deepcopy(recipe)
    del older["options"]["scene"]["mesh_error"]
    assert _lines(older, recipe) == ["scene.mesh_error 0 px -> 0.1 px"]
    assert diff_recipes(older, _changed(recipe, "scene", mesh_error=0.0)) == ()


# ----------------------------------------------------------------------------------------
# Moves


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("orbit(degrees=8)", "orbit(degrees=12)", ["orbit.degrees 8 deg -> 12 deg"]),
        ("orbit", "orbit(degrees=20)", []),  # 20 is orbit's default: the same move
        (None, "dolly-in", []),  # dolly-in is the default move
        ("zoom-in", "zoom-in(to_mm=85)", ["zoom-in.to_mm unset -> 85 mm (35 mm eq.)"]),
        (
            "dolly-in",
            "dolly-in(fraction=0.5)",
            ["dolly-in.fraction 0.25x subject distance -> 0.5x subject distance"],
        ),
        ("truck(distance=1)", "truck(distance=2)", ["truck.distance 1 m -> 2 m"]),
        ("handheld(seed=1)", "handheld(seed=2)", ["handheld.seed 1 -> 2"]),
        ("zoom-in(factor=1.5)", "zoom-in(factor=2)", ["zoom-in.factor 1.5x -> 2x"]),
        ("pan then pan", "pan then pan(degrees=30)", ["pan#2.degrees 15 deg -> 30 deg"]),
        ("pan(duration=2) then tilt", "pan(duration=1) then tilt", ["pan.duration 2 s -> 1 s"]),
        ("pan(frames=10) then tilt", "pan(frames=12) then tilt", ["pan.frames 10 frames -> 12 frames"]),
        ("pan then tilt", "pan(easing=linear) then tilt", ["pan.easing unset -> linear"]),
        ("pan + handheld(seed=1)", "pan + handheld(seed=3)", ["handheld.seed 1 -> 3"]),
        ("pan + handheld", "pan + handheld(easing=linear)", ["handheld.easing unset -> linear"]),
        # Another structure: the whole expression.
        (
            "orbit(degrees=8)",
            "orbit(degrees=8) then pan",
            ["shot.move orbit(degrees=8) -> orbit(degrees=8) then pan"],
        ),
        ("pan", "tilt", ["shot.move pan -> tilt"]),
        ("pan + handheld", "pan", ["shot.move pan + handheld -> pan"]),
    ],
)
def test_moves_are_compared_per_parameter_when_their_structure_matches(old, new, expected):
    changes = move_changes({"move": old}, {"move": new})
    assert [format_change(c) for c in changes] == expected


def test_set_parameters_count_as_the_moves_own(recipe):
    old = {"move": "orbit", "params": ["degrees=8"]}
    assert [format_change(c) for c in move_changes(old, {"move": "orbit(degrees=12)"})] == [
        "orbit.degrees 8 deg -> 12 deg"
    ]
    assert move_changes(old, {"move": "orbit(degrees=8)"}) == ()


def test_a_move_this_version_cannot_read_is_compared_as_written():
    changes = move_changes({"move": "warp(speed=3)"}, {"move": "warp(speed=4)"})
    assert [format_change(c) for c in changes] == ["shot.move warp(speed=3) -> warp(speed=4)"]


def test_the_recipes_move_is_diffed_per_segment(recipe):
    other = _changed(recipe, "shot", move="orbit(degrees=12) then pan(degrees=3)")
    assert _lines(recipe, other) == ["orbit.degrees 8 deg -> 12 deg", "pan.degrees 15 deg -> 3 deg"]


def test_a_camera_file_against_a_move(recipe):
    other = _changed(recipe, "shot", move=None, camera_file="shot.yaml")
    other["inputs"]["camera_file"] = {"path": "/shots/shot.yaml", "sha256": "c" * 64}
    assert _lines(recipe, other) == [
        "inputs.camera_file changed (sha256 unset -> cccccccccccc)",
        "inputs.camera_file.path unset -> /shots/shot.yaml",
        "shot.move orbit(degrees=8) then pan -> unset",
    ]


# ----------------------------------------------------------------------------------------
# Inputs, models, version, output


def test_a_changed_photo_shows_its_short_sha256_and_its_path(recipe):
    other = copy.deepcopy(recipe)
    other["inputs"]["photo"].update(sha256="b" * 64, path="/elsewhere/photo.png")
    old = recipe["inputs"]["photo"]["sha256"][:12]
    assert _lines(recipe, other) == [
        f"inputs.photo changed (sha256 {old} -> bbbbbbbbbbbb)",
        f"inputs.photo.path {recipe['inputs']['photo']['path']} -> /elsewhere/photo.png",
    ]


def test_a_moved_input_with_the_same_content_is_no_change(recipe):
    other = copy.deepcopy(recipe)
    other["inputs"]["photo"]["path"] = "/elsewhere/photo.png"
    other["inputs"]["depth"]["path"] = "/elsewhere/d.npy"
    other["depth_source"] = other["depth_source"].replace("depth.npy", "d.npy")
    assert diff_recipes(recipe, other) == ()


def test_a_changed_depth_file_and_its_interpretation(recipe):
    other = copy.deepcopy(recipe)
    other["inputs"]["depth"]["sha256"] = "d" * 64
    other["depth_source"] = "file:depth.npy (inverse-depth)"
    lines = _lines(recipe, other)
    assert lines[0].startswith("inputs.depth changed (sha256 ") and lines[0].endswith(" -> dddddddddddd)")
    assert lines[1] == "depth_source file: (depth) -> file: (inverse-depth)"


def test_a_depth_models_estimate(recipe):
    a, b = copy.deepcopy(recipe), copy.deepcopy(recipe)
    a["inputs"]["depth"] = {"model": "m", "revision": "r1", "cache": "/c/1.npy", "sha256": "1" * 64}
    b["inputs"]["depth"] = {"model": "m", "revision": "r2", "cache": "/c/2.npy", "sha256": "2" * 64}
    assert _lines(a, b) == [
        "inputs.depth changed (sha256 111111111111 -> 222222222222)",
        "inputs.depth.revision r1 -> r2",
    ]


def test_the_example_inputs_size(recipe):
    a, b = copy.deepcopy(recipe), copy.deepcopy(recipe)
    for r in (a, b):
        del r["inputs"]["photo"], r["inputs"]["depth"]
    a["inputs"]["example"] = {"width": 64, "height": 36, "sha256": "e" * 64}
    b["inputs"]["example"] = {"width": 128, "height": 72, "sha256": "f" * 64}
    assert _lines(a, b) == [
        "inputs.example changed (sha256 eeeeeeeeeeee -> ffffffffffff)",
        "inputs.example.height 36 px -> 72 px",
        "inputs.example.width 64 px -> 128 px",
    ]


def _model(name: str, revision: str, role: str = "depth") -> dict[str, Any]:
    return {"role": role, "name": name, "revision": revision, "licence": "apache-2.0", "commercial": True}


def test_models_added_removed_and_changed(recipe):
    a, b = copy.deepcopy(recipe), copy.deepcopy(recipe)
    a["models"] = [_model("depth-anything-v2-small", "r1"), _model("migan", "f1", "fill")]
    b["models"] = [_model("depth-pro", "r9"), _model("migan", "f2", "fill")]
    assert _lines(a, b) == [
        "models.depth:depth-anything-v2-small depth-anything-v2-small@r1 -> unset",
        "models.fill:migan.revision f1 -> f2",
        "models.depth:depth-pro unset -> depth-pro@r9",
    ]


def test_fill_model_inputs(recipe):
    a, b = copy.deepcopy(recipe), copy.deepcopy(recipe)
    a["inputs"]["fill_models"] = [{"name": "migan", "revision": "r1", "sha256": "1" * 64}]
    b["inputs"]["fill_models"] = [{"name": "migan", "revision": "r1", "sha256": "2" * 64}]
    assert _lines(a, b) == ["inputs.fill_models.migan changed (sha256 111111111111 -> 222222222222)"]


def test_the_stillcam_version(recipe):
    other = copy.deepcopy(recipe)
    other["stillcam_version"] = "9.9.9"
    assert _lines(recipe, other) == [f"stillcam_version {recipe['stillcam_version']} -> 9.9.9"]


def test_output_settings_but_not_the_outputs_name(recipe):
    other = copy.deepcopy(recipe)
    other["output"].update(camera_path="b_v002.mp4")
    assert diff_recipes(recipe, other) == ()
    other["output"].update(camera_path="b.mov", width=128, height=72, fps="25/1", frames=6)
    other["output"]["content_credentials"] = {"signer": "CN=test"}
    assert _lines(recipe, other) == [
        "output.extension .mp4 -> .mov",
        "output.content_credentials.signer unset -> CN=test",
        "output.fps 12 fps -> 25 fps",
        "output.frames 3 frames -> 6 frames",
        "output.height 36 px -> 72 px",
        "output.width 64 px -> 128 px",
    ]


def test_focal_and_safety_but_not_the_guards_sentences(recipe):
    other = copy.deepcopy(recipe)
    other["focal"] = {"mm": 35.0, "source": "user"}
    other["safety"]["warnings"] = ["another sentence"]
    assert _lines(recipe, other) == ["focal.mm 50 mm -> 35 mm", "focal.source default -> user"]
    other["safety"]["amount"] = 0.5
    assert _lines(recipe, other)[-1] == f"safety.amount {format_value(recipe['safety']['amount'])} -> 0.5"


def test_changes_have_a_json_form():
    change = Change("orbit.degrees", 8.0, 12.0, "deg")
    assert change.to_dict() == {"path": "orbit.degrees", "old": 8.0, "new": 12.0, "unit": "deg"}
    assert format_change(change) == "orbit.degrees 8 deg -> 12 deg"


def test_a_bad_recipe_is_a_recipe_error(recipe, tmp_path):
    bad = copy.deepcopy(recipe)
    bad["inputs"]["photo"]["sha256"] = "xyz"
    with pytest.raises(RecipeError, match="sha256"):
        diff_recipes(recipe, bad)
    with pytest.raises(RecipeError, match="not a stillcam recipe"):
        diff_recipes(recipe, {"format": 7})
    with pytest.raises(RecipeError):
        diff_files(tmp_path / "missing.recipe.json", tmp_path / "missing.recipe.json")


# ----------------------------------------------------------------------------------------
# The command line


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_the_command_exits_0_with_no_output_when_the_same(rendered, capsys):
    code, out, err = _run(["diff", str(rendered), str(rendered)], capsys)
    assert (code, out, err) == (0, "", "")


def test_the_command_exits_1_and_prints_each_change(recipe, rendered, tmp_path, capsys):
    other = _changed(recipe, "shot", move="orbit(degrees=12) then pan", duration=3.0)
    b = _write(tmp_path / "b.recipe.json", other)
    code, out, _ = _run(["diff", str(rendered), str(b)], capsys)
    assert code == 1
    assert out.splitlines() == ["orbit.degrees 8 deg -> 12 deg", "shot.duration 0.25 s -> 3 s"]
    code, out, _ = _run(["diff", str(rendered), str(b), "--json"], capsys)
    assert code == 1
    assert json.loads(out)[0] == {"path": "orbit.degrees", "old": 8.0, "new": 12.0, "unit": "deg"}


def test_an_outputs_name_finds_its_recipe(rendered, capsys):
    code, out, _ = _run(["diff", str(rendered.parent / "a.mp4"), str(rendered)], capsys)
    assert (code, out) == (0, "")


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": 1}), None])
def test_the_command_exits_2_on_a_bad_recipe(rendered, tmp_path, capsys, content):
    bad = tmp_path / "bad.recipe.json"
    if content is not None:
        bad.write_text(content)
    code, out, err = _run(["diff", str(rendered), str(bad)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("stillcam: error: ") and str(bad) in err and err.count("\n") == 1
