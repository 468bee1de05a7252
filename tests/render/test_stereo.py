"""Packed stereo frames: layout, and the disparity measured between the eyes of a rendered
textured plane at a known depth matches the rig's formula within 0.05 px."""

import numpy as np
import pytest

from stillcam.camera.camera import Camera, fit_output_camera
from stillcam.camera.stereo import EYES, StereoRig, eye_camera
from stillcam.depth.convert import DepthMap
from stillcam.errors import InputError
from stillcam.io.image import picture_from_array
from stillcam.render.frame import Frame, RenderSettings
from stillcam.render.registry import get_renderer
from stillcam.render.stereo import (
    StereoRenderer,
    check_packed_size,
    pack,
    unpack,
    with_stereo,
)
from stillcam.scene.layers import reach_of
from stillcam.scene.mesh import SceneSettings, build_scene

PHOTO_W, PHOTO_H = 192, 108
RIG = StereoRig(interaxial_m=0.1, convergence_m=4.0)


def _plane_scene(z_m: float):
    """A plane facing the photo's camera at ``z_m`` metres, textured with one smooth blob
    (grey 0.2 around it) at the photo's centre; the centre output camera (64x36)."""
    y, x = np.mgrid[0:PHOTO_H, 0:PHOTO_W].astype(np.float64)
    blob = np.exp(-((x - 95.5) ** 2 + (y - 53.5) ** 2) / (2 * 7.0**2))
    rgb = np.repeat((0.2 + 0.7 * blob)[..., None], 3, axis=2)
    picture = picture_from_array(np.rint(rgb * 65535).astype(np.uint16))
    source = Camera.from_focal_mm(PHOTO_W, PHOTO_H, 35.0)
    z = np.full((PHOTO_H, PHOTO_W), z_m, np.float32)
    centre = fit_output_camera(source, 64, 36)
    eyes = [eye_camera(centre, RIG, eye) for eye in EYES]
    reach = reach_of(source, eyes, z)
    scene = build_scene(picture, DepthMap(z, "plane", "-"), source, SceneSettings(stride=1), reach)
    return scene, centre


def _blob_x(rgb: np.ndarray) -> float:
    """The blob's x centroid in pixels (weights: brightness above the grey)."""
    weight = np.clip(rgb[..., 1].astype(np.float64) - 0.2, 0.0, None)
    return float((weight * np.arange(rgb.shape[1])).sum() / weight.sum())


@pytest.mark.parametrize("renderer", ["cpu", "reference"])
@pytest.mark.parametrize("z_m", [4.0, 2.0, 9.0])
def test_measured_disparity_of_a_plane_matches_the_formula(renderer, z_m):
    scene, centre = _plane_scene(z_m)
    frame = StereoRenderer(get_renderer(RenderSettings(renderer=renderer)), RIG, "sbs").render(scene, centre)
    assert frame.rgb.shape == (36, 128, 3) and frame.depth.shape == frame.alpha.shape == (36, 128)
    left, right = unpack(frame.rgb, "sbs")
    measured = _blob_x(left) - _blob_x(right)
    expected = RIG.interaxial_m * centre.fx * (1.0 / z_m - 1.0 / RIG.convergence_m)
    assert abs(measured - expected) < 0.05, (measured, expected)
    if z_m == RIG.convergence_m:
        assert abs(measured) < 0.05  # the screen plane
    np.testing.assert_allclose(unpack(frame.depth, "sbs")[0][18, 20:44], z_m, rtol=1e-5)


class _Marked:
    """A renderer whose frame tells which camera drew it (its cx) and how big it is."""

    def render(self, scene, camera: Camera) -> Frame:
        shape = (camera.height, camera.width)
        rgb = np.full((*shape, 3), camera.cx, np.float32)
        return Frame(rgb, np.full(shape, camera.cx, np.float32), np.full(shape, 0.5, np.float32))


def test_sbs_puts_the_left_eye_left_and_tb_puts_it_on_top():
    centre = Camera.from_focal_mm(64, 36, 35.0)
    left_cx, right_cx = (eye_camera(centre, RIG, eye).cx for eye in EYES)
    assert left_cx < centre.cx < right_cx
    sbs = StereoRenderer(_Marked(), RIG, "sbs").render(None, centre)
    tb = StereoRenderer(_Marked(), RIG, "tb").render(None, centre)
    assert sbs.rgb.shape == (36, 128, 3) and tb.rgb.shape == (72, 64, 3)
    for frame, layout in ((sbs, "sbs"), (tb, "tb")):
        for channel in (frame.rgb[..., 0], frame.depth):
            first, second = unpack(channel, layout)
            assert first.shape == second.shape == (36, 64)
            np.testing.assert_array_equal(first, np.float32(left_cx))
            np.testing.assert_array_equal(second, np.float32(right_cx))
        assert (frame.alpha == 0.5).all()


def test_pack_and_unpack_round_trip():
    a, b = np.arange(24.0).reshape(2, 4, 3), -np.arange(24.0).reshape(2, 4, 3)
    for layout in ("sbs", "tb"):
        left, right = unpack(pack(a, b, layout), layout)
        np.testing.assert_array_equal(left, a)
        np.testing.assert_array_equal(right, b)


def test_the_display_shortcut_gives_the_frames_bytes():
    from stillcam.output.frames import display_frame
    from stillcam.output.writers import OutputSettings, to_display

    scene, centre = _plane_scene(2.0)
    stereo = StereoRenderer(get_renderer(RenderSettings(renderer="cpu")), RIG, "tb")
    fused = display_frame(stereo, scene, centre, OutputSettings(), fill=True)
    from stillcam.render.frame import fill_holes

    left, right = (fill_holes(stereo.inner.render(scene, eye_camera(centre, RIG, eye))) for eye in EYES)
    expected = pack(to_display(left, (0, 0, 0), 8), to_display(right, (0, 0, 0), 8), "tb")
    assert fused.shape == (72, 64, 3)
    np.testing.assert_array_equal(fused, expected)


def test_with_stereo_wraps_only_packed_layouts():
    inner = _Marked()
    assert with_stereo(inner, RenderSettings(), RIG) is inner
    assert with_stereo(inner, RenderSettings(stereo="separate"), RIG) is inner
    wrapped = with_stereo(inner, RenderSettings(stereo="tb"), RIG)
    assert isinstance(wrapped, StereoRenderer) and wrapped.layout == "tb" and wrapped.inner is inner


def test_a_packed_frame_beyond_the_size_limits_is_refused():
    check_packed_size(8192, 100, RenderSettings(stereo="sbs"), "--size 8192x100")
    check_packed_size(16000, 100, RenderSettings(stereo="separate"), "--size 16000x100")
    with pytest.raises(InputError, match=r"--stereo sbs of --size 9000x100.*18000x100") as error:
        check_packed_size(9000, 100, RenderSettings(stereo="sbs"), "--size 9000x100")
    assert "\n" not in str(error.value)
    with pytest.raises(InputError, match="--stereo tb"):
        check_packed_size(100, 9000, RenderSettings(stereo="tb"), "--size 100x9000")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"stereo": "anaglyph"}, "--stereo 'anaglyph': choose one of sbs, tb, separate"),
        ({"stereo": "sbs", "interaxial": 0.0}, r"--interaxial 0: give millimetres in \(0, 10000\]"),
        ({"stereo": "sbs", "interaxial": -65.0}, "--interaxial -65"),
        ({"stereo": "sbs", "interaxial": float("nan")}, "--interaxial nan"),
        ({"stereo": "sbs", "convergence": "near"}, "--convergence 'near': give metres"),
        ({"stereo": "sbs", "convergence": "0.001"}, "--convergence 0.001: give metres in"),
    ],
)
def test_option_errors_are_one_line(options, message):
    with pytest.raises(InputError, match=message) as error:
        RenderSettings(**options)
    assert "\n" not in str(error.value)
