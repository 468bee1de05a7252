"""Focus pulls and f-stop changes (camera/focus.py): dioptre and stop interpolation, the rack's
easing and span, keyframed lens values, and the sub-frame cameras' lens."""

import numpy as np
import pytest

from stillcam.camera.camera import Camera
from stillcam.camera.focus import (
    MAX_FOCUS_M,
    key_lens_values,
    lerp_focus,
    lerp_fstop,
    rack_amounts,
    racked_path,
)
from stillcam.camera.path import CameraPath
from stillcam.camera.shutter import interpolate_cameras
from stillcam.errors import InputError


def test_focus_is_pulled_linearly_in_dioptres():
    for u in (0.1, 0.25, 0.5, 0.9):
        assert 1.0 / lerp_focus(1.0, 4.0, u) == pytest.approx((1 - u) * 1.0 + u * 0.25)
    assert lerp_focus(2.0, 8.0, 0.0) == 2.0 and lerp_focus(2.0, 8.0, 1.0) == 8.0  # ends exact
    assert lerp_focus(1.0, MAX_FOCUS_M, 0.5) == pytest.approx(2.0, rel=1e-5)  # half way to infinity
    assert lerp_focus(1.0, 2.0, 3.0) == MAX_FOCUS_M  # extended past infinity: clamped


def test_fstop_changes_linearly_in_stops():
    assert lerp_fstop(2.0, 8.0, 0.5) == pytest.approx(4.0)  # two stops: one stop half way
    assert lerp_fstop(1.4, 16.0, 0.0) == 1.4 and lerp_fstop(1.4, 16.0, 1.0) == 16.0


def test_rack_amounts_hold_ease_and_hold():
    amounts = rack_amounts(range(1001, 1012), (1003, 1009))
    assert amounts[:3].tolist() == [0.0, 0.0, 0.0] and amounts[-3:].tolist() == [1.0, 1.0, 1.0]
    assert amounts[5] == pytest.approx(0.5)  # 1006: half way through the pull
    inside = amounts[2:9]
    assert np.all(np.diff(inside) > 0) and np.diff(inside)[0] < np.diff(inside)[3]  # eased in
    assert rack_amounts(range(1001, 1004), (1002, 1002)).tolist() == [0.0, 1.0, 1.0]  # a snap


def _path(n: int = 11) -> CameraPath:
    camera = Camera.from_focal_mm(64, 36, 35.0)
    return CameraPath(tuple(camera for _ in range(n)), fps=24)


def test_racked_path_sets_each_frames_focus():
    racked = racked_path(_path(), 1.0, 4.0, (1003, 1009))
    focus = [c.focus_m for c in racked.cameras]
    assert focus[:3] == [1.0] * 3 and focus[-3:] == [4.0] * 3
    assert focus[5] == pytest.approx(lerp_focus(1.0, 4.0, 0.5))
    whole = racked_path(_path(), 1.0, 4.0, None)
    assert whole.cameras[0].focus_m == 1.0 and whole.cameras[-1].focus_m == 4.0


def test_racked_path_refuses_a_span_outside_the_shot_and_a_second_pull():
    with pytest.raises(
        InputError, match=r"--rack 1005-1020: the pull must lie inside the shot's frames 1001-1011"
    ):
        racked_path(_path(), 1.0, 4.0, (1005, 1020))
    pulled = racked_path(_path(), 1.0, 4.0, None)
    with pytest.raises(InputError, match="already pull focus"):
        racked_path(pulled, 1.0, 4.0, None)


def test_key_lens_values_hold_before_the_first_and_between_missing_keys():
    times = np.array([0.0, 1.0, 2.0])
    at = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    focus = key_lens_values([None, 1.0, 4.0], times, at, stops=False)
    assert focus[:3].tolist() == [1.0, 1.0, 1.0] and focus[-2:].tolist() == [4.0, 4.0]
    assert focus[3] == pytest.approx(lerp_focus(1.0, 4.0, 0.5))
    assert key_lens_values([None, None, None], times, at, stops=True) is None


def test_sub_frame_cameras_interpolate_the_lens():
    a = Camera.from_focal_mm(64, 36, 35.0)
    a, b = (
        Camera(64, 36, a.fx, a.fy, a.cx, a.cy, focus_m=1.0, fstop=2.0),
        Camera(64, 36, a.fx, a.fy, a.cx, a.cy, focus_m=4.0, fstop=8.0),
    )
    mid = interpolate_cameras(a, b, 0.5)
    assert mid.focus_m == pytest.approx(1.6) and mid.fstop == pytest.approx(4.0)
    plain = Camera(64, 36, a.fx, a.fy, a.cx, a.cy)
    assert interpolate_cameras(plain, b, 0.5).focus_m is None  # no lens on a: none
