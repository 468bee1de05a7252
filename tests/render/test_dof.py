"""Depth of field (render/dof.py, render/lens.py): the thin lens's circle of confusion, the
occlusion-aware blur, fast vs reference, the options and the no-DoF bytes."""

import math
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam import pipeline
from stillcam.camera.camera import Camera
from stillcam.camera.plan import ShotSettings
from stillcam.conventions import filmback_mm
from stillcam.errors import InputError
from stillcam.options import RenderOptions
from stillcam.render import dof
from stillcam.render.dof import (
    REDUCE_ABOVE_PX,
    LensRenderer,
    apply_dof,
    apply_dof_reference,
    focus_distance,
    signed_coc,
    with_depth_of_field,
)
from stillcam.render.frame import Frame, RenderSettings
from stillcam.render.lens import coc_diameter_px, parse_focus


def _predicted_px(z: float, focus: float, fstop: float, focal: float, width: int, height: int) -> float:
    """The thin-lens CoC diameter written out by hand: mm on the sensor times px per mm."""
    f, s, d = focal, focus * 1000.0, z * 1000.0
    return f * f / (fstop * (s - f)) * abs(d - s) / d * width / filmback_mm(width, height)[0]


def _point_frame(size: int, z: float) -> Frame:
    rgb = np.zeros((size, size, 3), np.float32)
    rgb[size // 2, size // 2] = 1.0
    return Frame(rgb, np.full((size, size), z, np.float32), np.ones((size, size), np.float32))


@pytest.mark.parametrize(("z", "fstop"), [(3.0, 1.0), (0.6, 2.0), (8.0, 0.7)])
def test_a_point_on_a_plane_blurs_to_the_predicted_circle_of_confusion(z, fstop):
    size = 161
    camera = Camera.from_focal_mm(size, size, 50.0)
    predicted = _predicted_px(z, 1.0, fstop, 50.0, size, size)
    assert 4.0 < predicted < 80.0  # small discs and reduced-resolution ones
    frame = _point_frame(size, z)
    out = apply_dof(frame, signed_coc(frame.depth, camera, fstop=fstop, focus_m=1.0))
    spot = out.rgb[..., 0].astype(np.float64)
    measured = 2.0 * math.sqrt(spot.sum() / spot.max() / math.pi)  # the disc of the same area
    assert measured == pytest.approx(predicted, rel=0.10)
    assert spot.sum() == pytest.approx(1.0, abs=5e-3)  # energy kept (resampled discs: 0.5 %)


def test_coc_formula_matches_the_written_out_thin_lens():
    z = np.array([[0.5, 1.0, 2.0, np.inf]], np.float32)
    c = coc_diameter_px(z, focal_mm=35.0, fstop=2.8, focus_m=1.0, px_per_mm=100.0)
    expected = [35.0**2 / (2.8 * 965.0) * r * 100.0 for r in (1.0, 0.0, 0.5, 1.0)]
    assert c.dtype == np.float32 and c.shape == z.shape
    np.testing.assert_allclose(c[0], expected, rtol=1e-5)
    with pytest.raises(InputError, match="not beyond the focal length"):
        coc_diameter_px(z, focal_mm=50.0, fstop=2.0, focus_m=0.04, px_per_mm=1.0)


def test_a_plane_at_the_focus_distance_is_unchanged_bit_for_bit():
    rng = np.random.default_rng(1)
    rgb = rng.random((48, 64, 3), dtype=np.float32)
    frame = Frame(rgb, np.full((48, 64), 2.0, np.float32), np.ones((48, 64), np.float32))
    out = apply_dof(
        frame, signed_coc(frame.depth, Camera.from_focal_mm(64, 48, 50.0), fstop=1.0, focus_m=2.0)
    )
    assert np.array_equal(out.rgb, frame.rgb) and np.array_equal(out.alpha, frame.alpha)


def _two_planes(near_coc: float, far_coc: float) -> tuple[Frame, np.ndarray, np.ndarray]:
    """A grey left half (near, z 1 m) over a striped background (z 5 m)."""
    h, w = 40, 60
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:, :, :] = ((np.arange(w) // 3) % 2).astype(np.float32)[None, :, None]  # stripes 0 / 1
    near = np.zeros((h, w), bool)
    near[:, :30] = True
    rgb[near] = 0.25
    depth = np.where(near, 1.0, 5.0).astype(np.float32)
    coc = np.where(near, near_coc, far_coc).astype(np.float32)
    return Frame(rgb, depth, np.ones((h, w), np.float32)), coc, near


def test_a_sharp_foreground_edge_shows_no_background_halo():
    frame, coc, near = _two_planes(0.0, 12.0)  # in focus in front of a blurred background
    out = apply_dof(frame, coc)
    assert np.array_equal(out.rgb[near], frame.rgb[near])  # not one background colour on it
    assert np.allclose(out.alpha, 1.0, atol=1e-5)  # no dark fringe behind the edge
    background = out.rgb[:, 31:34, 0]  # right beside the edge: blurred stripes, mean ~0.5
    assert 0.3 < background.mean() < 0.7 and background.std() < 0.2


def test_a_blurred_foreground_spills_over_a_sharp_background():
    frame, coc, _ = _two_planes(-10.0, 0.0)  # blurred in front of an in-focus background
    out = apply_dof(frame, coc)
    beside = out.rgb[:, 30:33, 0]  # background pixels next to the edge take the grey
    assert np.abs(beside - frame.rgb[:, 30:33, 0]).max() > 0.1
    assert np.array_equal(out.rgb[:, 40:], frame.rgb[:, 40:])  # farther than the disc: sharp
    assert np.allclose(out.alpha, 1.0, atol=1e-5)


@pytest.mark.parametrize(("near_coc", "far_coc"), [(0.0, 6.0), (-5.0, 0.0), (-3.0, 7.0), (-30.0, 3.0)])
def test_fast_and_reference_agree_on_planes(near_coc, far_coc):
    frame, coc, _ = _two_planes(near_coc, far_coc)
    rng = np.random.default_rng(2)
    frame = Frame(
        frame.rgb * rng.uniform(0.5, 1.0, frame.rgb.shape).astype(np.float32), frame.depth, frame.alpha
    )
    fast, slow = apply_dof(frame, coc), apply_dof_reference(frame, coc)
    # constant CoC per slab: only float round-off; wider discs are blurred at a reduced size
    tolerance = 1e-5 if max(abs(near_coc), abs(far_coc)) < REDUCE_ABOVE_PX else 0.03
    assert np.abs(fast.rgb - slow.rgb).max() < tolerance
    assert np.abs(fast.alpha - slow.alpha).max() < 1e-5


def test_fast_and_reference_agree_on_a_slanted_plane():
    """Per-pixel CoC varies inside a slab: the fast path uses the slab's mean disc."""
    h, w = 32, 48
    rng = np.random.default_rng(3)
    rgb = rng.random((h, w, 3), dtype=np.float32)
    depth = np.tile(np.linspace(0.5, 6.0, w, dtype=np.float32), (h, 1))
    frame = Frame(rgb, depth, np.ones((h, w), np.float32))
    coc = signed_coc(depth, Camera.from_focal_mm(w, h, 50.0), fstop=0.7, focus_m=1.5)
    fast, slow = apply_dof(frame, coc), apply_dof_reference(frame, coc)
    difference = np.abs(fast.rgb - slow.rgb)  # on per-pixel noise in [0, 1], the worst texture
    assert difference.mean() < 0.02 and difference.max() < 0.2, (difference.mean(), difference.max())


def _discs_scene(
    centres: list[tuple[int, int]], *, near_coc: float = -9.0, far_coc: float = 14.0, size: int = 32
) -> tuple[Frame, np.ndarray]:
    """Textured near discs in front of a textured far plane, 200 x 320, and their CoCs."""
    h, w = 200, 320
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(5)
    rgb = np.stack([0.5 + 0.4 * np.sin(x / 7.0), 0.5 + 0.4 * np.cos(y / 5.0), rng.random((h, w))], -1)
    near = np.zeros((h, w), bool)
    for cy, cx in centres:
        near |= (y - cy) ** 2 + (x - cx) ** 2 < size**2
    rgb[near] = rng.random((int(near.sum()), 3)) * 0.5
    coc = np.where(near, near_coc, far_coc).astype(np.float32)
    depth = np.where(near, 1.0, 5.0).astype(np.float32)
    return Frame(rgb.astype(np.float32), depth, np.ones((h, w), np.float32)), coc


def test_reduced_resolution_fill_agrees_with_the_full_resolution_one(monkeypatch):
    """The fast path's fill behind nearer slabs is a local mean taken at a reduced resolution
    once its reach is at least 2 x FILL_REACH_PX; it shows through the blurred foreground's
    semi-transparent edge and must look like the full-resolution fill there."""
    frame, coc = _discs_scene([(100, 160)], near_coc=-20.0, far_coc=6.0)  # far: a full-size disc
    _, pieces = dof._pieces(frame, coc)
    assert dof._fill_factor(pieces[0].reach) > 1 and pieces[0].diameter < REDUCE_ABOVE_PX
    reduced = apply_dof(frame, coc)
    monkeypatch.setattr(dof, "FILL_REACH_PX", 10**6)  # every fill at full resolution
    assert all(dof._fill_factor(p.reach) == 1 for p in pieces)
    full = apply_dof(frame, coc)
    difference = np.abs(reduced.rgb - full.rgb)
    assert difference.max() < 0.01 and difference.mean() < 1e-4, (difference.max(), difference.mean())
    assert np.abs(reduced.alpha - full.alpha).max() < 1e-5


def test_a_slab_in_two_distant_places_is_blurred_piece_by_piece_as_if_alone():
    """The slab's pieces (on the tiles its pixels are on) get boxes of their own; each piece's
    result is what the piece alone would give (no seam, no cross-talk, no whole-frame box)."""
    both, coc = _discs_scene([(60, 50), (140, 270)])
    ids, pieces = dof._pieces(both, coc)
    near = [p for p in pieces if p.k < 0]
    areas = [(p.box[1] - p.box[0]) * (p.box[3] - p.box[2]) for p in near]
    assert len(near) == 2 and max(areas) < 0.3 * ids.size
    left, left_coc = _discs_scene([(60, 50)])
    out, alone = apply_dof(both, coc), apply_dof(left, left_coc)
    assert np.abs(out.rgb[:, :150] - alone.rgb[:, :150]).max() < 1e-5
    fast, slow = out, apply_dof_reference(both, coc)
    difference = np.abs(fast.rgb - slow.rgb)  # wide discs blurred at a reduced size
    assert difference.max() < 0.06 and difference.mean() < 0.005, (difference.max(), difference.mean())


def test_depth_of_field_is_deterministic():
    frame, coc, _ = _two_planes(-4.0, 9.0)
    a, b = apply_dof(frame, coc), apply_dof(frame, coc)
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.alpha, b.alpha)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fstop": -1.0}, "--fstop -1: give an f-number in [0.5, 128] (0 = off)"),
        ({"fstop": math.inf}, "--fstop inf: give an f-number in [0.5, 128] (0 = off)"),
        ({"focus": "1.5,0.2"}, "--focus 1.5,0.2: X and Y are fractions of the frame, 0..1"),
        ({"focus": "0.5,x"}, "--focus '0.5,x': expected X,Y, e.g. --focus 0.5,0.4"),
        ({"focus": "-2"}, "--focus -2: give metres in [0.01, 1e+06]"),
        ({"focus": "near"}, "--focus 'near': give metres (e.g. 2.5), subject, or a pixel X,Y (e.g. 0.5,0.4)"),
    ],
)
def test_option_errors_are_one_line(options, message):
    with pytest.raises(InputError) as error:
        RenderSettings(**options)
    assert str(error.value) == message and "\n" not in str(error.value)


def test_focus_values():
    assert parse_focus("subject") == "subject" and parse_focus(" 3 ") == 3.0
    assert parse_focus("0,1") == (0.0, 1.0)
    assert not RenderSettings().depth_of_field and not RenderSettings(fstop=0.0).depth_of_field
    assert RenderSettings(fstop=2.8).depth_of_field


def test_focus_distance_subject_metres_and_pixel():
    source = Camera.from_focal_mm(64, 36, 35.0)
    z = np.full((36, 64), 4.0, np.float32)
    z[:, 32:] = 2.0
    shot = ShotSettings(size="64x36", target_depth=3.0)
    assert focus_distance("subject", source, z, shot) == 3.0
    assert focus_distance(1.25, source, z, shot) == 1.25
    assert focus_distance((0.1, 0.5), source, z, shot) == 4.0  # the photo's depth there, not 3 m
    assert focus_distance((0.9, 0.5), source, z, shot) == 2.0


def test_fstop_off_keeps_the_renderer_and_on_wraps_it():
    renderer = object()
    source, z = Camera.from_focal_mm(64, 36, 35.0), np.full((36, 64), 4.0, np.float32)
    shot = ShotSettings(size="64x36")
    for off in (RenderSettings(), RenderSettings(fstop=0.0)):
        assert with_depth_of_field(renderer, off, source, z, shot, fill=True) is renderer
    lens = with_depth_of_field(renderer, RenderSettings(fstop=2.0), source, z, shot, fill=True)
    assert isinstance(lens, LensRenderer) and lens.focus_m == pytest.approx(4.0)


def _render(folder: Path, photo: Path, depth: Path, name: str, **render) -> list[bytes]:
    shot = ShotSettings(size="64x36", duration=0.25, fps="12", move="dolly-in")
    options = RenderOptions(shot=shot, render=RenderSettings(**render))
    pipeline.render(photo, depth, folder / f"{name}.####.png", options)
    return [f.read_bytes() for f in sorted(folder.glob(f"{name}.*.png"))]


def test_fstop_off_is_todays_bytes_and_on_rerenders_bit_for_bit(tmp_path):
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    plain = _render(tmp_path, photo, depth, "plain")
    assert _render(tmp_path, photo, depth, "off", fstop=0.0) == plain
    blurred = _render(tmp_path, photo, depth, "dof", fstop=0.5, focus="2")
    assert len(blurred) == len(plain) == 3 and blurred != plain
    recipe = tmp_path / "dof.png.recipe.json"
    assert '"fstop": 0.5' in recipe.read_text()
    pipeline.rerender(recipe, tmp_path / "again.####.png")
    assert [f.read_bytes() for f in sorted(tmp_path.glob("again.*.png"))] == blurred


def test_usd_camera_carries_the_lens(tmp_path):
    pxr = pytest.importorskip("pxr")
    from pxr import Usd, UsdGeom  # noqa: F401  (loads the submodules)

    photo, depth = tiny_shot_inputs(tmp_path / "in")
    shot = ShotSettings(size="64x36", duration=0.25, fps="12", move="dolly-in")
    options = RenderOptions(shot=shot, render=RenderSettings(fstop=2.8, focus="3"))
    pipeline.render(photo, depth, tmp_path / "s.####.png", options, exports=[tmp_path / "s.usda"])
    stage = pxr.Usd.Stage.Open(str(tmp_path / "s.usda"))  # kept: its prims live as long as it
    camera = pxr.UsdGeom.Camera(stage.GetPrimAtPath("/stillcam/camera"))
    assert camera.GetFStopAttr().Get() == pytest.approx(2.8)
    assert camera.GetFocusDistanceAttr().Get() == pytest.approx(300.0)  # cm, the stage unit


def test_render_views_blurs_with_fstop():
    from stillcam import render_views

    rng = np.random.default_rng(4)
    image = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    depth = np.full((24, 32), 3.0, np.float32)
    K = np.array([[30.0, 0, 15.5], [0, 30.0, 11.5], [0, 0, 1]])
    (sharp,) = render_views(image, depth, K, [np.eye(4)])
    (focused,) = render_views(image, depth, K, [np.eye(4)], fstop=1.0, focus="3")
    (blurred,) = render_views(image, depth, K, [np.eye(4)], fstop=1.0, focus="0.5")
    assert np.array_equal(focused, sharp) and not np.array_equal(blurred, sharp)
