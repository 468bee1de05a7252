"""transforms.json against damaged and hostile input: only :class:`InputError`, on one line
naming the file and the field; each frame's matrix a rigid pose, every number finite and in
range; valid cameras round-trip exactly."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stillcam.camera import Camera
from stillcam.camera.camera import pose_from
from stillcam.camera.keyframes import rotation_from_angles
from stillcam.camera.path import CameraPath
from stillcam.camera.transforms import (
    MAX_TRANSFORMS_BYTES,
    looks_like_transforms,
    read_transforms,
    transforms_dict,
    transforms_from_dict,
    write_transforms,
)
from stillcam.errors import InputError
from structured_corpus import (
    as_json,
    assert_one_line,
    damaged_bytes,
    json_like,
    mutated,
    special_files,
    wrong_types,
)

EYE = np.eye(4).tolist()
VALID = {
    "camera_model": "OPENCV",
    "fl_x": 100.0,
    "fl_y": 100.0,
    "cx": 49.5,
    "cy": 39.5,
    "w": 100,
    "h": 80,
    "aabb_scale": 16,
    "frames": [
        {"file_path": "a.png", "transform_matrix": EYE},
        {"file_path": "b.png", "transform_matrix": EYE, "fl_x": 120.0, "fl_y": 121.0, "cx": 50, "cy": 40},
    ],
    "stillcam": {"fps": "24000/1001", "first_frame": 1001, "camera_axes": "..."},
}
KEYS = sorted(
    {"fl_x", "fl_y", "cx", "cy", "w", "h", "frames", "transform_matrix", "stillcam", "fps"} | {"first_frame"}
)


def _with(**changes) -> dict:
    data = json.loads(json.dumps(VALID))
    for key, value in changes.items():
        if key.startswith("frame_"):
            data["frames"][0][key.removeprefix("frame_")] = value
        elif key in ("fps", "first_frame"):
            data["stillcam"][key] = value
        else:
            data[key] = value
    return data


def _error(data, tmp_path) -> str:
    file = tmp_path / "cams.json"
    file.write_bytes(as_json(data))
    with pytest.raises(InputError) as caught:
        read_transforms(file)
    assert_one_line(caught.value, names=f"{file}: transforms.json ")
    return str(caught.value)


def _only_typed(data) -> None:
    try:
        path = transforms_from_dict(data)
    except InputError as exc:
        assert_one_line(exc)
        return
    assert len(path) >= 1 and path.fps > 0 and path.first_frame >= 0
    for camera in path.cameras:
        values = [camera.fx, camera.fy, camera.cx, camera.cy, *camera.pose.ravel()]
        assert np.isfinite(values).all() and camera.fx > 0 and camera.width >= 2


def test_the_valid_file_reads():
    path = transforms_from_dict(VALID)
    assert path.fps == Fraction(24000, 1001) and path.first_frame == 1001
    assert path.cameras[1].fx == 120.0 and path.cameras[1].cx == 50.0 and path.cameras[0].cx == 49.5


SINGULAR = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
SCALED = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]]
MIRROR = [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"fps": 0}, "stillcam.fps: fps 0 is out of range; use a value in (0, 1000]"),
        ({"fps": "fast"}, "stillcam.fps: fps 'fast' is not a number"),
        ({"fps": -24}, "stillcam.fps: fps -24 is out of range"),
        ({"fl_x": float("nan")}, "fl_x: must be a finite number (got nan)"),
        ({"frame_fl_x": float("inf")}, "frames.0.fl_x: must be a finite number"),
        ({"fl_x": -100}, "fl_x: must be > 0"),
        ({"frame_transform_matrix": SINGULAR}, "frames.0.transform_matrix: its 3x3 rotation is singular"),
        ({"frame_transform_matrix": SCALED}, "frames.0.transform_matrix: its 3x3 part is not a rotation"),
        ({"frame_transform_matrix": MIRROR}, "frames.0.transform_matrix: its 3x3 part is a reflection"),
        (
            {"frame_transform_matrix": [[0] * 4] * 4},
            "frames.0.transform_matrix: its last row must be 0, 0, 0, 1",
        ),
        (
            {"frame_transform_matrix": EYE[:3]},
            "frames.0.transform_matrix.3: is missing: the list is too short",
        ),
        ({"frame_transform_matrix": [[1, 0, 0, 1e300], *EYE[1:]]}, "its position is more than 1e+06 m away"),
        (
            {"frame_transform_matrix": [[1, 0, 0, float("nan")], *EYE[1:]]},
            "frames.0.transform_matrix.0.3: must be",
        ),
        ({"frames": [1, 2, 3]}, "frames.0: must be an object"),
        ({"frames": []}, "frames: must not be empty"),
        ({"frames": {"a": 1}}, "frames: must be a list"),
        ({"frames": None}, "frames: must be a list"),
        ({"cx": 1e300}, "cx: must be <= 10000000 (got 1e+300)"),
        (
            {"cx": 5000},
            "cx: 5000 is far outside the 100-pixel frame; the principal point lies within -100..200",
        ),
        ({"frame_cy": -900}, "frames.0.cy: -900 is far outside the 80-pixel frame"),
        ({"first_frame": -5}, "stillcam.first_frame: must be >= 0 (got -5)"),
        ({"first_frame": 10**12}, "stillcam.first_frame: must be <= 10000000"),
        ({"w": 0}, "w: must be >= 2"),
        ({"w": 10**9}, "w: must be <= 32768"),
        ({"w": "wide"}, "w: must be an integer"),
        (
            {"frame_w": 200},
            "frames.1: 100x80 pixels, the first frame 200x80; every frame of a shot has one size",
        ),
        ({"stillcam": [1]}, "stillcam: must be an object"),
    ],
)
def test_the_issues_cases_fail_on_one_line_naming_the_field(tmp_path, changes, words):
    message = _error(_with(**changes), tmp_path)
    assert words in message, message


def test_intrinsics_must_come_from_the_frame_or_the_top_level(tmp_path):
    data = _with()
    del data["cx"]
    assert "frames.0.cx: is required, in the frame or at the top level" in _error(data, tmp_path)
    data = _with()
    del data["fl_y"]
    assert transforms_from_dict(data).cameras[0].fy == 100.0  # fl_y defaults to fl_x


def test_frames_are_bounded_by_count_and_by_an_hour(tmp_path):
    frame = {"transform_matrix": EYE}
    at_one_fps = {**_with(), "frames": [frame] * 3601, "stillcam": {"fps": 1}}
    assert "3601 frames at 1 fps last more than 3600 s" in _error(at_one_fps, tmp_path)
    many = {**_with(), "frames": [frame] * 100_001}
    with pytest.raises(InputError, match="frames: must have at most 100000 items"):
        transforms_from_dict(many)


def test_a_file_too_deep_to_parse_fails_at_once(tmp_path):
    file = tmp_path / "deep.json"
    file.write_text('{"frames": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match="nested more than 64 levels deep; not a camera file") as caught:
        read_transforms(file)
    assert_one_line(caught.value)


def test_damaged_files_raise_only_typed_one_line_errors(tmp_path):
    source = json.dumps(VALID, indent=1).encode()
    for k, (name, content) in enumerate(damaged_bytes(source, seed=3)):
        file = tmp_path / f"{k}-{name}.json"
        file.write_bytes(content)
        try:
            read_transforms(file)
        except InputError as exc:
            assert_one_line(exc, names=str(file))
    for name, path in special_files(tmp_path / "special", larger_than=MAX_TRANSFORMS_BYTES):
        with pytest.raises(InputError) as caught:
            read_transforms(path)
        assert_one_line(caught.value, names=str(path))
        if name == "dev-zero":
            assert "is a character device, not a regular file; give a camera file" in str(caught.value)


def test_telling_a_transforms_json_from_a_shot_file_never_raises(tmp_path):
    valid = tmp_path / "cams.json"
    valid.write_bytes(as_json(VALID))
    assert looks_like_transforms(valid) and not looks_like_transforms(tmp_path / "cams.yaml")
    for name, content in (("deep", b"[" * 100_000 + b"]" * 100_000), ("list", b'["frames"]'), ("bad", b"{")):
        (tmp_path / f"{name}.json").write_bytes(content)
        assert not looks_like_transforms(tmp_path / f"{name}.json")
    for _name, path in special_files(tmp_path / "special", larger_than=MAX_TRANSFORMS_BYTES):
        assert not looks_like_transforms(path)


def test_wrong_types_at_every_field_are_located():
    for _name, data in wrong_types(VALID):
        _only_typed(data)


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like(KEYS))
def test_arbitrary_data_gives_cameras_or_an_input_error(data):
    _only_typed(data)
    _only_typed({"frames": data})
    _only_typed({**VALID, "frames": [data]})


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(VALID, KEYS))
def test_damaged_valid_files_give_cameras_or_an_input_error(data):
    _only_typed(data)


@st.composite
def camera_paths(draw) -> CameraPath:
    width, height = draw(st.integers(2, 4000)), draw(st.integers(2, 4000))
    cameras = []
    for _ in range(draw(st.integers(1, 4))):
        angles = draw(st.tuples(*[st.floats(-180, 180)] * 3))
        position = np.array(draw(st.tuples(*[st.floats(-100, 100)] * 3)))
        focal = draw(st.floats(1, 1e5))
        cx, cy = draw(st.floats(0, width - 1)), draw(st.floats(0, height - 1))
        pose = pose_from(rotation_from_angles(*angles), position)
        cameras.append(Camera(width, height, focal, focal * draw(st.floats(0.5, 2)), cx, cy, pose))
    fps = draw(st.sampled_from([Fraction(24), Fraction(24000, 1001), Fraction(60), Fraction(1, 2)]))
    return CameraPath(tuple(cameras), fps, draw(st.integers(0, 10**6)))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(camera_paths())
def test_valid_cameras_round_trip_exactly(tmp_path_factory, path):
    file = tmp_path_factory.mktemp("rt") / "transforms.json"
    write_transforms(path, file)
    back = read_transforms(file)
    assert (back.fps, back.first_frame, len(back)) == (path.fps, path.first_frame, len(path))
    for a, b in zip(path.cameras, back.cameras, strict=True):
        assert np.array_equal(a.pose, b.pose)
        assert (a.width, a.height, a.fx, a.fy, a.cx, a.cy) == (b.width, b.height, b.fx, b.fy, b.cx, b.cy)
    assert transforms_from_dict(transforms_dict(path)).fps == path.fps
