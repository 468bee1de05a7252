"""Coordinate, unit and numbering conventions, implemented once (see docs/conventions.md).

- Internal camera axes are OpenCV's: x right, y down, z forward (right-handed).
  World = the source photo's camera frame: the photo's camera sits at the origin with
  identity rotation; world y therefore points DOWN, world "up" is -y.
- Poses are 4x4 float64 camera-to-world matrices.
- Pixel centres are at integer coordinates; pixel (0, 0) covers [-0.5, 0.5]^2.
- "depth" is metric z along the optical axis (metres), never the distance along the ray.
- Focal lengths are 35 mm-equivalent millimetres by the diagonal rule: a frame's filmback
  has the 35 mm still frame's diagonal (43.27 mm) and the frame's aspect ratio.
- Frames are numbered from 1001 by default; fps is an exact fraction (24000/1001).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .errors import InputError

#: Diagonal of the 36 x 24 mm still frame; 35 mm-equivalent focal lengths refer to it.
FILMBACK_DIAGONAL_MM: float = math.hypot(36.0, 24.0)
#: Focal length used when neither EXIF nor the user gives one (35 mm-equivalent mm).
DEFAULT_FOCAL_MM: float = 50.0
#: First frame number of image sequences.
FIRST_FRAME: int = 1001

#: OpenCV camera axes -> OpenGL/glTF/USD/Blender camera axes (x right, y up, z backward).
OPENCV_TO_OPENGL: np.ndarray = np.diag([1.0, -1.0, -1.0, 1.0])
#: stillcam world / OpenCV camera axes -> glTF world and camera axes (+Y up, cameras look down
#: -Z); the exports' world (glTF, USD, PLY, EXR headers). Self-inverse: p_gltf = G p.
GLTF_FROM_OPENCV: np.ndarray = np.diag([1.0, -1.0, -1.0])
#: :data:`GLTF_FROM_OPENCV` for homogeneous points (4x4).
GLTF_FROM_OPENCV_4: np.ndarray = np.diag([1.0, -1.0, -1.0, 1.0])
#: OpenCV camera axes -> OpenEXR camera axes (y up, z still forward: left-handed), 4x4.
EXR_FROM_OPENCV_CAMERA: np.ndarray = np.diag([1.0, -1.0, 1.0, 1.0])

_FPS_ALIASES = {
    "23.976": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.952": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
}


def parse_fps(value: str | float | Fraction) -> Fraction:
    """Parse a frame rate as an exact fraction: ``24``, ``"24000/1001"``, ``"23.976"``.

    >>> parse_fps("23.976")
    Fraction(24000, 1001)
    """
    text = str(value).strip()
    try:
        fps = _FPS_ALIASES.get(text) or Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"fps {text!r} is not a number; use e.g. 24, 25, 24000/1001") from None
    if fps <= 0 or fps > 1000:
        raise InputError(f"fps {text} is out of range; use a value in (0, 1000]")
    return fps


def focal_mm_to_px(focal_mm: float, width: int, height: int) -> float:
    """Focal length in pixels of a ``width`` x ``height`` frame for a 35 mm-equivalent focal.

    >>> round(focal_mm_to_px(36.0, 3000, 2000), 6)  # 36 mm on a 3:2 frame = 3000 px wide
    3000.0
    """
    return focal_mm * math.hypot(width, height) / FILMBACK_DIAGONAL_MM


def focal_px_to_mm(focal_px: float, width: int, height: int) -> float:
    """Inverse of :func:`focal_mm_to_px`."""
    return focal_px * FILMBACK_DIAGONAL_MM / math.hypot(width, height)


def mm_per_pixel(width: int, height: int) -> float:
    """Filmback millimetres per pixel of a ``width`` x ``height`` frame (the 35 mm diagonal
    rule): a focal length, aperture or offset in pixels times this is in mm.

    >>> round(mm_per_pixel(3000, 2000) * 3000, 6)  # a 3:2 frame is 36 mm wide
    36.0
    """
    return FILMBACK_DIAGONAL_MM / math.hypot(width, height)


def focal_px_from_fov(fov_degrees: float, width: int) -> float:
    """Focal length in pixels of a ``width``-pixel frame with a horizontal field of view.

    >>> round(focal_px_from_fov(90.0, 1000), 6)
    500.0
    """
    return width / 2.0 / math.tan(math.radians(fov_degrees) / 2.0)


def filmback_mm(width: int, height: int) -> tuple[float, float]:
    """Filmback (width, height) in mm of a frame: the 35 mm diagonal at the frame's aspect."""
    diag = math.hypot(width, height)
    return (FILMBACK_DIAGONAL_MM * width / diag, FILMBACK_DIAGONAL_MM * height / diag)
