"""Stereo rig eye cameras: zero parallax at the convergence distance, the disparity formula,
rows aligned, nothing else of the camera changed."""

import dataclasses

import numpy as np
import pytest

from stillcam.camera.camera import Camera, pose_from, rotation_x, rotation_y
from stillcam.camera.stereo import (
    StereoRig,
    disparity_px,
    eye_camera,
    packed_size,
    parse_convergence,
)
from stillcam.errors import InputError
from stillcam.render.frame import project_vertices

CENTRE = Camera.from_focal_mm(64, 36, 35.0).with_pose(
    pose_from(rotation_y(20.0) @ rotation_x(-7.0), np.array([0.3, -0.2, 0.5]))
)


def _points_at_depths(camera: Camera, depths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """World points at the given camera z (metres), spread over the frame."""
    u = rng.uniform(0, camera.width - 1, len(depths))
    v = rng.uniform(0, camera.height - 1, len(depths))
    local = np.stack([(u - camera.cx) / camera.fx * depths, (v - camera.cy) / camera.fy * depths, depths], 1)
    return local @ camera.pose[:3, :3].T + camera.pose[:3, 3]


@pytest.mark.parametrize("interaxial, convergence", [(0.065, 3.0), (0.02, 0.8), (0.5, 40.0)])
def test_zero_parallax_at_the_convergence_distance_and_the_formula_elsewhere(interaxial, convergence):
    rig = StereoRig(interaxial, convergence)
    rng = np.random.default_rng(1)
    depths = np.concatenate([[convergence] * 20, rng.uniform(0.3, 100.0, 200)])
    points = _points_at_depths(CENTRE, depths, rng)
    left = project_vertices(points, eye_camera(CENTRE, rig, "left"))
    right = project_vertices(points, eye_camera(CENTRE, rig, "right"))
    disparity = left[:, 0] - right[:, 0]
    expected = interaxial * CENTRE.fx * (1.0 / depths - 1.0 / convergence)
    assert np.abs(disparity[:20]).max() < 0.05  # on the screen plane
    assert np.abs(disparity - expected).max() < 0.05
    np.testing.assert_allclose(disparity, disparity_px(depths, CENTRE.fx, rig), atol=1e-6)
    assert np.abs(left[:, 1] - right[:, 1]).max() < 1e-6  # parallel rig: no vertical parallax
    np.testing.assert_allclose(left[:, 2], right[:, 2])  # the same depth in both eyes
    # sign: in front of the screen plane (nearer) is positive, behind is negative
    near, far = depths < convergence, depths > convergence
    assert (disparity[near] > 0).all() and (disparity[far] < 0).all()


def test_eyes_sit_on_the_cameras_own_x_axis_and_keep_everything_else():
    rig = StereoRig(0.08, 2.0)
    extra = {"focus_m": 2.5, "fstop": 4.0} if "fstop" in {f.name for f in dataclasses.fields(Camera)} else {}
    centre = dataclasses.replace(CENTRE, **extra)
    left, right = (eye_camera(centre, rig, eye) for eye in ("left", "right"))
    x_axis = centre.pose[:3, 0]
    np.testing.assert_allclose(right.pose[:3, 3] - left.pose[:3, 3], 0.08 * x_axis, atol=1e-12)
    np.testing.assert_allclose((left.pose[:3, 3] + right.pose[:3, 3]) / 2, centre.pose[:3, 3], atol=1e-12)
    np.testing.assert_array_equal(left.pose[:3, :3], centre.pose[:3, :3])  # no toe-in
    shift = centre.fx * 0.08 / (2 * 2.0)
    assert left.cx == pytest.approx(centre.cx - shift) and right.cx == pytest.approx(centre.cx + shift)
    for f in dataclasses.fields(Camera):
        if f.name not in ("pose", "cx"):
            assert getattr(left, f.name) == getattr(centre, f.name) == getattr(right, f.name), f.name
    assert centre.pose[0, 3] == 0.3  # the centre camera is not changed


def test_packed_sizes():
    assert packed_size(64, 36, "sbs") == (128, 36)
    assert packed_size(64, 36, "tb") == (64, 72)
    assert packed_size(64, 36, "separate") == packed_size(64, 36, None) == (64, 36)


def test_convergence_values():
    assert parse_convergence("subject") == "subject"
    assert parse_convergence(" 2.5 ") == 2.5
    assert parse_convergence("0.25,0.75") == (0.25, 0.75)


@pytest.mark.parametrize(
    "text, message",
    [
        ("far", "give metres"),
        ("0", r"\[0.01, 1e\+06\]"),
        ("-2", r"\[0.01, 1e\+06\]"),
        ("nan", r"\[0.01, 1e\+06\]"),
        ("inf", r"\[0.01, 1e\+06\]"),
        ("1.5,2", "fractions of the frame"),
        ("a,b", "expected X,Y"),
    ],
)
def test_convergence_nonsense_is_refused_in_one_line(text, message):
    with pytest.raises(InputError, match=message) as error:
        parse_convergence(text)
    assert "--convergence" in str(error.value) and "\n" not in str(error.value)


def test_a_rig_needs_positive_lengths():
    with pytest.raises(InputError, match="interaxial"):
        StereoRig(0.0, 2.0)
    with pytest.raises(InputError, match="convergence"):
        StereoRig(0.065, float("nan"))
