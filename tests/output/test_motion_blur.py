"""Motion blur (``--shutter``): a frame is the mean of its sub-frame renders."""

from __future__ import annotations

import shlex
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

from stillcam import RenderOptions
from stillcam.camera.path import CameraPath
from stillcam.camera.plan import ShotSettings
from stillcam.camera.shutter import subframe_cameras
from stillcam.cli import build_parser, main, options_from
from stillcam.errors import InputError
from stillcam.options import command_line
from stillcam.output.frames import motion_frame, shaded_frame
from stillcam.output.writers import to_display
from stillcam.pipeline import demo, demo_inputs, plan_shot, rerender
from stillcam.render import get_renderer
from stillcam.render.frame import RenderSettings

SIZE = "96x54"
PAN = "pan(degrees=30)"  # about 10 px a frame at this size: a visible streak


def _options(shutter=None, samples=4, move=PAN, frames=None, **output) -> RenderOptions:
    shot = ShotSettings(move=move, size=SIZE, duration=4 / 24, fps="24", frames=frames, easing="linear")
    options = RenderOptions(shot=shot, render=RenderSettings(shutter=shutter, shutter_samples=samples))
    return replace(options, output=replace(options.output, **output))


def _png(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_a_blurred_frame_is_the_mean_of_its_subframe_renders(tmp_path: Path):
    options = _options(shutter=180.0, samples=4)
    demo(tmp_path / "b.####.png", options, example_size=SIZE)
    picture, depth, _ = demo_inputs(SIZE, options)
    scene, path, _ = plan_shot(picture, depth, options)
    renderer, fill = get_renderer(options.render), options.scene.fills
    for number in (1001, 1003):
        cameras = subframe_cameras(path, number, 180.0, 4)
        renders = [shaded_frame(renderer, scene, c, fill=fill) for c in cameras]  # separately
        mean_rgb = np.mean([f.rgb.astype(np.float64) for f in renders], axis=0)
        mean_alpha = np.mean([f.alpha.astype(np.float64) for f in renders], axis=0)
        blurred = motion_frame(renderer, scene, cameras, fill=fill)
        np.testing.assert_allclose(blurred.rgb, mean_rgb, atol=1e-6)
        np.testing.assert_allclose(blurred.alpha, mean_alpha, atol=1e-6)
        np.testing.assert_array_equal(blurred.depth, np.min([f.depth for f in renders], axis=0))
        written = _png(tmp_path / f"b.{number}.png")[..., ::-1]  # BGR -> RGB
        np.testing.assert_array_equal(written, to_display(blurred, options.output.matte, 8))
        sharp = to_display(renders[0], options.output.matte, 8)
        assert np.abs(written.astype(int) - sharp).max() > 20  # the blur is there


def test_a_zero_degree_shutter_or_one_sample_is_no_blur_bit_for_bit(tmp_path: Path):
    demo(tmp_path / "plain.####.png", _options(), example_size=SIZE)
    demo(tmp_path / "zero.####.png", _options(shutter=0.0), example_size=SIZE)
    demo(tmp_path / "one.####.png", _options(shutter=180.0, samples=1), example_size=SIZE)
    for number in range(1001, 1005):
        plain = (tmp_path / f"plain.{number}.png").read_bytes()
        assert (tmp_path / f"zero.{number}.png").read_bytes() == plain
        assert (tmp_path / f"one.{number}.png").read_bytes() == plain


def test_a_static_camera_gives_the_unblurred_frame():
    options = _options(shutter=360.0, samples=8)
    picture, depth, _ = demo_inputs(SIZE, options)
    scene, path, _ = plan_shot(picture, depth, options)
    still = CameraPath((path.cameras[1],) * 3, Fraction(24), 1001)
    cameras = subframe_cameras(still, 1002, 360.0, 8)
    renderer, fill = get_renderer(options.render), options.scene.fills
    sharp = shaded_frame(renderer, scene, path.cameras[1], fill=fill)
    blurred = motion_frame(renderer, scene, cameras, fill=fill)
    np.testing.assert_allclose(blurred.rgb, sharp.rgb, atol=1e-6)
    np.testing.assert_allclose(blurred.alpha, sharp.alpha, atol=1e-6)
    np.testing.assert_array_equal(blurred.depth, sharp.depth)


def test_frames_range_and_rerender_give_the_same_bytes(tmp_path: Path):
    demo(tmp_path / "full.####.png", _options(shutter=180.0), example_size=SIZE)
    recipe = rerender(tmp_path / "full.png.recipe.json", tmp_path / "again.####.png")
    assert recipe.options["render"]["shutter"] == 180.0 and recipe.options["render"]["shutter_samples"] == 4
    demo(tmp_path / "part.####.png", _options(shutter=180.0, frames="1001-1001"), example_size=SIZE)
    for number in range(1001, 1005):
        full = (tmp_path / f"full.{number}.png").read_bytes()
        assert (tmp_path / f"again.{number}.png").read_bytes() == full
    assert (tmp_path / "part.1001.png").read_bytes() == (tmp_path / "full.1001.png").read_bytes()


def test_passes_take_the_centre_sample(tmp_path: Path):
    options = _options(shutter=180.0, passes=("depth",))
    demo(tmp_path / "shot.####.png", options, example_size=SIZE)
    picture, depth, _ = demo_inputs(SIZE, options)
    scene, path, _ = plan_shot(picture, depth, options)
    want = shaded_frame(get_renderer(options.render), scene, path.cameras[2], fill=options.scene.fills).depth
    with OpenEXR.File(str(tmp_path / "shot.depth.1003.exr"), separate_channels=True) as file:
        np.testing.assert_array_equal(np.array(file.channels()["Z"].pixels), want)


def test_the_flag_alone_is_180_degrees_and_off_by_default():
    parser = build_parser()
    render = ["render", "photo.png", "-o", "x.mp4"]
    assert options_from(parser.parse_args(render)).render.shutter is None
    assert options_from(parser.parse_args([*render, "--shutter"])).render.shutter == 180.0
    given = options_from(parser.parse_args([*render, "--shutter", "90", "--shutter-samples", "3"]))
    assert (given.render.shutter, given.render.shutter_samples) == (90.0, 3)
    assert given.render.motion_blur and not RenderSettings(shutter=0.0).motion_blur
    assert (
        not RenderSettings().motion_blur and not RenderSettings(shutter=180.0, shutter_samples=1).motion_blur
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"shutter": 361.0}, "--shutter 361: give degrees in [0, 360]"),
        ({"shutter": -5.0}, "--shutter -5: give degrees in [0, 360]"),
        ({"shutter": float("nan")}, "--shutter nan: give degrees in [0, 360]"),
        ({"shutter": "wide"}, "--shutter 'wide': expected a number"),
        ({"shutter_samples": 0}, "--shutter-samples 0: give samples in 1..64"),
        ({"shutter_samples": 65}, "--shutter-samples 65: give samples in 1..64"),
    ],
)
def test_bad_shutter_options_fail_with_one_line(fields, message):
    with pytest.raises(InputError) as error:
        RenderSettings(**fields)
    assert str(error.value) == message


@pytest.mark.parametrize("value", ["400", "-5", "-inf", "abc"])
def test_bad_shutter_on_the_command_line_is_one_line(value, tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--example-size", SIZE, "--shutter", value, "-o", str(tmp_path / "x.mp4"), "--quiet"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith("stillcam: error: ") and "--shutter" in err, err
    if value != "abc":
        assert f"--shutter {value}: give degrees in [0, 360]" in err
    assert list(tmp_path.iterdir()) == []


def test_the_shutter_round_trips_through_a_recipe_and_the_command_line():
    options = _options(shutter=172.8, samples=12)
    assert RenderOptions.from_dict(options.to_dict()) == options
    words = shlex.split(command_line(options, "photo.png", None, "shot.mp4"))
    assert words[words.index("--shutter") + 1] == "172.8" and "--shutter-samples" in words
    assert options_from(build_parser().parse_args(words[1:])) == options
