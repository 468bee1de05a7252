"""Per-frame cameras as a nerfstudio-style ``transforms.json`` (read and write, exact).

Axis convention of the file (as nerfstudio and instant-ngp expect): ``transform_matrix`` is the
camera-to-world matrix with the camera looking down its -z axis, +y up, +x right (OpenGL /
Blender camera axes). stillcam's internal cameras use OpenCV axes (x right, y down, z
forward), so ``transform_matrix = pose @ diag(1, -1, -1, 1)`` (``conventions.OPENCV_TO_OPENGL``).
The world frame is stillcam's: the photo's camera at the origin, world y pointing down
(docs/conventions.md). Intrinsics are written per frame (``fl_x``, ``fl_y``, ``cx``, ``cy``,
``w``, ``h``, pixels, OpenCV pixel centres), because zooms change them; the top level carries
the first frame's. The frame rate and first frame number go in a ``stillcam`` block.
Floats are written with Python's shortest round-tripping repr, so write -> read is exact.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..conventions import FIRST_FRAME, OPENCV_TO_OPENGL
from ..errors import InputError
from ..io.files import write_text_atomic
from .camera import Camera
from .path import CameraPath


def _intrinsics(camera: Camera) -> dict[str, Any]:
    return {
        "fl_x": camera.fx,
        "fl_y": camera.fy,
        "cx": camera.cx,
        "cy": camera.cy,
        "w": camera.width,
        "h": camera.height,
    }


def transforms_dict(camera_path: CameraPath, *, file_pattern: str = "frame.{number}.png") -> dict[str, Any]:
    """The ``transforms.json`` content of ``camera_path`` (see the module docstring)."""
    frames = []
    for number, camera in zip(camera_path.frame_numbers, camera_path.cameras, strict=True):
        matrix = camera.pose @ OPENCV_TO_OPENGL
        frames.append(
            {
                "file_path": file_pattern.format(number=number),
                "transform_matrix": matrix.tolist(),
                **_intrinsics(camera),
            }
        )
    return {
        "camera_model": "OPENCV",
        **_intrinsics(camera_path.cameras[0]),
        "frames": frames,
        "stillcam": {
            "fps": f"{camera_path.fps.numerator}/{camera_path.fps.denominator}",
            "first_frame": camera_path.first_frame,
            "camera_axes": "transform_matrix: camera-to-world, OpenGL camera axes",
        },
    }


def write_transforms(
    camera_path: CameraPath, file: str | Path, *, file_pattern: str = "frame.{number}.png"
) -> None:
    """Write ``camera_path`` as ``transforms.json`` to ``file`` (temporary file, then rename)."""
    text = json.dumps(transforms_dict(camera_path, file_pattern=file_pattern), indent=1) + "\n"
    write_text_atomic(Path(file), text, "cameras")


def read_transforms(
    file: str | Path, *, fps: Fraction = Fraction(24), first_frame: int = FIRST_FRAME
) -> CameraPath:
    """Read a ``transforms.json`` (ours or nerfstudio's) into a :class:`CameraPath`.

    Frames without their own intrinsics take the top level's; without a ``stillcam`` block the
    frame rate is ``fps`` and numbering starts at ``first_frame``.

    Raises:
        InputError: unreadable file or missing fields.
    """
    file = Path(file)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        block = data.get("stillcam", {})
        fps = Fraction(block.get("fps", fps))
        cameras = []
        for frame in data["frames"]:
            value = {key: frame.get(key, data.get(key)) for key in ("fl_x", "fl_y", "cx", "cy", "w", "h")}
            pose = np.asarray(frame["transform_matrix"], dtype=np.float64) @ OPENCV_TO_OPENGL
            cameras.append(
                Camera(
                    int(value["w"]),
                    int(value["h"]),
                    float(value["fl_x"]),
                    float(value.get("fl_y") or value["fl_x"]),
                    float(value["cx"]),
                    float(value["cy"]),
                    pose,
                )
            )
    except FileNotFoundError:
        raise InputError(f"{file}: no such camera file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{file}: not a readable transforms.json ({exc!r})") from None
    if not cameras:
        raise InputError(f"{file}: transforms.json has no frames")
    return CameraPath(tuple(cameras), fps, int(block.get("first_frame", first_frame)))
