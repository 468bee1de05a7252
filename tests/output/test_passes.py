"""Depth and coverage passes beside the output, and --frames ranges."""

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

from stillcam import RenderOptions
from stillcam.camera.plan import ShotSettings
from stillcam.errors import InputError, OutputError
from stillcam.output.frames import shaded_frame
from stillcam.output.passes import pass_target
from stillcam.output.targets import parse_output
from stillcam.pipeline import demo, demo_inputs, plan_shot
from stillcam.render import get_renderer

SIZE = "160x90"


def _options(move="zoom-out(factor=2)", frames=None, **output) -> RenderOptions:
    shot = ShotSettings(move=move, size=SIZE, duration=4 / 24, fps="24", frames=frames, easing="linear")
    options = RenderOptions(shot=shot)
    return replace(options, output=replace(options.output, **output))


def test_pass_files_are_named_after_the_output():
    assert pass_target(parse_output("out/shot.mp4"), "depth").path == Path("out/shot.depth.####.exr")
    assert pass_target(parse_output("s.%06d.png"), "coverage").path == Path("s.coverage.######.png")


def test_coverage_is_the_photos_own_pixels_and_depth_the_frames(tmp_path: Path):
    options = _options(passes=("depth", "coverage"))
    demo(tmp_path / "shot.mp4", options, example_size=SIZE)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "shot.coverage.1001.png",
        "shot.coverage.1002.png",
        "shot.coverage.1003.png",
        "shot.coverage.1004.png",
        "shot.depth.1001.exr",
        "shot.depth.1002.exr",
        "shot.depth.1003.exr",
        "shot.depth.1004.exr",
        "shot.mp4",
        "shot.recipe.json",
    ]
    first = cv2.imread(str(tmp_path / "shot.coverage.1001.png"), cv2.IMREAD_UNCHANGED)
    last = cv2.imread(str(tmp_path / "shot.coverage.1004.png"), cv2.IMREAD_UNCHANGED)
    assert first.dtype == np.uint8 and first.shape == (90, 160)
    assert (first == 255).mean() > 0.99  # the source view shows the photo only
    # Zoomed out 2x, the photo fills the central half of each axis: a quarter of the frame.
    assert (last > 127).mean() == pytest.approx(0.25, abs=0.02)
    assert last[45, 80] == 255 and last[5, 5] == 0
    picture, depth, _ = demo_inputs(SIZE, options)
    scene, path, _ = plan_shot(picture, depth, options)
    want = shaded_frame(get_renderer(options.render), scene, path.cameras[3], fill=options.scene.fills).depth
    with OpenEXR.File(str(tmp_path / "shot.depth.1004.exr"), separate_channels=True) as file:
        np.testing.assert_array_equal(np.array(file.channels()["Z"].pixels), want)


def test_frames_range_gives_the_same_frames_as_the_full_render(tmp_path: Path):
    demo(tmp_path / "full.####.png", _options(move="orbit(degrees=8)"), example_size=SIZE)
    demo(tmp_path / "part.####.png", _options(move="orbit(degrees=8)", frames="1002-1003"), example_size=SIZE)
    parts = sorted(p.name for p in tmp_path.glob("part.*.png"))
    assert parts == ["part.1002.png", "part.1003.png"]
    for number in (1002, 1003):
        assert (tmp_path / f"part.{number}.png").read_bytes() == (
            tmp_path / f"full.{number}.png"
        ).read_bytes()


@pytest.mark.parametrize("frames", ["1000-1002", "1003-1002", "5", "1001-1009"])
def test_bad_frame_ranges_are_refused(tmp_path: Path, frames):
    with pytest.raises(InputError, match="--frames"):
        demo(tmp_path / "x.####.png", _options(frames=frames), example_size=SIZE)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_pass_file_stops_the_render_before_anything_is_written(tmp_path: Path):
    (tmp_path / "shot.depth.1002.exr").write_bytes(b"keep me")
    with pytest.raises(OutputError, match="--overwrite"):
        demo(tmp_path / "shot.mp4", _options(passes=("coverage", "depth")), example_size=SIZE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot.depth.1002.exr"]
    assert (tmp_path / "shot.depth.1002.exr").read_bytes() == b"keep me"


def test_unknown_pass_is_refused(tmp_path: Path):
    with pytest.raises(InputError, match="choose from depth, coverage"):
        demo(tmp_path / "shot.mp4", _options(passes=("normals",)), example_size=SIZE)
    assert list(tmp_path.iterdir()) == []
