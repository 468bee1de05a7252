"""``--framing inside``: the smallest zoom that keeps every frame inside the photo, against
closed forms on a flat wall, checked by rendering, and wired through the pipeline."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from stillcam import RenderOptions, ShotSettings, pipeline
from stillcam.camera import Camera, CameraPath, fit_output_camera, pose_from, rotation_x, rotation_y
from stillcam.camera.framing import (
    MAX_ZOOM,
    InsideFraming,
    frame_inside,
    frame_zooms,
    inside_zoom,
    photo_border,
    upscale,
)
from stillcam.camera.plan import camera_paths, shot_plan
from stillcam.depth.convert import DepthMap
from stillcam.errors import InputError
from stillcam.io.image import picture_from_array
from stillcam.render.frame import RenderSettings
from stillcam.render.registry import get_renderer
from stillcam.scene.mesh import SceneSettings
from stillcam.scene.plan import scene_for

W, H, WALL = 160, 90, 4.0


@pytest.fixture(scope="module")
def wall() -> tuple[Camera, np.ndarray]:
    """The photo's camera (50 mm) and a flat wall WALL metres away, as an (H, W) depth map."""
    return Camera.from_focal_mm(W, H, 50.0), np.full((H, W), WALL, np.float32)


def _at(source: Camera, rotation: np.ndarray, position=(0.0, 0.0, 0.0)) -> Camera:
    return source.with_pose(pose_from(rotation, np.asarray(position, np.float64)))


def _pan_zoom(half_width: float, degrees: float) -> float:
    """Closed form for a pure pan by ``degrees`` of a camera whose frame is the photo's, with
    normalised half-width ``half_width`` (= half the frame in px / fx): the frame's right edge
    must come back inside, tan(atan(A / f) + theta) <= A, and its corners must stay below the
    photo's top and bottom edges, (B / f) / (cos theta - (A / f) sin theta) <= B."""
    theta = math.radians(degrees)
    edge = half_width / math.tan(math.atan(half_width) - theta)
    corner = (1.0 + half_width * math.sin(theta)) / math.cos(theta)
    return max(edge, corner)


@pytest.mark.parametrize("degrees", [1.0, 5.0, 12.0, -7.0])
def test_a_pan_on_a_flat_wall_needs_the_closed_form_zoom(wall, degrees):
    source, z = wall
    half_width = (W / 2) / source.fx  # the photo's outer pixel edges are at -0.5 and W - 0.5
    expected = _pan_zoom(half_width, abs(degrees))
    got = inside_zoom(source, z, [_at(source, rotation_y(degrees))])
    assert got == pytest.approx(expected, abs=1e-3) and got == pytest.approx(expected, rel=1e-9)
    # a pure rotation sees the same whatever the depth: a slanted wall needs the same zoom
    slanted = z * np.linspace(0.5, 2.0, W, dtype=np.float32)[None, :]
    assert inside_zoom(source, slanted, [_at(source, rotation_y(degrees))]) == pytest.approx(got, rel=1e-9)


def test_a_tilt_is_the_pan_of_the_frame_turned_sideways(wall):
    source, z = wall
    half_height = (H / 2) / source.fy
    expected = _pan_zoom(half_height, 4.0)  # the same closed form with the axes swapped
    assert inside_zoom(source, z, [_at(source, rotation_x(4.0))]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("shift", [0.05, 0.2, -0.1])
def test_a_truck_on_a_flat_wall_needs_the_shift_over_the_half_width(wall, shift):
    source, z = wall
    half_width = (W / 2) / source.fx
    delta = abs(shift) / WALL  # the shift in normalised image coordinates at the wall
    expected = half_width / (half_width - delta)  # = 1 + delta / (A - delta) ~ 1 + delta / A
    got = inside_zoom(source, z, [_at(source, np.eye(3), (shift, 0.0, 0.0))])
    assert got == pytest.approx(expected, abs=1e-3) and got == pytest.approx(expected, rel=1e-9)


def test_the_static_frame_and_forward_moves_need_no_zoom(wall):
    source, z = wall
    static = CameraPath((source, source), Fraction(24), 1001)
    path, record = frame_inside(source, z, static)
    assert record.zoom == 1.0 and record.inside and path is static
    assert inside_zoom(source, z, [_at(source, np.eye(3), (0.0, 0.0, 1.0))]) == 1.0  # dolly-in
    # the centre crop of another aspect (--size) sees less than the photo: no zoom either
    assert inside_zoom(source, z, [fit_output_camera(source, 90, 90)]) == 1.0
    backwards = _at(source, np.eye(3), (0.0, 0.0, -1.0))  # dolly-out by 1 m: the wall is 5 m away
    assert inside_zoom(source, z, [backwards]) == pytest.approx((WALL + 1.0) / WALL, rel=1e-9)


def test_border_points_behind_the_camera_are_clipped_not_failed():
    """A camera that has moved past the near ground at the photo's bottom edge still sees the
    ground below it: the part of the border in front of it bounds the footprint."""
    source = Camera.from_focal_mm(W, H, 50.0)
    rows = np.arange(H, dtype=np.float64)[:, None] - source.cy
    with np.errstate(divide="ignore"):
        floor = np.where(rows > 0, 1.0 * source.fy / rows, np.inf)  # ground 1 m below the camera
    z = np.broadcast_to(np.minimum(floor, 10.0), (H, W)).astype(np.float32)  # wall at 10 m
    forward = 1.5 * float(z.min())
    camera = _at(source, np.eye(3), (0.0, 0.0, forward))
    behind = (photo_border(source, z) - camera.pose[:3, 3])[:, 2] <= 0.0
    assert behind.any()  # the test exercises the clipping
    assert inside_zoom(source, z, [camera]) == 1.0


def test_no_zoom_helps_a_frame_whose_centre_looks_past_the_border(wall):
    source, z = wall
    wide = math.degrees(math.atan((W / 2) / source.fx)) + 2.0  # past half the field of view
    path = CameraPath((source, _at(source, rotation_y(wide))), Fraction(24), 1001)
    assert math.isinf(float(frame_zooms(source, z, path.cameras)[1]))
    zoomed, record = frame_inside(source, z, path)
    assert (record.zoom, record.inside, record.frame) == (MAX_ZOOM, False, 1002)
    assert zoomed.cameras[1].fx == pytest.approx(MAX_ZOOM * source.fx)
    assert "even zoomed" in record.warnings[0]


def _coverage(source: Camera, z: np.ndarray, cameras: list[Camera]) -> list[np.ndarray]:
    """Per camera, the (H, W) coverage alpha of the photo's scene with no fill and no ring."""
    rng = np.random.default_rng(5)
    picture = picture_from_array(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    scene = scene_for(picture, DepthMap(z, "wall", ""), source, cameras, SceneSettings(fill="none", stride=1))
    renderer = get_renderer(RenderSettings(renderer="cpu"))
    return [renderer.render(scene, camera).alpha for camera in cameras]


def test_zoomed_frames_show_only_the_photo_and_a_smaller_zoom_does_not(wall):
    """Rendered on a textured flat wall (no disocclusions) with no fill: every pixel of every
    zoomed frame is covered by the photo; unzoomed, or zoomed 3 % less, the border shows."""
    source, z = wall
    cameras = [
        _at(source, rotation_y(6.0)),
        _at(source, np.eye(3), (0.3, -0.2, 0.0)),
        _at(source, rotation_x(-3.0) @ rotation_y(-2.0), (0.0, 0.1, -0.5)),
    ]
    factor = inside_zoom(source, z, cameras)
    assert 1.2 < factor < MAX_ZOOM
    for alpha in _coverage(source, z, [c.zoomed(factor) for c in cameras]):
        assert alpha.min() >= 0.5
    unzoomed = _coverage(source, z, cameras)
    assert all(alpha.min() == 0.0 for alpha in unzoomed)
    short = _coverage(source, z, [c.zoomed(0.97 * factor) for c in cameras])
    assert min(alpha.min() for alpha in short) == 0.0  # the factor is the smallest that works


def test_upscale_is_output_pixels_per_photo_pixel(wall):
    source, z = wall
    assert upscale(source, z, [source]) == pytest.approx(1.0)
    assert upscale(source, z, [source.zoomed(1.5)]) == pytest.approx(1.5)
    assert upscale(source, z, [source.resized(W // 2, H // 2)]) == pytest.approx(0.5)
    assert upscale(source, z, [_at(source, np.eye(3), (0.0, 0.0, 2.0))]) == pytest.approx(2.0)


def test_the_option_is_checked_and_reaches_the_shot(wall):
    with pytest.raises(InputError, match="--framing 'outside'"):
        ShotSettings(framing="outside")
    options = RenderOptions.from_fields({"framing": "inside", "move": "pan(degrees=5)", "duration": 0.25})
    assert RenderOptions.from_dict(options.to_dict()).shot.framing == "inside"  # recipes keep it
    source, z = wall
    paths = camera_paths(source, z, options.shot, shot_plan(options.shot))
    framed = InsideFraming(source, z, paths)
    record = framed.framing(1.0)
    assert record.inside and record.zoom == pytest.approx(inside_zoom(source, z, paths(1.0).cameras))
    assert framed(1.0).cameras[-1].fx == pytest.approx(paths(1.0).cameras[-1].fx * record.zoom)
    assert framed(1.0) is framed(1.0)  # worked out once per amount


def test_plan_cameras_zooms_records_and_clamps_with_safe(small_example):
    picture, depth = small_example
    fields = {"move": "pan(degrees=8)", "duration": 0.5, "fps": "12", "size": "64x36"}
    _, free, safety = pipeline.plan_cameras(picture, depth, RenderOptions.from_fields(fields))
    assert safety.framing is None and "framing" not in safety.to_dict()
    options = RenderOptions.from_fields({**fields, "framing": "inside"})
    source, inside, safety = pipeline.plan_cameras(picture, depth, options)
    record = safety.to_dict()["framing"]
    assert record["inside"] and record["zoom"] == pytest.approx(inside_zoom(source, depth.z, free.cameras))
    assert inside.cameras[-1].fx == pytest.approx(free.cameras[-1].fx * record["zoom"])
    assert any(f"zoomed {record['zoom']:.3f}x" in line for line in safety.warnings)
    # a pan past half the field of view cannot stay inside at any zoom; --safe plays less of it
    wide = RenderOptions.from_fields({**fields, "framing": "inside", "move": "pan(degrees=40)"})
    _, _, unclamped = pipeline.plan_cameras(picture, depth, wide)
    assert unclamped.framing is not None and not unclamped.framing.inside
    safe = RenderOptions.from_fields({**fields, "framing": "inside", "move": "pan(degrees=40)", "safe": True})
    _, _, clamped = pipeline.plan_cameras(picture, depth, safe)
    assert clamped.amount < 1.0 and clamped.framing is not None and clamped.framing.inside
    assert "inside the photo (--framing inside)" in clamped.warnings[0]
