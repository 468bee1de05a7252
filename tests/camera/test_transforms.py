import json
from fractions import Fraction

import numpy as np
import pytest

from stillcam.camera import Camera, MoveContext, build_path
from stillcam.camera.transforms import read_transforms, transforms_dict, write_transforms
from stillcam.errors import InputError


def _path():
    context = MoveContext(Camera.from_focal_mm(320, 180, 35.0), 4.2)
    orbit = build_path("orbit", {"degrees": 17.3}, context, duration_s=1.0, fps=Fraction(24000, 1001))
    zoom = build_path("zoom-in", {"factor": 1.7}, context, duration_s=0.5, fps=Fraction(24000, 1001))
    return type(orbit)(orbit.cameras + zoom.cameras, orbit.fps, 1001)


def test_round_trip_is_exact(tmp_path):
    path = _path()
    write_transforms(path, tmp_path / "transforms.json")
    back = read_transforms(tmp_path / "transforms.json")
    assert back.fps == path.fps and back.first_frame == path.first_frame and len(back) == len(path)
    for a, b in zip(path.cameras, back.cameras, strict=True):
        assert np.array_equal(a.pose, b.pose)
        assert (a.width, a.height, a.fx, a.fy, a.cx, a.cy) == (b.width, b.height, b.fx, b.fy, b.cx, b.cy)


def test_file_uses_opengl_camera_axes():
    data = transforms_dict(_path())
    start = np.array(data["frames"][0]["transform_matrix"])
    # The photo's camera looks down world +z (OpenCV); in the file the camera's -z does.
    np.testing.assert_allclose(start[:3, 2], [0.0, 0.0, -1.0])
    np.testing.assert_allclose(start[:3, 1], [0.0, -1.0, 0.0])  # camera up = world -y
    assert data["frames"][-1]["fl_x"] > data["frames"][0]["fl_x"]  # per-frame zoom kept


def test_reads_plain_nerfstudio_files_and_rejects_bad_ones(tmp_path):
    file = tmp_path / "ns.json"
    file.write_text(
        json.dumps(
            {
                "fl_x": 100,
                "fl_y": 100,
                "cx": 50,
                "cy": 40,
                "w": 100,
                "h": 80,
                "frames": [{"file_path": "a.png", "transform_matrix": np.eye(4).tolist()}],
            }
        )
    )
    path = read_transforms(file)
    assert path.fps == 24 and path.cameras[0].fx == 100.0
    np.testing.assert_array_equal(path.cameras[0].pose, np.diag([1.0, -1.0, -1.0, 1.0]))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError, match=r"transforms\.json"):
        read_transforms(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no such"):
        read_transforms(tmp_path / "missing.json")
