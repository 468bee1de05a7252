"""Bounds at the entry point (issue #15): every option out of its range, NaN, infinite, absurd
or of the wrong sign is refused when the options are made, with one line naming the option,
before any file is decoded or any camera sampled; argparse's own errors are one line too, and
a value that starts with ``-`` reaches the option's check."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import stillcam.camera.plan as plan_module
import stillcam.camera.shot as shot_module
from stillcam import pipeline
from stillcam.bounds import MAX_SAMPLES, MAX_SIDE, MIN_SIDE
from stillcam.camera import MOVES, Camera, MoveContext, build_path
from stillcam.camera.plan import ShotSettings
from stillcam.cli import main
from stillcam.errors import InputError, MoveError
from stillcam.options import RenderOptions

SMALL = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--quiet"]


@pytest.fixture()
def no_work(monkeypatch) -> list[str]:
    """Records every decode of an input and every sampling of a camera path."""
    calls: list[str] = []

    def recording(name, real):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return wrapper

    for name in ("load_image", "read_depth_file", "example_inputs"):
        monkeypatch.setattr(pipeline, name, recording(name, getattr(pipeline, name)))
    monkeypatch.setattr(plan_module, "build_shot_path", recording("sample", plan_module.build_shot_path))
    monkeypatch.setattr(shot_module, "build_shot_path", recording("sample", shot_module.build_shot_path))
    return calls


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


def _one_line(code: int, err: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    assert err.count("\n") == 1 and err.startswith("stillcam: error:"), err
    assert "Traceback" not in err


#: (extra options, a part of the one line the error must be): every case of issue #15 on
#: the options, and their neighbours.
BAD = [
    (["--duration", "inf"], "--duration inf: give seconds in (0, 3600]"),
    (["--duration", "nan"], "--duration nan"),
    (["--duration", "1e9"], "--duration 1e+09"),
    (["--duration", "1e6"], "(0, 3600]"),
    (["--duration", "-inf"], "--duration -inf"),
    (["--duration", "3600", "--fps", "60"], "216000 frames; a shot has at most 100000 frames"),
    (["--size", "32768x2"], "each side of a frame must be 16..16384 px"),
    (["--size", "32768x32768"], "16..16384"),
    (["--size", "16384x16384"], "268 MP of samples a frame; at most 134 MP"),
    (["--size", "8x8"], "16..16384"),
    (["--size", "-5x3"], "width and height must be positive"),
    (["--size", "9" * 5000 + "x16"], "--size"),
    (["--size", "4096x4096", "--supersample", "3"], "at --supersample 3"),
    (["--fps", "1e-9"], "--fps 1e-9 is out of range"),
    (["--fps", "-inf"], "--fps '-inf' is not a finite number"),
    (["--fps", "nan"], "--fps 'nan'"),
    (["--fps", "1001"], "--fps 1001 is out of range"),
    (["--fps", "999.99999999999"], "too many digits"),
    (["--fps", "1" * 5000], "--fps"),
    (["--target", "-1,0.5"], "--target -1,0.5: X and Y are fractions of the frame"),
    (["--target", "nan,0.5"], "--target"),
    (["--target-depth", "inf"], "--target-depth inf"),
    (["--target-depth", "1e-300"], "--target-depth 1e-300"),
    (["--first-frame", "99999999999999999999"], "--first-frame 99999999999999999999: give a frame number"),
    (["--first-frame", "-1"], "--first-frame -1"),
    (["--frames", "1-99999999999999999999"], "--frames"),
    (["--max-reveal", "nan"], "--max-reveal nan"),
    (["--focal-mm", "inf"], "--focal-mm inf"),
    (["--fov", "-inf"], "--fov -inf"),
    (["--easing", "bezier(0,1e308,1,1)"], "y1 and y2 must lie in [-10, 10]"),
    (["--easing", "bezier(nan,0,1,1)"], "--easing"),
    (["--near", "nan"], "--near nan"),
    (["--near", "-1e5"], "--near -100000"),
    (["--far", "inf"], "--far inf"),
    (["--depth-scale", "nan"], "--depth-scale nan"),
    (["--depth-scale", "-inf"], "--depth-scale -inf"),
    (["--baseline", "inf"], "--baseline inf"),
    (["--spacing", "inf"], "--spacing is inf"),
    (["--stride", "-1"], "--stride -1: give pixels between vertices in 0..1024"),
    (["--stride", "99999999999999999999"], "--stride"),
    (["--cut-threshold", "inf"], "--cut-threshold inf"),
    (["--cut-threshold", "-inf"], "--cut-threshold -inf"),
    (["--soft-edge", "nan"], "--soft-edge nan"),
    (["--supersample", "-1"], "--supersample must be 1..8"),
    (["--crf", "-1"], "--crf"),
    (["--encoder-threads", "99999999999999999999"], "--encoder-threads"),
    (["--matte", "nan,0,0"], "--matte"),
    (["--pass", "bogus"], "--pass bogus"),
    (["--fill", "none", "--outpaint", "bogus"], "--outpaint: unknown fill 'bogus'"),
    (["--move", ""], "--move '': give a move"),
    (["--move", "  "], "--move"),
    (["--move", "zoom-in", "--set", "to_mm=-5"], "to_mm=-5 is out of range; give a 35 mm-equivalent focal"),
    (["--move", "zoom-in", "--set", "factor=0"], "factor=0 is out of range"),
    (
        ["--move", "handheld", "--set", "seed=-1"],
        "seed=-1 is out of range; give a whole number in 0..4294967295",
    ),
    (["--move", "handheld", "--set", "seed=1.5"], "seed=1.5"),
    (["--move", "handheld", "--set", "seed=1e30"], "seed=1e+30"),
    (["--move", "handheld", "--set", "mm=-1"], "mm=-1"),
    (["--move", "dolly-in(fraction=1e308)"], "fraction=1e+308 is out of range; give subject distances"),
    (["--move", "orbit(degrees=1e300)"], "degrees=1e+300"),
    (["--move", "dolly-in(distance=-1e7)"], "distance=-1e+07"),
    (["--move", "orbit(duration=1e6)"], "orbit(duration=1e6)"),
    (["--move", "orbit(frames=1000000000)"], "orbit(frames=1000000000)"),
    (["--move", "orbit", "--set", "degrees=nan"], "degrees"),
]


@pytest.mark.parametrize(("extra", "needle"), BAD, ids=[" ".join(e)[:60] for e, _ in BAD])
def test_a_bad_option_is_one_line_before_any_work(extra, needle, photo_files, tmp_path, capsys, no_work):
    photo, depth = photo_files
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "o.mp4"), *SMALL, *extra]
    code, err = _run(argv, capsys)
    _one_line(code, err)
    assert needle in err, err
    assert no_work == [], no_work  # nothing decoded, no camera sampled
    assert sorted(p.name for p in tmp_path.iterdir()) == ["depth.npy", "photo.png"]


@pytest.mark.parametrize("value", ["-5x3", "-inf", "-1,0.5", "-1e5"])
def test_a_value_that_starts_with_a_dash_is_a_value(value, photo_files, tmp_path, capsys):
    """argparse took these for options ("expected one argument"): now the option checks them,
    written either way, and abbreviated options still work."""
    photo, depth = photo_files
    option = {"-5x3": "--size", "-inf": "--fps", "-1,0.5": "--target", "-1e5": "--near"}[value]
    base = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "o.mp4"), *SMALL]
    short = {"--size": "--siz", "--fps": "--fp", "--target": "--target", "--near": "--nea"}[option]
    for argv in ([*base, option, value], [*base, f"{option}={value}"], [*base, short, value]):
        code, err = _run(argv, capsys)
        _one_line(code, err)
        assert err.startswith(f"stillcam: error: {option} "), err
        assert "expected one argument" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([], "the following arguments are required: COMMAND (see `stillcam --help`)"),
        (["bogus"], "invalid choice: 'bogus'"),
        (
            ["render"],
            "the following arguments are required: photo, -o/--output (see `stillcam render --help`)",
        ),
        (["render", "p.png", "-o", "o.mp4", "--duration", "abc"], "argument --duration: invalid float value"),
        (["render", "p.png", "-o", "o.mp4", "--stride", "1.5"], "argument --stride: invalid int value"),
        (["render", "p.png", "-o", "o.mp4", "--renderer", "x"], "argument --renderer: invalid choice"),
        (["render", "p.png", "-o", "o.mp4", "--size"], "argument --size: expected one argument"),
        (["render", "p.png", "-o", "o.mp4", "--zzz"], "unrecognized arguments: --zzz"),
        (["render", "p.png", "-o", "o.mp4", "--matte", "-1,0,0"], "argument --matte: '-1,0,0'"),
        (["moves", "extra"], "unrecognized arguments: extra"),
    ],
)
def test_argparse_errors_are_one_line_with_a_pointer_to_help(argv, needle, capsys):
    code, err = _run(argv, capsys)
    _one_line(code, err)
    assert needle in err and "usage:" not in err, err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--port", "0"], "--port 0: give a TCP port in 1..65535"),
        (["--port", "-1"], "--port -1"),
        (["--workers", "0"], "--workers 0"),
        (["--max-upload-mb", "nan"], "--max-upload-mb nan"),
        (["--max-upload-mb", "inf"], "--max-upload-mb inf"),
        (["--max-upload-mb", "-1"], "--max-upload-mb -1"),
    ],
)
def test_serve_refuses_bad_limits_before_starting(extra, needle, tmp_path, capsys):
    code, err = _run(["serve", "--data-dir", str(tmp_path / "web"), *extra], capsys)
    _one_line(code, err)
    assert needle in err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--supersample", "-1"], "--supersample"),
        (["--pass", "bogus"], "--pass bogus"),
        (["--stride", "-1"], "--stride"),
    ],
)
def test_export_checks_the_options_too(extra, needle, photo_files, tmp_path, capsys, no_work):
    photo, depth = photo_files
    argv = ["export", str(photo), "--depth", str(depth), "-o", str(tmp_path / "cams.json"), *extra]
    code, err = _run(argv, capsys)
    _one_line(code, err)
    assert needle in err and no_work == []


@pytest.mark.parametrize(("size", "needle"), [("100000x100000", "--example-size"), ("10001x10001", "100 MP")])
def test_the_demo_refuses_an_example_larger_than_a_photo_may_be(size, needle, tmp_path, capsys, no_work):
    code, err = _run(["demo", "--example-size", size, "-o", str(tmp_path / "d.mp4"), "--quiet"], capsys)
    _one_line(code, err)
    assert needle in err and no_work == []


def test_shot_files_past_the_frame_limit_fail_before_sampling(photo_files, tmp_path, capsys, no_work):
    photo, depth = photo_files
    (tmp_path / "long.json").write_text('{"segments": [{"move": "orbit", "frames": 1000000000}]}')
    (tmp_path / "keys.yaml").write_text("keyframes:\n  - frame: 1001\n  - frame: 900000000\n")
    for name in ("long.json", "keys.yaml"):
        argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "o.mp4"), "--quiet"]
        code, err = _run([*argv, "--path", str(tmp_path / name)], capsys)
        _one_line(code, err)
        assert "100000" in err, err
    assert no_work == []


def test_a_shot_files_own_frame_rate_is_held_to_the_bounds_of_fps(photo_files, tmp_path, capsys, no_work):
    photo, depth = photo_files
    two = "segments:\n  - move: orbit\n    frames: 2\n"
    (tmp_path / "precise.yaml").write_text('fps: "999.99999999999"\n' + two)
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "o.mp4"), "--quiet"]
    code, err = _run([*argv, "--path", str(tmp_path / "precise.yaml")], capsys)
    _one_line(code, err)
    assert "its fps 999.99999999999: too many digits" in err and no_work == []


def test_help_and_moves_document_the_ranges(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for needle in (
        "(0, 3600]",
        "at most 100000 frames",
        "from 1/3600 to 1000",
        f"{MIN_SIDE}..{MAX_SIDE} px a side",
        f"at most {MAX_SAMPLES / 1e6:.0f} MP of samples",
        "0..10000000",
        "0..1024",
        "1..8",
        "0..51",
        "y1, y2 in [-10, 10]",
        "`stillcam moves` lists both",
    ):
        assert needle in text, needle
    with pytest.raises(SystemExit) as exit_info:
        main(["moves"])
    out = capsys.readouterr().out
    assert (
        exit_info.value.code == 0
        and "[deg] -3600..3600" in out
        and "seed      [integer] 0..4294967295" in out
    )
    assert "to_mm     [mm (35 mm eq.)] 1..5000" in out


def test_error_messages_of_many_lines_are_printed_on_one(monkeypatch, capsys):
    def failing(argv):
        raise InputError("first line\n  second line\n")

    monkeypatch.setattr("stillcam.cli.run", failing)
    code, err = _run(["moves"], capsys)
    assert code == 2 and err == "stillcam: error: first line / second line\n"


# ----------------------------------------------------------------------------------------
# The same bounds from Python (what the web app and recipes build)


def test_the_limits_themselves_are_accepted():
    assert ShotSettings(duration=3600.0, fps="27").frame_rate == 27  # 97200 frames
    assert ShotSettings(fps="1/3600", duration=3600.0).frame_rate == Fraction(1, 3600)
    assert ShotSettings(fps="1000", duration=100.0, first_frame=10_000_000).first_frame == 10_000_000
    assert ShotSettings(size=f"{MAX_SIDE}x{MIN_SIDE}").output_size(1, 1) == (MAX_SIDE, MIN_SIDE)
    assert ShotSettings(size="8192x16384").output_size(1, 1) == (8192, 16384)  # 134 MP
    assert RenderOptions.from_fields({"size": "UHD", "supersample": 4}).render.supersample == 4
    assert ShotSettings(move="orbit(frames=100000)", fps="1000").move_shot is not None
    assert ShotSettings(easing="bezier(0,10,1,-10)").easing == "bezier(0,10,1,-10)"


def test_source_size_is_bounded_once_the_photo_is_known():
    shot = ShotSettings()
    assert shot.output_size(12000, 8000) == (12000, 8000)  # a 96 MP photo renders at its size
    assert shot.output_size(8, 8) == (8, 8)  # small photos are the loaders' to refuse
    with pytest.raises(InputError, match=r"--size source \(the photo is 20000x100\): each side"):
        shot.output_size(20000, 100)
    with pytest.raises(InputError, match="at most 134 MP"):
        shot.output_size(16000, 9000)


def test_supersampling_counts_in_the_pixel_budget():
    with pytest.raises(InputError, match="8192x8192 at --supersample 2 is 268 MP"):
        RenderOptions.from_fields({"size": "8192x8192", "supersample": 2})
    assert RenderOptions.from_fields({"size": "4096x4096", "supersample": 2}).shot.size_px == (4096, 4096)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"duration": "abc"}, "--duration 'abc': expected a number"),
        ({"duration": True}, "--duration True"),
        ({"stride": 1.0}, "--stride 1.0: expected a whole number"),
        ({"size": 5}, "--size 5: expected text"),
        ({"move": 5}, "--move 5: expected text"),
        ({"params": "degrees=5"}, "--set 'degrees=5': expected a list"),
        ({"params": ["degrees=5"] * 300}, "--set: given 300 times"),
        ({"matte": [0, 0]}, "--matte (0, 0): expected 3 values"),
        ({"bit_depth": 8.0}, "--bit-depth 8.0: choose one of 8, 16"),
        ({"renderer": "bogus"}, "--renderer 'bogus': choose one of"),
        ({"safe": "yes"}, "--safe 'yes': expected true or false"),
        ({"camera_file": "a\x00b"}, "--path 'a\\x00b': contains control characters"),
        ({"move": "x" * 20_000}, "--move: 20000 characters"),
    ],
)
def test_values_of_the_wrong_type_are_refused_naming_the_option(fields, needle):
    with pytest.raises(InputError) as error:
        RenderOptions.from_fields(fields)
    assert needle in str(error.value), str(error.value)


def test_harmless_type_differences_are_normalised():
    options = RenderOptions.from_fields(
        {"duration": 2, "stride": np.int64(3), "max_reveal": np.float32(0.5), "matte": [0, 1, 0]}
    )
    assert type(options.shot.duration) is float and options.shot.duration == 2.0
    assert type(options.scene.stride) is int and options.scene.stride == 3
    assert options.output.matte == (0.0, 1.0, 0.0)
    assert RenderOptions.from_dict(options.to_dict()) == options


def test_recipe_options_that_are_not_mappings_are_recipe_errors():
    from stillcam.errors import RecipeError

    for data in ([], "options", {"shot": []}, {"shot": {"bogus": 1}}):
        with pytest.raises(RecipeError):
            RenderOptions.from_dict(data)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="options must be a mapping"):
        RenderOptions.from_fields([("duration", 2)])  # type: ignore[arg-type]


def _context() -> MoveContext:
    return MoveContext(Camera.from_focal_mm(64, 36, 35.0), 2.0)


@pytest.mark.parametrize("name", list(MOVES))
def test_every_move_at_the_ends_of_its_ranges_gives_finite_cameras(name):
    """The ranges keep every camera finite: each parameter at its low and high end."""
    spec = MOVES[name]
    for param in spec.params:
        for value in (param.low, param.high):
            path = build_path(name, {param.name: value}, _context(), duration_s=0.5, fps=Fraction(8))
            for camera in path.cameras:
                assert np.isfinite(camera.pose).all() and math.isfinite(camera.fx) and camera.fx > 0, (
                    name,
                    param.name,
                    value,
                )


@pytest.mark.parametrize("name", list(MOVES))
def test_every_move_refuses_values_past_its_ranges(name):
    for param in MOVES[name].params:
        for value in (param.low - 1.0, param.high + 1.0, math.nan, math.inf):
            with pytest.raises(MoveError, match=f"{param.name}="):
                MOVES[name].resolve({param.name: value})


def test_a_camera_file_that_is_not_json_or_too_deep_is_not_taken_for_a_transforms_json(tmp_path: Path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    text = tmp_path / "text.json"
    text.write_text('"frames"')  # a string holding the key's name
    assert not plan_module.is_transforms(deep) and not plan_module.is_transforms(text)


@pytest.mark.parametrize("kind", ["missing", "folder", "fifo", "device"])
def test_a_camera_file_that_is_not_a_regular_file_is_named_so(kind, tmp_path, capsys):
    import os

    from stillcam.cli import main

    path = {"missing": tmp_path / "nope.json", "folder": tmp_path, "device": Path("/dev/zero")}.get(kind)
    if kind == "fifo":
        path = tmp_path / "cam.json"
        os.mkfifo(path)
    with pytest.raises(SystemExit) as info:
        main(["demo", "--path", str(path), "-o", str(tmp_path / "x.mp4"), "--quiet"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1, err
    words = {"missing": "no such file", "folder": "is a folder", "fifo": "not a regular file"}
    assert words.get(kind, "not a regular file") in err
