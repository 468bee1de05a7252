"""The command line end to end: outputs, recipes, re-renders and every bad input."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import av
import numpy as np
import pytest

from stillcam import MOVES
from stillcam.cli import main

SMALL = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--quiet"]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    """(exit code, stderr) of the CLI run in this process; stdout stays in ``capsys``."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    print(captured.out, end="")
    return int(exit_info.value.code), captured.err


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_moves_lists_every_move_with_units(capsys):
    code, _ = _run(["moves"], capsys)
    out = capsys.readouterr().out
    assert code == 0
    for name in MOVES:
        assert name in out
    assert "[deg]" in out and "[m]" in out and "[mm (35 mm eq.)]" in out


def test_help_documents_sizes_and_crop(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "UHD (3840x2160)" in text and "cropping the photo's centre" in text and "--set KEY=VALUE" in text


def _render(photo: Path, depth: Path, output: Path, *extra: str) -> list[str]:
    """argv of a small ``stillcam render``."""
    return ["render", str(photo), "--depth", str(depth), "-o", str(output), *extra, *SMALL]


def _rerender_in_new_process(recipe: Path, output: Path) -> None:
    command = [sys.executable, "-m", "stillcam", "rerender", str(recipe), "-o", str(output), "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("move", list(MOVES))
def test_every_move_renders_end_to_end(tmp_path: Path, photo_files, move, capsys):
    argv = [*_render(*photo_files, tmp_path / "m.####.png", "--move", move), "--fps", "16"]  # 4 frames
    code, err = _run(argv, capsys)
    assert code == 0, err
    frames = sorted(tmp_path.glob("m.*.png"))
    assert [f.name for f in frames] == ["m.1001.png", "m.1002.png", "m.1003.png", "m.1004.png"]
    recipe = json.loads((tmp_path / "m.png.recipe.json").read_text())
    assert recipe["options"]["shot"]["move"] == move
    # Every move but static changes the view mid-shot (some, like swing, return at the end).
    moved = frames[0].read_bytes() != frames[1].read_bytes()
    assert moved == (move != "static")


def test_png_recipe_round_trip_in_a_new_process_is_byte_identical(tmp_path: Path, photo_files, capsys):
    argv = _render(*photo_files, tmp_path / "a.####.png", "--move", "pan", "--bit-depth", "16")
    code, err = _run(argv, capsys)
    assert code == 0, err
    recipe = json.loads((tmp_path / "a.png.recipe.json").read_text())
    assert recipe["inputs"]["photo"]["sha256"] and recipe["inputs"]["depth"]["sha256"]
    assert recipe["stillcam_version"] and recipe["depth_source"].startswith("file:depth.npy")
    assert recipe["options"]["output"]["bit_depth"] == 16 and recipe["focal"]["source"] == "default"
    _rerender_in_new_process(tmp_path / "a.png.recipe.json", tmp_path / "b.####.png")
    for number in (1001, 1002, 1003):
        assert (tmp_path / f"a.{number}.png").read_bytes() == (tmp_path / f"b.{number}.png").read_bytes()


@pytest.mark.parametrize("source", ["photo", "demo"])
def test_video_rerender_in_a_new_process_decodes_identically(tmp_path: Path, photo_files, source, capsys):
    if source == "photo":
        argv = _render(*photo_files, tmp_path / "d.mp4", "--move", "orbit", "--set", "degrees=10")
    else:
        argv = ["demo", "--example-size", "96x54", "-o", str(tmp_path / "d.mp4"), *SMALL]
    code, err = _run(argv, capsys)
    assert code == 0, err
    _rerender_in_new_process(tmp_path / "d.recipe.json", tmp_path / "e.mp4")
    first, again = _decoded(tmp_path / "d.mp4"), _decoded(tmp_path / "e.mp4")
    assert len(first) == 3 and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_rerender_refuses_changed_input(tmp_path: Path, photo_files, capsys):
    photo, depth = photo_files
    assert _run(_render(photo, depth, tmp_path / "r.mp4"), capsys)[0] == 0
    np.save(depth, np.load(depth) * 1.01)
    code, err = _run(["rerender", str(tmp_path / "r.recipe.json"), "-o", str(tmp_path / "s.mp4")], capsys)
    assert code == 2 and "changed" in err and err.count("\n") == 1
    assert not (tmp_path / "s.mp4").exists()


def _zero_size_png() -> bytes:
    """A syntactically valid PNG whose header says 0 x 0 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_depth_of_another_size_is_resampled(tmp_path: Path, photo_files, capsys):
    photo, depth = photo_files
    half = tmp_path / "half.npy"
    np.save(half, np.load(depth)[::2, ::2])
    code, err = _run(
        ["render", str(photo), "--depth", str(half), "-o", str(tmp_path / "h.mp4"), *SMALL], capsys
    )
    assert code == 0, err
    assert len(_decoded(tmp_path / "h.mp4")) == 3


def _bad_cases(tmp_path: Path, photo: Path, depth: Path) -> list[tuple[list[str], int, str]]:
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "zero.png").write_bytes(_zero_size_png())
    z = np.load(depth)
    cases = {}
    for label, value in (("nan", np.nan), ("inf", np.inf), ("neg", -1.0)):
        bad = z.copy()
        bad[3, 4] = value
        np.save(tmp_path / f"{label}.npy", bad)
        cases[label] = tmp_path / f"{label}.npy"
    np.save(tmp_path / "square.npy", np.ones((50, 50), np.float32))
    out = str(tmp_path / "out.mp4")
    base = ["--depth", str(depth), "-o", out, *SMALL]
    return [
        (["render", str(tmp_path / "missing.jpg"), *base], 2, "no such file"),
        (["render", str(tmp_path / "text.jpg"), *base], 2, "not an image"),
        (["render", str(tmp_path / "empty.png"), *base], 2, "empty"),
        (["render", str(tmp_path / "zero.png"), *base], 2, "zero-size"),
        (["render", str(photo), "--depth", str(cases["nan"]), "-o", out, *SMALL], 2, "NaN"),
        (["render", str(photo), "--depth", str(cases["inf"]), "-o", out, *SMALL], 2, "infinite"),
        (["render", str(photo), "--depth", str(cases["neg"]), "-o", out, *SMALL], 2, "negative"),
        (["render", str(photo), "--depth", str(tmp_path / "square.npy"), "-o", out, *SMALL], 2, "aspect"),
        (["render", str(photo), *base, "--move", "fly"], 2, "choose one of"),
        (["render", str(photo), *base, "--move", "pan", "--set", "speed=2"], 2, "valid parameters"),
        (["render", str(photo), *base, "--size", "65x36"], 2, "even"),
        (["render", str(photo), *base, "--crf", "60"], 2, "--crf"),
        (["render", str(photo), *base, "--preset", "warp"], 2, "--preset"),
        (["render", str(photo), *base, "--duration", "-1"], 2, "duration"),
        (["render", str(photo), *base, "--fps", "fast"], 2, "fps"),
        (["render", str(photo), *base, "--focal-mm", "20", "--fov", "60"], 2, "either"),
        (["render", str(photo), *base, "--target", "0.5"], 2, "X,Y"),
        (["render", str(photo), *base, "--target", "0.5,1.5"], 2, "0..1"),
        (["render", str(photo), *base, "--target-depth", "-2"], 2, "--target-depth"),
        (["render", str(photo), *base, "--move", "pan then tilt", "--set", "degrees=3"], 2, "single move"),
        (["render", str(photo), *base, "--move", "pan(degrees=2"], 2, "cannot read"),
        (["render", str(photo), *base, "--easing", "bezier(2,0,0,1)"], 2, "time moves forward"),
        (["render", str(photo), *base, "--path", str(tmp_path / "none.yaml")], 2, "no such file"),
        (["render", str(photo), *base, "--path", str(depth), "--move", "pan"], 2, "not both"),
        (
            ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "no" / "x.mp4"), *SMALL],
            1,
            "does not exist",
        ),
        (["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "x.gif"), *SMALL], 2, ".mp4"),
    ]


def test_bad_inputs_give_one_line_and_no_output(tmp_path: Path, photo_files, capsys):
    photo, depth = photo_files
    before = None
    for argv, expected_code, needle in _bad_cases(tmp_path, photo, depth):
        before = sorted(p.name for p in tmp_path.iterdir()) if before is None else before
        code, err = _run(argv, capsys)
        assert code == expected_code, (argv, err)
        assert err.count("\n") == 1 and err.startswith("stillcam: error:") and needle in err, err
        assert "Traceback" not in err
        assert sorted(p.name for p in tmp_path.iterdir()) == before, argv


def test_existing_output_needs_overwrite(tmp_path: Path, photo_files, capsys):
    photo, depth = photo_files
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "o.mp4"), *SMALL]
    assert _run(argv, capsys)[0] == 0
    code, err = _run(argv, capsys)
    assert code == 1 and "--overwrite" in err
    assert _run([*argv, "--overwrite"], capsys)[0] == 0


def test_traceback_free_in_a_real_process(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stillcam",
            "render",
            str(tmp_path / "nope.jpg"),
            "--depth",
            "d.exr",
            "-o",
            str(tmp_path / "o.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_target_picks_the_subject_the_moves_frame(small_example):
    from stillcam.camera import Camera, fit_output_camera
    from stillcam.camera.plan import ShotSettings, move_context
    from stillcam.options import RenderOptions
    from stillcam.pipeline import plan_shot
    from stillcam.render.frame import project_vertices

    picture, depth = small_example
    shot = ShotSettings(move="orbit", params=("degrees=25",), target="0.3,0.7", duration=1.0)
    _, path, _ = plan_shot(picture, depth, RenderOptions(shot=shot))
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    context = move_context(fit_output_camera(source, picture.width, picture.height), source, depth.z, shot)
    first = path.cameras[0]
    pixel = np.array([0.3 * first.width - 0.5, 0.7 * first.height - 0.5])
    # The subject sits on that pixel's ray, at the depth map's depth there (the red sphere).
    np.testing.assert_allclose(project_vertices(context.target[None], first)[0, :2], pixel, atol=1e-6)
    assert 3.0 < context.subject_depth < 5.0
    for camera in path.cameras:
        np.testing.assert_allclose(project_vertices(context.target[None], camera)[0, :2], pixel, atol=0.5)


def test_export_cameras_writes_a_transforms_json_that_reads_back(tmp_path: Path, photo_files, capsys):
    from stillcam.camera.transforms import read_transforms

    argv = [
        *_render(*photo_files, tmp_path / "c.####.png", "--move", "orbit"),
        "--export-cameras",
        str(tmp_path / "cams.json"),
    ]
    code, err = _run(argv, capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "cams.json").read_text())
    assert [f["file_path"] for f in data["frames"]] == ["c.1001.png", "c.1002.png", "c.1003.png"]
    path = read_transforms(tmp_path / "cams.json")
    assert len(path) == 3 and path.cameras[0].width == 64
    again = [*_render(*photo_files, tmp_path / "d.####.png"), "--export-cameras", str(tmp_path / "cams.json")]
    code, err = _run(again, capsys)  # the camera file exists now: refused before rendering
    assert code == 1 and "cams.json" in err and not list(tmp_path.glob("d.*.png"))


def test_a_shot_file_renders_what_the_move_expression_does(tmp_path: Path, photo_files, capsys):
    expression = "dolly-in(fraction=0.1, frames=3) then orbit(degrees=8, frames=2) + handheld(seed=5)"
    code, err = _run([*_render(*photo_files, tmp_path / "e.mp4", "--move", expression)], capsys)
    assert code == 0, err
    shot = tmp_path / "shot.yaml"
    shot.write_text(
        "segments:\n"
        "  - {move: dolly-in, params: {fraction: 0.1}, frames: 3}\n"
        "  - {move: orbit, params: {degrees: 8}, frames: 2, layers: [{move: handheld, params: {seed: 5}}]}\n"
    )
    code, err = _run([*_render(*photo_files, tmp_path / "f.mp4", "--path", str(shot))], capsys)
    assert code == 0, err
    first, second = _decoded(tmp_path / "e.mp4"), _decoded(tmp_path / "f.mp4")
    assert len(first) == 5 and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    recipe = json.loads((tmp_path / "f.recipe.json").read_text())
    assert recipe["inputs"]["camera_file"]["sha256"] and recipe["options"]["shot"]["camera_file"] == str(shot)
    shot.write_text(shot.read_text().replace("seed: 5", "seed: 6"))
    code, err = _run(["rerender", str(tmp_path / "f.recipe.json"), "-o", str(tmp_path / "g.mp4")], capsys)
    assert code == 2 and "camera file" in err and "changed" in err


def test_a_transforms_json_renders_the_cameras_it_holds(tmp_path: Path, photo_files, capsys):
    argv = [*_render(*photo_files, tmp_path / "a.mp4", "--move", "orbit + handheld")]
    code, err = _run([*argv, "--export-cameras", str(tmp_path / "cams.json")], capsys)
    assert code == 0, err
    code, err = _run(
        [
            "render",
            str(photo_files[0]),
            "--depth",
            str(photo_files[1]),
            "-o",
            str(tmp_path / "b.mp4"),
            "--path",
            str(tmp_path / "cams.json"),
            "--quiet",
        ],
        capsys,
    )
    assert code == 0, err
    first, second = _decoded(tmp_path / "a.mp4"), _decoded(tmp_path / "b.mp4")
    assert len(first) == 3 and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    code, err = _run(
        [
            *_render(*photo_files, tmp_path / "c.mp4", "--path", str(tmp_path / "cams.json")),
            "--size",
            "64x64",
        ],
        capsys,
    )
    assert code == 2 and "aspect" in err


def test_guard_warns_on_stderr_records_in_the_recipe_and_clamps(tmp_path: Path, photo_files, capsys):
    code, err = _run([*_render(*photo_files, tmp_path / "w.mp4", "--move", "zoom-out(factor=2)")], capsys)
    assert code == 0 and err.startswith("stillcam: warning: frame") and "--safe" in err
    recipe = json.loads((tmp_path / "w.recipe.json").read_text())
    assert recipe["safety"]["amount"] == 1.0 and recipe["safety"]["reveal"] > 0.6
    code, err = _run(
        [*_render(*photo_files, tmp_path / "s.mp4", "--move", "zoom-out(factor=2)", "--safe")], capsys
    )
    assert code == 0 and "played at" in err
    assert json.loads((tmp_path / "s.recipe.json").read_text())["safety"]["reveal"] <= 0.4


def test_framing_inside_reports_the_zoom_on_stderr_and_in_the_recipe(tmp_path: Path, photo_files, capsys):
    code, err = _run([*_render(*photo_files, tmp_path / "z.mp4", "--move", "pan(degrees=6)")], capsys)
    assert code == 0 and "--framing" not in err
    code, err = _run(
        [*_render(*photo_files, tmp_path / "i.####.png", "--move", "pan(degrees=6)", "--framing", "inside")],
        capsys,
    )
    framing = json.loads((tmp_path / "i.png.recipe.json").read_text())["safety"]["framing"]
    assert code == 0 and framing["inside"] and 1.1 < framing["zoom"] < 2.0, err
    assert f"stillcam: warning: --framing inside: zoomed {framing['zoom']:.3f}x so every frame stays" in err
    assert "upscaled" not in err  # 64x36 from a 160x90 photo: still below the photo's pixels
    code, err = _run(
        ["rerender", str(tmp_path / "i.png.recipe.json"), "-o", str(tmp_path / "j.####.png")], capsys
    )
    assert code == 0, err  # the zoom is recomputed from the recipe's options: the same frames
    for number in (1001, 1002, 1003):
        assert (tmp_path / f"i.{number}.png").read_bytes() == (tmp_path / f"j.{number}.png").read_bytes()


def test_metres_with_relative_depth_are_flagged(tmp_path: Path, photo_files, capsys):
    photo, depth = photo_files
    np.save(depth, 1.0 / np.load(depth))
    argv = [
        *_render(photo, depth, tmp_path / "m.mp4", "--move", "truck(distance=0.1)"),
        "--depth-kind",
        "inverse-depth",
    ]
    code, err = _run(argv, capsys)
    assert code == 0 and "depth is relative" in err
    argv = [*_render(photo, depth, tmp_path / "n.mp4", "--move", "truck"), "--depth-kind", "inverse-depth"]
    code, err = _run(argv, capsys)
    assert code == 0 and "relative" not in err


def test_export_command_and_export_flag_write_the_scene_and_camera(tmp_path: Path, photo_files, capsys):
    photo, depth = photo_files
    exports = [tmp_path / n for n in ("s.glb", "s.chan", "s.ply", "s.json")]
    argv = ["export", str(photo), "--depth", str(depth), "--move", "orbit", *SMALL[:-1]]
    code, err = _run([*argv, *(a for e in exports for a in ("-o", str(e)))], capsys)
    assert code == 0, err
    assert all(e.stat().st_size > 0 for e in exports) and not list(tmp_path.glob("*.recipe.json"))
    # The same files from a render, with the frames: the camera lines are the same.
    argv = _render(photo, depth, tmp_path / "r.####.png", "--move", "orbit")
    code, err = _run([*argv, "--export", str(tmp_path / "r.chan")], capsys)
    assert code == 0, err
    assert (tmp_path / "r.chan").read_text() == (tmp_path / "s.chan").read_text()
    # Unknown formats are refused before anything is rendered or written.
    argv = [*_render(photo, depth, tmp_path / "x.mp4"), "--export", str(tmp_path / "x.fbx")]
    code, err = _run(argv, capsys)
    assert code == 2 and ".glb" in err and not (tmp_path / "x.mp4").exists()


def test_command_line_parses_back_to_the_same_options():
    import shlex
    from dataclasses import replace

    from stillcam import RenderOptions, ShotSettings
    from stillcam.cli import build_parser, options_from
    from stillcam.options import command_line

    shot = ShotSettings(move="orbit(degrees=12)", size="UHD", fps="23.976", params=("degrees=8",))
    options = RenderOptions(shot=shot)
    options = replace(
        options,
        output=replace(options.output, codec="prores-422hq", matte=(0.1, 0.2, 0.3), passes=("depth",)),
        scene=replace(options.scene, snap_edges=False),
    )
    text = command_line(options, "my photo.jpg", "d.exr", "shot.mov")
    assert text.startswith("stillcam render 'my photo.jpg' --depth d.exr --move 'orbit(degrees=12)'")
    args = build_parser().parse_args(shlex.split(text)[1:])
    assert options_from(args) == options and args.output == "shot.mov"


@pytest.mark.parametrize("spacing", ["0.5", "100"])
def test_spacing_out_of_range_is_one_clear_line(tmp_path: Path, photo_files, capsys, spacing):
    code, err = _run([*_render(*photo_files, tmp_path / "s.mp4"), "--spacing", spacing], capsys)
    assert code == 2 and err.count("\n") == 1 and "--spacing" in err and "1 to 64" in err
    assert not (tmp_path / "s.mp4").exists()
