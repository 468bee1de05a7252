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
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..conventions import FIRST_FRAME, OPENCV_TO_OPENGL, parse_fps
from ..errors import InputError
from ..io.files import write_text_atomic
from ..io.structured import MiB, read_structured, schema_message
from .camera import Camera
from .path import CameraPath
from .shot import MAX_FIRST_FRAME, MAX_FRAMES, MAX_SECONDS

#: The largest transforms.json read: what stillcam writes for a shot of ``MAX_FRAMES``
#: frames (about 520 bytes a frame) fits.
MAX_TRANSFORMS_BYTES = 64 * MiB
#: Frame sides in pixels, as for ``--size``.
MAX_SIDE = 32768
#: How far a rotation may be from orthonormal (rounding in other tools' files).
ROTATION_TOLERANCE = 1e-3
#: Camera positions: metres from the world origin.
MAX_METRES = 1e6
_INTRINSICS = ("fl_x", "fl_y", "cx", "cy", "w", "h")


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


_SCHEMA = ConfigDict(extra="allow", allow_inf_nan=False)  # other tools' fields are kept out of the way
_Focal = Annotated[float, Field(gt=0.0, le=1e7)]
_Centre = Annotated[float, Field(ge=-1e7, le=1e7)]
_Side = Annotated[int, Field(ge=2, le=MAX_SIDE)]
_Row = tuple[float, float, float, float]


class _Intrinsics(BaseModel):
    """Pixel intrinsics, per frame or at the top level (OpenCV pixel centres)."""

    model_config = _SCHEMA
    fl_x: _Focal | None = None
    fl_y: _Focal | None = None
    cx: _Centre | None = None
    cy: _Centre | None = None
    w: _Side | None = None
    h: _Side | None = None


class _Frame(_Intrinsics):
    """One frame: its camera-to-world matrix (OpenGL camera axes) and optional intrinsics."""

    transform_matrix: tuple[_Row, _Row, _Row, _Row]


class _Block(BaseModel):
    """stillcam's own block: the frame rate and the first frame's number."""

    model_config = _SCHEMA
    fps: Annotated[str, Field(max_length=32)] | None = None
    first_frame: Annotated[int, Field(ge=0, le=MAX_FIRST_FRAME)] | None = None

    @field_validator("fps", mode="before")
    @classmethod
    def _fps(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            try:
                parse_fps(value)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return value


class TransformsFile(_Intrinsics):
    """The schema of a ``transforms.json`` (nerfstudio's, with stillcam's block)."""

    frames: Annotated[list[_Frame], Field(min_length=1, max_length=MAX_FRAMES)]
    stillcam: _Block | None = None


def _intrinsics_of(data: TransformsFile) -> np.ndarray:
    """(N, 6) fl_x, fl_y, cx, cy, w, h of every frame (its own, else the top level's; fl_y
    defaults to fl_x).

    Raises:
        InputError: a value that neither the frame nor the top level gives, or out of range.
    """
    values = np.empty((len(data.frames), len(_INTRINSICS)), dtype=np.float64)
    top = [getattr(data, key) for key in _INTRINSICS]
    for i, frame in enumerate(data.frames):
        own = [getattr(frame, key) for key in _INTRINSICS]
        row = [a if a is not None else b for a, b in zip(own, top, strict=True)]
        if row[1] is None:
            row[1] = row[0]
        for key, value in zip(_INTRINSICS, row, strict=True):
            if value is None:
                raise InputError(f"frames.{i}.{key}: is required, in the frame or at the top level")
        values[i] = row
        w, h, cx, cy = row[4], row[5], row[2], row[3]
        for key, centre, side in (("cx", cx, w), ("cy", cy, h)):
            if not -side <= centre <= 2 * side:
                where = f"frames.{i}.{key}" if getattr(frame, key) is not None else key
                raise InputError(
                    f"{where}: {centre:g} is far outside the {side:.0f}-pixel frame; the principal point "
                    f"lies within {-side:.0f}..{2 * side:.0f}"
                )
        if (w, h) != (values[0, 4], values[0, 5]):
            raise InputError(
                f"frames.{i}: {w:.0f}x{h:.0f} pixels, the first frame {values[0, 4]:.0f}x{values[0, 5]:.0f}; "
                "every frame of a shot has one size"
            )
    return values


def _check_matrices(matrices: np.ndarray) -> None:
    """Refuse matrices that are not camera-to-world poses: last row 0 0 0 1, a rotation
    (orthonormal, determinant +1, within :data:`ROTATION_TOLERANCE`), a bounded position.

    Raises:
        InputError: naming the first bad frame's ``transform_matrix``.
    """
    rotations = matrices[:, :3, :3]
    gram = np.einsum("nji,njk->nik", rotations, rotations) - np.eye(3)
    checks = (
        (np.abs(matrices[:, 3] - [0.0, 0.0, 0.0, 1.0]).max(axis=1) > 1e-6, "its last row must be 0, 0, 0, 1"),
        (np.abs(np.linalg.det(rotations)) < 1e-6, "its 3x3 rotation is singular (determinant 0)"),
        (
            np.abs(gram).max(axis=(1, 2)) > ROTATION_TOLERANCE,
            "its 3x3 part is not a rotation (scaled or sheared: columns must be orthonormal)",
        ),
        (np.linalg.det(rotations) < 0, "its 3x3 part is a reflection (determinant -1), not a rotation"),
        (
            np.abs(matrices[:, :3, 3]).max(axis=1) > MAX_METRES,
            f"its position is more than {MAX_METRES:g} m away",
        ),
    )
    for bad, problem in checks:
        if bad.any():
            raise InputError(f"frames.{int(np.argmax(bad))}.transform_matrix: {problem}")


def transforms_from_dict(
    data: Any, *, fps: Fraction = Fraction(24), first_frame: int = FIRST_FRAME
) -> CameraPath:
    """The :class:`CameraPath` of a parsed ``transforms.json`` (see :func:`read_transforms`).

    Raises:
        InputError: one line naming the field (``frames.3.transform_matrix: ...``).
    """
    try:
        parsed = TransformsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(schema_message(exc)) from None
    intrinsics = _intrinsics_of(parsed)
    matrices = np.array([frame.transform_matrix for frame in parsed.frames], dtype=np.float64)
    _check_matrices(matrices)
    block = parsed.stillcam or _Block()
    rate = parse_fps(block.fps) if block.fps is not None else fps
    first = block.first_frame if block.first_frame is not None else first_frame
    if len(matrices) > MAX_SECONDS * rate:
        raise InputError(
            f"frames: {len(matrices)} frames at {float(rate):g} fps last more than {MAX_SECONDS:g} s, "
            "the longest shot"
        )
    cameras = tuple(
        Camera(int(w), int(h), float(fx), float(fy), float(cx), float(cy), matrix @ OPENCV_TO_OPENGL)
        for (fx, fy, cx, cy, w, h), matrix in zip(intrinsics, matrices, strict=True)
    )
    return CameraPath(cameras, rate, first)


def looks_like_transforms(file: str | Path) -> bool:
    """Whether ``file`` is a ``.json`` whose top level is an object with ``frames`` (a shot
    file cannot have that key). Never raises: a file that cannot be read within the bounds
    (a FIFO, too large, nested too deep, not JSON) is not one, and reading it as a shot file
    says what is wrong."""
    file = Path(file)
    if file.suffix.lower() != ".json":
        return False
    try:
        data = read_structured(file, what="camera file", syntax="json", max_bytes=MAX_TRANSFORMS_BYTES)
    except InputError:
        return False
    return isinstance(data, dict) and "frames" in data


def read_transforms(
    file: str | Path, *, fps: Fraction = Fraction(24), first_frame: int = FIRST_FRAME
) -> CameraPath:
    """Read a ``transforms.json`` (ours or nerfstudio's) into a :class:`CameraPath`.

    Frames without their own intrinsics take the top level's; without a ``stillcam`` block the
    frame rate is ``fps`` and numbering starts at ``first_frame``. The file is read within the
    bounds of :func:`~stillcam.io.structured.read_structured` (a regular file of at most
    :data:`MAX_TRANSFORMS_BYTES`) and checked by :class:`TransformsFile`: every number
    finite and in range, each ``transform_matrix`` a rigid camera-to-world pose, one frame
    size, at most ``MAX_FRAMES`` frames.

    Raises:
        InputError: one line: unreadable file, not JSON, or the first bad field, located.
    """
    data = read_structured(file, what="camera file", syntax="json", max_bytes=MAX_TRANSFORMS_BYTES)
    try:
        return transforms_from_dict(data, fps=fps, first_frame=first_frame)
    except InputError as exc:
        raise InputError(f"{file}: transforms.json {exc}") from None
