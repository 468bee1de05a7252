"""Lens distortion (render/distortion.py, render/lens.py parse_distortion): the Brown–Conrady
model and its inverse, the overscan, the ST-maps, the option and the no-distortion bytes."""

from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam import pipeline
from stillcam.camera.camera import Camera
from stillcam.camera.plan import ShotSettings
from stillcam.errors import InputError
from stillcam.options import RenderOptions
from stillcam.render.distortion import (
    DistortionRenderer,
    distort_points,
    overscan_px,
    source_pixels,
    st_map,
    undistort_points,
    with_distortion,
)
from stillcam.render.frame import Frame, RenderSettings
from stillcam.render.lens import parse_distortion

CAMERA = Camera.from_focal_mm(192, 108, 28.0)
LENSES = [(-0.25, 0.05, 0.0, 0.0), (0.2, 0.02, 0.0, 0.0), (-0.1, 0.01, 0.004, -0.003)]


def _pixels(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(camera.width, dtype=np.float64), np.arange(camera.height, dtype=np.float64))


@pytest.mark.parametrize("coeffs", LENSES)
def test_distort_then_undistort_is_the_identity_within_a_tenth_of_a_pixel(coeffs):
    u, v = _pixels(CAMERA)
    x, y = (u - CAMERA.cx) / CAMERA.fx, (v - CAMERA.cy) / CAMERA.fy
    xd, yd = distort_points(x, y, coeffs)
    xu, yu = undistort_points(xd, yd, coeffs)
    error = np.hypot((xu - x) * CAMERA.fx, (yu - y) * CAMERA.fy)
    assert error.max() < 0.1
    # and the other way round: undistort then distort
    xr, yr = distort_points(*undistort_points(x, y, coeffs), coeffs)
    assert np.hypot((xr - x) * CAMERA.fx, (yr - y) * CAMERA.fy).max() < 0.1


def test_the_model_written_out_by_hand():
    k1, k2, p1, p2 = 0.1, -0.02, 0.003, 0.004
    x, y = 0.3, -0.2
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2
    expected = (
        x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
        y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y,
    )
    got = distort_points(np.array(x), np.array(y), (k1, k2, p1, p2))
    assert [float(g) for g in got] == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("coeffs", LENSES)
def test_st_map_values_at_known_pixels_match_the_model(coeffs):
    stmap = st_map(CAMERA, coeffs)
    inverse = st_map(CAMERA, coeffs, inverse=True)
    assert stmap.dtype == np.float32 and stmap.shape == (CAMERA.height, CAMERA.width, 2)
    w, h = CAMERA.width, CAMERA.height
    for u, v in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (37, 61), (w // 2, h // 2)]:
        # distort map: the undistorted source pixel whose distortion lands on (u, v)
        xs, ys = stmap[v, u, 0] * w - 0.5, (1.0 - stmap[v, u, 1]) * h - 0.5
        xd, yd = distort_points(
            np.array((xs - CAMERA.cx) / CAMERA.fx), np.array((ys - CAMERA.cy) / CAMERA.fy), coeffs
        )
        assert float(xd) * CAMERA.fx + CAMERA.cx == pytest.approx(u, abs=2e-3)
        assert float(yd) * CAMERA.fy + CAMERA.cy == pytest.approx(v, abs=2e-3)
        # undistort map: where (u, v) of the undistorted plate is in the distorted frame
        xd, yd = distort_points(
            np.array((u - CAMERA.cx) / CAMERA.fx), np.array((v - CAMERA.cy) / CAMERA.fy), coeffs
        )
        assert inverse[v, u, 0] == pytest.approx((float(xd) * CAMERA.fx + CAMERA.cx + 0.5) / w, abs=1e-6)
        assert inverse[v, u, 1] == pytest.approx(
            1.0 - (float(yd) * CAMERA.fy + CAMERA.cy + 0.5) / h, abs=1e-6
        )


def test_identity_st_map_is_nukes_pixel_centres():
    stmap = st_map(CAMERA, (1e-12, 0.0, 0.0, 0.0))
    assert stmap[0, 0].tolist() == pytest.approx([0.5 / 192, 1 - 0.5 / 108], abs=1e-6)
    assert stmap[-1, -1].tolist() == pytest.approx([1 - 0.5 / 192, 0.5 / 108], abs=1e-6)


class _Flat:
    """A renderer that covers whatever frame it is asked for: colour = the pixel's position in
    the camera's normalised coordinates (so the distortion is visible), alpha 1."""

    def __init__(self) -> None:
        self.cameras: list[Camera] = []

    def render(self, scene, camera: Camera) -> Frame:
        self.cameras.append(camera)
        u, v = _pixels(camera)
        x, y = (u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy
        rgb = np.dstack([x, y, np.zeros_like(x)]).astype(np.float32)
        shape = (camera.height, camera.width)
        return Frame(rgb, np.full(shape, 2.0, np.float32), np.ones(shape, np.float32))


def test_zero_coefficients_change_nothing_bit_for_bit():
    inner = _Flat()
    assert parse_distortion("0,0,0,0") is None and parse_distortion(None) is None
    assert with_distortion(inner, RenderSettings(distortion="0,0,0,0"), fill=True) is inner
    assert with_distortion(inner, RenderSettings(), fill=True) is inner
    wrapped = with_distortion(inner, RenderSettings(distortion="0.1,0,0,0", supersample=2), fill=True)
    assert isinstance(wrapped, DistortionRenderer) and wrapped.supersample == 2
    assert not RenderSettings(distortion="0,0,0,0").lens_distortion
    assert not RenderSettings().lens_distortion and RenderSettings(distortion="-0.1,0,0,0").lens_distortion


@pytest.mark.parametrize("coeffs", [(-0.3, 0.05, 0.0, 0.0), (0.5, 0.1, 0.0, 0.0), (-0.15, 0.0, 0.02, -0.02)])
def test_overscan_leaves_no_uncovered_pixel_at_the_edges(coeffs):
    inner = _Flat()
    frame = DistortionRenderer(inner, coeffs, fill=False).render(None, CAMERA)
    assert frame.rgb.shape == (CAMERA.height, CAMERA.width, 3)
    assert (frame.alpha == 1.0).all()  # every pixel, the edges and corners included
    rendered = inner.cameras[-1]
    margin = overscan_px(CAMERA, coeffs)
    assert (rendered.width, rendered.height) == (CAMERA.width + 2 * margin[0], CAMERA.height + 2 * margin[1])
    assert (rendered.fx, rendered.fy) == (CAMERA.fx, CAMERA.fy)
    sx, sy = source_pixels(CAMERA, coeffs)  # the border decides: every source point is inside
    assert sx.min() >= -margin[0] + 1 and sx.max() <= CAMERA.width - 1 + margin[0] - 1
    assert sy.min() >= -margin[1] + 1 and sy.max() <= CAMERA.height - 1 + margin[1] - 1
    # colour: each pixel shows the undistorted point the model says (normalised x as red)
    sx, _ = source_pixels(CAMERA, coeffs)
    assert frame.rgb[..., 0] == pytest.approx(((sx - CAMERA.cx) / CAMERA.fx).astype(np.float32), abs=1e-5)
    # without the overscan (the same resampling from a render of the output's size) a barrel
    # lens uncovers the corners
    if coeffs[0] < 0:
        import cv2

        sx, sy = source_pixels(CAMERA, coeffs)
        naive = cv2.remap(
            np.ones((CAMERA.height, CAMERA.width), np.float32),
            sx.astype(np.float32),
            sy.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        assert naive[0, 0] == 0.0 and (naive < 1.0).mean() > 0.01
        assert frame.alpha.mean() > naive.mean()


def test_distortion_is_deterministic():
    a = DistortionRenderer(_Flat(), LENSES[2], fill=False).render(None, CAMERA)
    b = DistortionRenderer(_Flat(), LENSES[2], fill=False).render(None, CAMERA)
    assert (
        np.array_equal(a.rgb, b.rgb) and np.array_equal(a.alpha, b.alpha) and np.array_equal(a.depth, b.depth)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "expected K1,K2,P1,P2"),
        ("0.1,0.2", "expected 4 numbers"),
        ("nan,0,0,0", "finite"),
        ("3,0,0,0", "K1, K2 must be in"),
        ("0,0,0.5,0", "P1, P2 in"),
        ("9\n,0,0,0", "K1, K2 must be in"),
        ("1," * 150, "expected K1,K2,P1,P2"),
    ],
)
def test_option_errors_are_one_line(text, message):
    with pytest.raises(InputError, match=message) as error:
        RenderSettings(distortion=text)
    assert "\n" not in str(error.value)


def test_an_overscan_beyond_the_frame_size_limits_is_refused():
    big = Camera.from_focal_mm(8000, 8000, 28.0)
    with pytest.raises(InputError, match="overscan") as error:
        DistortionRenderer(_Flat(), (-0.3, 0.05, 0.0, 0.0), fill=False, supersample=2)._remap(big)
    assert "\n" not in str(error.value)


def test_the_option_reaches_help_and_the_command_line():
    from stillcam.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.choices and "render" in a.choices)  # the subcommands
    help_text = " ".join(commands.choices["render"].format_help().split())
    assert "--distortion K1,K2,P1,P2" in help_text and "Brown-Conrady" in help_text
    options = RenderOptions.from_fields({"distortion": "-0.1,0.01,0,0"})
    assert options.render.distortion == "-0.1,0.01,0,0"


def test_a_lens_too_strong_for_the_frame_is_refused_in_one_line():
    with pytest.raises(InputError, match="too strong") as error:
        DistortionRenderer(_Flat(), (-2.0, 0.0, 0.0, 0.0), fill=False).render(None, CAMERA)
    assert "\n" not in str(error.value)


def _render(folder: Path, photo: Path, depth: Path, name: str, **render) -> list[bytes]:
    shot = ShotSettings(size="64x36", duration=0.25, fps="12", move="dolly-in")
    options = RenderOptions(shot=shot, render=RenderSettings(**render))
    pipeline.render(photo, depth, folder / f"{name}.####.png", options)
    return [f.read_bytes() for f in sorted(folder.glob(f"{name}.[0-9]*.png"))]


def test_off_is_todays_bytes_on_writes_st_maps_and_rerenders_bit_for_bit(tmp_path):
    import OpenEXR

    photo, depth = tiny_shot_inputs(tmp_path / "in")
    plain = _render(tmp_path, photo, depth, "plain")
    assert _render(tmp_path, photo, depth, "off", distortion="0,0,0,0") == plain
    assert not list(tmp_path.glob("*.stmap.exr"))
    bent = _render(tmp_path, photo, depth, "lens", distortion="-0.2,0.02,0,0")
    assert len(bent) == len(plain) == 3 and bent != plain
    with OpenEXR.File(str(tmp_path / "lens.stmap.exr")) as file:
        rgb = file.channels()["RGB"].pixels  # the binding reads R, G, B as one array
        r, g = rgb[..., 0], rgb[..., 1]
    assert r.dtype == np.float32 and r.shape == (36, 64) and g.shape == (36, 64)
    assert (tmp_path / "lens.undistort.stmap.exr").is_file()
    # barrel: the corners sample the undistorted plate outside the frame
    assert r[0, 0] < 0.5 / 64 and g[0, 0] > 1 - 0.5 / 36
    recipe = tmp_path / "lens.png.recipe.json"
    assert '"distortion": "-0.2,0.02,0,0"' in recipe.read_text()
    pipeline.rerender(recipe, tmp_path / "again.####.png")
    assert [f.read_bytes() for f in sorted(tmp_path.glob("again.[0-9]*.png"))] == bent
    assert (tmp_path / "again.stmap.exr").is_file()


def test_passes_are_distorted_like_the_frames(tmp_path):
    import cv2

    from stillcam.output.writers import OutputSettings

    photo, depth = tiny_shot_inputs(tmp_path / "in")
    shot = ShotSettings(size="64x36", duration=0.25, fps="12", move="dolly-in")
    for name, distortion in [("plain", None), ("lens", "-0.3,0.05,0,0")]:
        options = RenderOptions(
            shot=shot,
            render=RenderSettings(distortion=distortion),
            output=OutputSettings(passes=("depth", "coverage")),
        )
        pipeline.render(photo, depth, tmp_path / f"{name}.####.png", options)
    plain = cv2.imread(str(tmp_path / "plain.coverage.1001.png"), cv2.IMREAD_UNCHANGED)
    bent = cv2.imread(str(tmp_path / "lens.coverage.1001.png"), cv2.IMREAD_UNCHANGED)
    assert plain.shape == bent.shape == (36, 64) and not np.array_equal(plain, bent)
    assert (tmp_path / "lens.depth.1001.exr").is_file() and (tmp_path / "lens.stmap.exr").is_file()
