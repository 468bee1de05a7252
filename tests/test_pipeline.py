"""The orchestration: options and outputs are checked before any file is decoded, each stage
plans its part once, and the one-call API writes what the stages make."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import stillcam.camera.shot as shot_module
from stillcam import RenderOptions, ShotSettings, pipeline
from stillcam.cli import main
from stillcam.errors import InputError, OutputError
from stillcam.safety import BISECTIONS

SMALL = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--quiet"]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


BAD_OPTIONS = [
    (["--size", "12x"], 2, "--size '12x'"),
    (["--size", "UHDX"], 2, "--size 'UHDX'"),
    (["--fps", "abc"], 2, "fps 'abc'"),
    (["--fps", "0"], 2, "out of range"),
    (["--frames", "5"], 2, "--frames '5'"),
    (["--frames", "1010-1001"], 2, "A <= B"),
    (["--set", "bogus=1"], 2, "no parameter 'bogus'"),
    (["--set", "degrees=abc"], 2, "degrees"),
    (["--move", "orbit(degrees=5"], 2, "orbit"),
    (["--move", "nosuchmove"], 2, "nosuchmove"),
    (["--target", "2,0.5"], 2, "--target"),
    (["--duration", "0"], 2, "--duration"),
    (["--max-reveal", "0"], 2, "--max-reveal"),
    (["--near", "-1"], 2, "--near"),
    (["--crf", "99"], 2, "--crf"),
    (["--spacing", "0.1"], 2, "--spacing"),
    (["--supersample", "9"], 2, "--supersample"),
    (["--pass", "bogus"], 2, "--pass bogus"),
    (["--timecode", "01:00:00:30"], 2, "timecode"),
    (["--bit-depth", "16"], 2, "8-bit"),
]


@pytest.mark.parametrize(("extra", "code", "needle"), BAD_OPTIONS, ids=[" ".join(c[0]) for c in BAD_OPTIONS])
def test_a_bad_option_fails_before_any_file_is_decoded(
    extra, code, needle, photo_files, tmp_path, capsys, decoding
):
    photo, depth = photo_files
    out = tmp_path / "out"
    out.mkdir()
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(out / "shot.mp4"), *SMALL, *extra]
    got, err = _run(argv, capsys)
    assert (got, err.count("\n"), err.startswith("stillcam: error:")) == (code, 1, True), err
    assert needle in err, err
    assert decoding == []
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "code", "needle"),
    [
        ("out.txt", 2, "use a video (.mp4, .mov, .mkv)"),
        ("missing/out.mp4", 1, "does not exist"),
        ("out.avi", 2, ".avi"),
    ],
)
def test_a_bad_output_fails_before_any_file_is_decoded(
    output, code, needle, photo_files, tmp_path, capsys, decoding
):
    photo, depth = photo_files
    got, err = _run(
        ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / output), *SMALL], capsys
    )
    assert got == code and err.count("\n") == 1 and needle in err, err
    assert decoding == []


def test_an_existing_output_or_export_is_refused_before_decoding(photo_files, tmp_path, capsys, decoding):
    photo, depth = photo_files
    (tmp_path / "out.mp4").write_bytes(b"keep")
    (tmp_path / "shot.glb").write_bytes(b"keep")
    base = ["render", str(photo), "--depth", str(depth), *SMALL]
    assert _run([*base, "-o", str(tmp_path / "out.mp4")], capsys)[0] == 1
    code, err = _run([*base, "-o", str(tmp_path / "new.mp4"), "--export", str(tmp_path / "shot.glb")], capsys)
    assert code == 1 and "already exists" in err
    assert decoding == [] and (tmp_path / "out.mp4").read_bytes() == b"keep"


def test_the_demo_checks_its_options_before_building_the_example(tmp_path, capsys, decoding):
    code, err = _run(
        ["demo", "--example-size", "3840x2160", "--size", "12x", "-o", str(tmp_path / "d.mp4")], capsys
    )
    assert code == 2 and "--size '12x'" in err
    code, err = _run(["demo", "--example-size", "big", "-o", str(tmp_path / "d.mp4"), "--quiet"], capsys)
    assert code == 2 and "--example-size 'big'" in err
    assert decoding == []
    tiny = ["--example-size", "64x36", "--duration", "0.25", "--fps", "4", "--quiet"]
    assert _run(["demo", *tiny, "-o", str(tmp_path / "d.mp4")], capsys)[0] == 0
    assert decoding == ["example_inputs"]  # the counter counts


def test_a_missing_camera_file_is_named_before_decoding(photo_files, tmp_path, capsys, decoding):
    photo, depth = photo_files
    argv = ["render", str(photo), "--depth", str(depth), "--path", str(tmp_path / "none.yaml")]
    code, err = _run([*argv, "-o", str(tmp_path / "o.mp4"), *SMALL], capsys)
    assert code == 2 and "no such file" in err and decoding == []


def test_options_are_typed_once_when_made():
    shot = ShotSettings(size="UHD", fps="23.976", frames="1001-1010", target="0.25,0.75", move="pan")
    assert shot.output_size(100, 50) == (3840, 2160) and ShotSettings().output_size(100, 50) == (100, 50)
    assert shot.frame_rate.numerator == 24000 and shot.frame_span == (1001, 1010)
    assert shot.target_point == (0.25, 0.75)
    assert shot.move_shot is not None and shot.move_shot.segments[0].move == "pan"
    assert RenderOptions.from_dict(RenderOptions(shot=shot).to_dict()) == RenderOptions(shot=shot)
    with pytest.raises(InputError, match="--set applies to a single move"):
        ShotSettings(move="pan then tilt", params=("degrees=3",))
    with pytest.raises(InputError, match="not both"):
        ShotSettings(move="pan", camera_file="shot.yaml")


def test_older_recipes_name_the_camera_file_path():
    data = RenderOptions(shot=ShotSettings(camera_file="cams.json")).to_dict()
    data["shot"]["path"] = data["shot"].pop("camera_file")
    assert RenderOptions.from_dict(data).shot.camera_file == "cams.json"


def test_a_safe_shot_checks_its_moves_once_and_looks_each_up_once_per_sample(small_example, monkeypatch):
    """The --safe clamp samples the shot several times; the move expression is parsed and
    checked when the options are made, and sampling looks each move up once per sample, not
    once per frame."""
    checks, lookups = [], []
    real_check, real_get = shot_module.check_shot, shot_module.get_move
    monkeypatch.setattr(shot_module, "check_shot", lambda shot: checks.append(1) or real_check(shot))
    monkeypatch.setattr(shot_module, "get_move", lambda name: lookups.append(name) or real_get(name))
    picture, depth = small_example
    shot = ShotSettings(
        move="dolly-in(fraction=0.9) + handheld", frames=None, duration=2.0, fps="24", safe=True
    )
    made = len(checks)
    _, path, safety = pipeline.plan_cameras(picture, depth, RenderOptions(shot=shot))
    assert len(path) == 48 and safety.amount < 1.0  # clamped: the shot was sampled many times
    samples = 1 + BISECTIONS + 2  # the full move, the bisections, at worst two samples of amount 0
    assert len(checks) == made  # not checked again while planning
    assert 0 < len(lookups) <= 2 * samples  # two moves per sample, not per frame (48 x 2 x 11 before)


def test_render_writes_the_output_its_recipe_and_exports(photo_files, tmp_path):
    photo, depth = photo_files
    options = RenderOptions(shot=ShotSettings(size="64x36", duration=0.25, fps="12", move="orbit"))
    recipe = pipeline.render(photo, depth, tmp_path / "s.####.png", options, exports=[tmp_path / "s.glb"])
    frames = sorted(tmp_path.glob("s.*.png"))
    assert [f.name for f in frames] == ["s.1001.png", "s.1002.png", "s.1003.png"]
    assert (tmp_path / "s.png.recipe.json").is_file() and (tmp_path / "s.glb").stat().st_size > 0
    assert recipe.output["frames"] == 3 and recipe.output["width"] == 64
    assert recipe.inputs["photo"]["sha256"] and "camera_file" not in recipe.inputs


def test_destination_checks_without_writing(tmp_path):
    options = RenderOptions()
    dest = pipeline.destination(tmp_path / "a.mov", options, overwrite=False, exports=[tmp_path / "a.chan"])
    assert dest.target.kind == "video" and dest.exports == (tmp_path / "a.chan",)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="does not exist"):
        pipeline.destination(tmp_path / "no" / "a.mov", options, overwrite=False)
    prores = RenderOptions.from_fields({"codec": "prores-4444"})
    dest = pipeline.destination(tmp_path / "a.mp4", prores, overwrite=False)
    with pytest.raises(InputError, match="prores-4444"):  # needs the shot's fps: checked with the plan
        pipeline.camera_plan(prores, dest)


def test_plan_shot_builds_the_scene_the_cameras_need(small_example):
    picture, depth = small_example
    options = RenderOptions(shot=ShotSettings(move="orbit", duration=0.5, fps="8", size="80x45"))
    scene, path, _ = pipeline.plan_shot(picture, depth, options)
    assert len(path) == 4 and path.cameras[0].width == 80
    assert np.array_equal(path.cameras[0].pose, np.eye(4))
    assert scene.ring_px > 0 and len(scene.triangles) > 0


def test_an_interrupted_render_leaves_no_partial_files(photo_files, tmp_path, monkeypatch):
    """An error while frames are written aborts every sink: nothing under a final name."""
    photo, depth = photo_files
    calls = []

    def failing(done, total):
        calls.append(done)
        if done == 2:
            raise KeyboardInterrupt

    options = RenderOptions(shot=ShotSettings(size="64x36", duration=0.5, fps="12"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        pipeline.render(photo, depth, out / "k.mp4", options, on_frame=failing, exports=[out / "k.glb"])
    assert calls == [1, 2] and sorted(Path(out).iterdir()) == []


@pytest.fixture()
def camera_files(tmp_path, small_example) -> dict[str, Path]:
    """A transforms.json of 3 frames at 160x90, and a shot file of 6 frames (24 fps, 0.25 s)."""
    from stillcam.camera import Camera, CameraPath
    from stillcam.camera.transforms import write_transforms

    picture, _ = small_example
    start = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    poses = [np.eye(4) for _ in range(3)]
    for i, pose in enumerate(poses):
        pose[0, 3] = 0.01 * i
    cameras = CameraPath(tuple(start.with_pose(p) for p in poses), ShotSettings().frame_rate, 1001)
    write_transforms(cameras, tmp_path / "cams.json")
    (tmp_path / "shot.yaml").write_text(
        "segments:\n  - move: pan\n    params: {degrees: 2}\nduration: 0.25\n"
    )
    return {"transforms": tmp_path / "cams.json", "shot": tmp_path / "shot.yaml"}


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--codec", "prores-4444"], "prores-4444"),
        (["--frames", "1001-1010"], "the shot has frames 1001-1003"),
        (["--safe"], "--safe cannot shorten"),
        (["--framing", "inside"], "--framing inside cannot zoom"),
        (["--size", "100x100"], "another aspect ratio"),
    ],
)
def test_checks_that_need_the_camera_file_come_before_the_photo(
    extra, needle, camera_files, photo_files, tmp_path, capsys, decoding
):
    photo, depth = photo_files
    out = tmp_path / "out"
    out.mkdir()
    argv = ["render", str(photo), "--depth", str(depth), "--path", str(camera_files["transforms"]), *extra]
    code, err = _run([*argv, "-o", str(out / "s.mp4"), "--quiet"], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert decoding == [] and list(out.iterdir()) == []


def test_frames_outside_a_move_fail_before_decoding(photo_files, tmp_path, capsys, decoding):
    photo, depth = photo_files  # SMALL: 0.25 s at 12 fps = frames 1001-1003
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "s.mp4"), *SMALL]
    code, err = _run([*argv, "--frames", "1002-1004"], capsys)
    assert code == 2 and "the shot has frames 1001-1003" in err and decoding == []


def test_the_demo_takes_a_shot_file(camera_files, tmp_path, capsys):
    out = tmp_path / "d.####.png"
    argv = ["demo", "--example-size", "64x36", "--path", str(camera_files["shot"]), "-o", str(out), "--quiet"]
    assert _run(argv, capsys)[0] == 0
    assert len(list(tmp_path.glob("d.*.png"))) == 6
