from fractions import Fraction

import numpy as np
import pytest

from stillcam.camera import (
    MOVES,
    Camera,
    MoveContext,
    build_path,
    ease,
    fit_output_camera,
    frame_count,
    parse_move_params,
)
from stillcam.errors import InputError, MoveError
from stillcam.render.frame import project_vertices

CAM = Camera.from_focal_mm(320, 180, 35.0)
CTX = MoveContext(CAM, 5.0)


def _last(move, **params):
    return build_path(move, params, CTX, duration_s=1.0, fps=Fraction(10), easing="linear").cameras[-1]


def test_first_frame_is_the_photo_view_for_every_move():
    for name in MOVES:
        first = build_path(name, {}, CTX, duration_s=1.0, fps=Fraction(10)).cameras[0]
        np.testing.assert_allclose(first.pose, np.eye(4), atol=1e-12)
        assert first.fx == pytest.approx(CAM.fx)


def test_pan_right_and_tilt_up_directions():
    forward = _last("pan", degrees=15.0).pose[:3, 2]
    assert forward[0] > 0 and np.degrees(np.arctan2(forward[0], forward[2])) == pytest.approx(15.0)
    forward = _last("tilt", degrees=10.0).pose[:3, 2]
    assert forward[1] < 0 and np.degrees(np.arctan2(-forward[1], forward[2])) == pytest.approx(10.0)


def test_dolly_distance_and_fraction():
    assert _last("dolly-in", distance=0.8).pose[2, 3] == pytest.approx(0.8)
    assert _last("dolly-out").pose[2, 3] == pytest.approx(-0.25 * 5.0)


def test_zoom_factor_and_target_mm():
    assert _last("zoom-in", factor=2.0).fx == pytest.approx(2 * CAM.fx)
    assert _last("zoom-out", factor=2.0).fx == pytest.approx(CAM.fx / 2)
    assert _last("zoom-in", to_mm=85.0).focal_mm == pytest.approx(85.0)


def test_orbit_keeps_target_centred_and_distance():
    cam = _last("orbit", degrees=30.0)
    pixel = project_vertices(CTX.target[None], cam)[0]
    assert pixel[:2] == pytest.approx([CAM.cx, CAM.cy])
    assert np.linalg.norm(cam.pose[:3, 3] - CTX.target) == pytest.approx(5.0)
    assert cam.pose[0, 3] > 0  # positive degrees travel right


def test_spiral_returns_to_axis_after_full_turns():
    cam = _last("spiral", turns=2.0, push=0.2)
    np.testing.assert_allclose(cam.pose[:3, 3], [0, 0, 1.0], atol=1e-9)


def test_unknown_move_and_parameter_list_valid_ones():
    with pytest.raises(MoveError, match="dolly-in"):
        build_path("fly", {}, CTX, duration_s=1, fps=Fraction(24))
    with pytest.raises(MoveError, match="valid parameters: degrees"):
        build_path("pan", {"speed": 1.0}, CTX, duration_s=1, fps=Fraction(24))
    with pytest.raises(MoveError):
        parse_move_params(["degrees"])
    with pytest.raises(MoveError):
        parse_move_params(["degrees=fast"])
    assert parse_move_params(["to-mm=85", "distance=none"]) == {"to_mm": 85.0, "distance": None}


def test_easing_and_frame_count():
    t = np.linspace(0, 1, 11)
    for name in ("linear", "ease-in", "ease-out", "ease-in-out"):
        e = ease(t, name)
        assert e[0] == 0 and e[-1] == pytest.approx(1) and np.all(np.diff(e) >= 0)
    assert ease(np.array([0.25]), "ease-in")[0] < 0.25 < ease(np.array([0.25]), "ease-out")[0]
    assert frame_count(4.0, Fraction(24000, 1001)) == 96
    with pytest.raises(InputError):
        frame_count(0.0, Fraction(24))


def test_output_fit_crops_the_centre_without_stretching():
    photo = Camera.from_focal_mm(400, 300, 35.0)  # 4:3 photo into a 16:9 frame
    out = fit_output_camera(photo, 1600, 900)
    assert out.fx == pytest.approx(out.fy)
    assert out.fx / photo.fx == pytest.approx(4.0)  # full width kept, scaled 4x
    # The photo's centre maps to the frame's centre; the photo's left edge to the frame's.
    point = np.array([[0.0, 0.0, 2.0], [(-0.5 - photo.cx) / photo.fx * 2.0, 0.0, 2.0]])
    pixels = project_vertices(point, out)
    assert pixels[0, :2] == pytest.approx([799.5, 449.5])
    assert pixels[1, 0] == pytest.approx(-0.5)
