"""Stereo rigs (``--stereo``): the left and right eye cameras of a centre :class:`Camera`.

A **parallel rig** with **horizontal image translation** (HIT): the eyes are the centre camera
moved by ∓b/2 along its own x axis (b the interaxial in metres; left = −x, i.e. the viewer's
left), with the same rotation and focal length, and their principal points shifted by
∓f·b/(2·z_conv) pixels (left −, right +) so that a point at camera depth ``z_conv`` (the
convergence distance, metres) lands on the same pixel in both eyes. No toe-in, hence no
keystone: rows stay aligned (zero vertical parallax everywhere).

Disparity (pixels, f = fx of the frame): a point at camera depth z is seen at

    d = x_left − x_right = f · b · (1/z − 1/z_conv)

**positive = in front of the screen plane** (nearer than ``z_conv``), 0 on it, negative
behind it (at most −f·b/z_conv, at infinity). This is the negative of the "screen parallax"
``x_right − x_left`` that some stereo tools quote (positive = behind the screen).

Pure functions; the renderer packs the eyes (:mod:`stillcam.render.stereo`), exports name
them (:mod:`stillcam.export`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np

from ..errors import InputError
from .camera import Camera
from .focus import parse_where

Eye = Literal["left", "right"]
EYES: tuple[Eye, ...] = get_args(Eye)
#: ``--stereo`` layouts: side by side (left eye on the left), top/bottom (left eye on top),
#: or one output per eye.
StereoLayout = Literal["sbs", "tb", "separate"]
STEREO_LAYOUTS: tuple[str, ...] = get_args(StereoLayout)
#: ``--interaxial`` bounds, millimetres (exclusive low end): up to 10 m for hyperstereo.
MAX_INTERAXIAL_MM = 10_000.0
#: ``--convergence`` in metres: the same bounds as a focus distance.
MIN_CONVERGENCE_M = 0.01
MAX_CONVERGENCE_M = 1e6

#: ``--convergence``: metres, ``"subject"`` or a pixel (x, y) as fractions of the frame.
Convergence = float | str | tuple[float, float]


@dataclass(frozen=True)
class StereoRig:
    """A parallel stereo rig with horizontal image translation (module docstring).

    Attributes:
        interaxial_m: distance between the eyes' centres, metres (> 0).
        convergence_m: camera depth of the zero-parallax (screen) plane, metres (> 0).
    """

    interaxial_m: float
    convergence_m: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interaxial_m) and self.interaxial_m > 0):
            raise InputError(f"stereo rig: interaxial {self.interaxial_m!r} m must be above 0")
        if not (math.isfinite(self.convergence_m) and self.convergence_m > 0):
            raise InputError(f"stereo rig: convergence {self.convergence_m!r} m must be above 0")


def eye_sign(eye: Eye) -> float:
    """−1 for the left eye, +1 for the right (its offset along the camera's x axis)."""
    if eye not in EYES:
        raise ValueError(f"eye must be left or right, got {eye!r}")
    return -1.0 if eye == "left" else 1.0


def eye_camera(camera: Camera, rig: StereoRig, eye: Eye) -> Camera:
    """One eye of ``camera`` (the rig's centre): moved by ``±interaxial/2`` metres along the
    camera's own x axis, principal point ``cx ± fx·b/(2·z_conv)``; every other field (size,
    rotation, focal, per-frame lens values) is ``camera``'s.

    >>> centre = Camera(64, 36, 50.0, 50.0, 31.5, 17.5)
    >>> left = eye_camera(centre, StereoRig(0.1, 2.0), "left")
    >>> left.pose[:3, 3].tolist(), left.cx
    ([-0.05, 0.0, 0.0], 30.25)
    """
    sign = eye_sign(eye)
    pose = np.array(camera.pose, dtype=np.float64, copy=True)
    pose[:3, 3] += pose[:3, 0] * (sign * rig.interaxial_m / 2.0)
    shift = camera.fx * rig.interaxial_m / (2.0 * rig.convergence_m)
    return replace(camera, pose=pose, cx=camera.cx + sign * shift)


def eye_cameras(cameras: tuple[Camera, ...] | list[Camera], rig: StereoRig, eye: Eye) -> tuple[Camera, ...]:
    """:func:`eye_camera` of each of ``cameras`` (a shot's frames or a frame's sub-frames)."""
    return tuple(eye_camera(camera, rig, eye) for camera in cameras)


def disparity_px(z: np.ndarray | float, fx: float, rig: StereoRig) -> np.ndarray:
    """Disparity ``x_left − x_right`` in pixels of points at camera depth ``z`` (metres) in
    the rig's eyes: ``fx · b · (1/z − 1/z_conv)``; positive in front of the screen plane.

    Args:
        z: any shape, float, metres (> 0; +inf gives the far limit).
        fx: the frame's horizontal focal length in pixels.

    >>> float(disparity_px(1.0, 100.0, StereoRig(0.1, 2.0)))
    5.0
    """
    return fx * rig.interaxial_m * (1.0 / np.asarray(z, dtype=np.float64) - 1.0 / rig.convergence_m)


def packed_size(width: int, height: int, layout: StereoLayout | None) -> tuple[int, int]:
    """The output frame of one ``width`` x ``height`` eye: twice as wide side by side
    (``sbs``), twice as tall top/bottom (``tb``), the eye's size otherwise.

    >>> packed_size(64, 36, "sbs"), packed_size(64, 36, "tb"), packed_size(64, 36, "separate")
    ((128, 36), (64, 72), (64, 36))
    """
    if layout == "sbs":
        return 2 * width, height
    if layout == "tb":
        return width, 2 * height
    return width, height


def parse_convergence(text: str) -> Convergence:
    """``--convergence`` text -> metres (float), ``"subject"`` (the moves' subject distance,
    as ``--focus subject``) or a pixel ``(x, y)`` of the first frame as fractions in [0, 1]
    (the photo's depth there).

    >>> parse_convergence("subject"), parse_convergence("3.5"), parse_convergence("0.5,0.4")
    ('subject', 3.5, (0.5, 0.4))
    """
    return parse_where(text, "--convergence", low=MIN_CONVERGENCE_M, high=MAX_CONVERGENCE_M, example="3.5")
