"""Sub-frame times and cameras of an open shutter (camera/shutter.py): exact numbers."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from stillcam.camera.camera import Camera, pose_from, rotation_y
from stillcam.camera.path import CameraPath
from stillcam.camera.shutter import camera_at, shutter_offsets, subframe_cameras
from stillcam.errors import InputError


def _path() -> CameraPath:
    """Three frames: 1 m right, 10 degrees of pan and 10 px of focal per frame."""
    base = Camera(64, 48, 50.0, 50.0, 31.5, 23.5)
    cameras = tuple(
        Camera(64, 48, 50.0 + 10 * i, 50.0 + 10 * i, 31.5, 23.5, pose_from(rotation_y(10.0 * i), [i, 0, 0]))
        for i in range(3)
    )
    assert cameras[0].fx == base.fx
    return CameraPath(cameras, Fraction(24), 1001)


def _pan_degrees(camera: Camera) -> float:
    return math.degrees(math.atan2(camera.pose[0, 2], camera.pose[2, 2]))


def test_offsets_are_the_centres_of_equal_slices_of_the_open_interval():
    assert shutter_offsets(180.0, 8).tolist() == [(k + 0.5) / 16 - 0.25 for k in range(8)]
    assert shutter_offsets(180.0, 8)[0] == -0.21875
    assert shutter_offsets(360.0, 4).tolist() == [-0.375, -0.125, 0.125, 0.375]
    assert shutter_offsets(90.0, 1).tolist() == [0.0]
    assert shutter_offsets(0.0, 3).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(("angle", "samples"), [(-1.0, 8), (360.5, 8), (math.nan, 8), (180.0, 0)])
def test_offsets_refuse_a_bad_shutter(angle, samples):
    with pytest.raises(InputError):
        shutter_offsets(angle, samples)


def test_subframe_cameras_of_a_known_path():
    cameras = subframe_cameras(_path(), 1002, 180.0, 4)  # times 1 -/+ 0.1875, 0.0625
    times = [0.8125, 0.9375, 1.0625, 1.1875]
    assert [c.pose[0, 3] for c in cameras] == pytest.approx(times, abs=1e-12)
    assert [c.pose[1, 3] for c in cameras] == [0.0] * 4 and [c.pose[2, 3] for c in cameras] == [0.0] * 4
    assert [_pan_degrees(c) for c in cameras] == pytest.approx([10 * t for t in times], abs=1e-9)
    assert [c.fx for c in cameras] == pytest.approx([50 + 10 * t for t in times], abs=1e-12)
    assert [c.fy for c in cameras] == pytest.approx([50 + 10 * t for t in times], abs=1e-12)
    assert all((c.width, c.height, c.cx, c.cy) == (64, 48, 31.5, 23.5) for c in cameras)
    for c in cameras:  # still a rotation
        assert np.allclose(c.pose[:3, :3] @ c.pose[:3, :3].T, np.eye(3), atol=1e-12)


def test_the_end_frames_extend_the_first_and_last_motion():
    path = _path()
    first = subframe_cameras(path, 1001, 360.0, 2)  # times -0.25, 0.25
    last = subframe_cameras(path, 1003, 360.0, 2)  # times 1.75, 2.25
    assert [c.pose[0, 3] for c in first] == pytest.approx([-0.25, 0.25])
    assert [_pan_degrees(c) for c in last] == pytest.approx([17.5, 22.5])
    assert [c.fx for c in last] == pytest.approx([67.5, 72.5])


def test_whole_times_give_the_frames_own_cameras():
    path = _path()
    assert [camera_at(path, float(t)) for t in range(3)] == list(path.cameras)  # the same objects
    assert subframe_cameras(path, 1002, 0.0, 3) == (path.cameras[1],) * 3
    assert subframe_cameras(path, 1003, 180.0, 1) == (path.cameras[2],)
    single = CameraPath(path.cameras[:1], Fraction(24), 1001)
    assert subframe_cameras(single, 1001, 360.0, 4) == (path.cameras[0],) * 4


def test_a_frame_outside_the_path_is_refused():
    with pytest.raises(ValueError, match="not in the path"):
        subframe_cameras(_path(), 1004, 180.0, 8)
