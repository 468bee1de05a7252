"""The open shutter: the sub-frame cameras a motion-blurred frame averages.

Times are in frames. Frame ``i`` of a shot (0-based, ``path.cameras[i]``) is exposed at
time ``i``; a shutter of ``angle`` degrees is open for ``angle / 360`` of a frame, centred on
that time (180 degrees: from ``i - 0.25`` to ``i + 0.25``). The open interval is cut into
``samples`` equal slices and a sub-frame camera is taken at the centre of each, so the
sub-frame times of frame ``i`` are ``i + (k + 0.5) / samples * angle / 360 - angle / 720`` for
``k = 0 .. samples - 1`` (:func:`shutter_offsets`).

The shot's cameras exist only at whole frames (the move functions and keyframes are sampled
once per frame by :func:`~stillcam.camera.shot.build_shot_path`, and a transforms.json has
nothing in between), so a camera at a fractional time is interpolated between the two
neighbouring frame cameras (:func:`camera_at`): position and intrinsics (fx, fy, cx, cy)
linearly, rotation by slerp (constant angular speed about one axis). Before the first frame
and after the last, the first or last pair of frames is extended (the same speed), so the end
frames are blurred like the others. All of it is numpy in float64 on the camera stage, before
any renderer is asked: every backend gets the same sub-frame cameras.

>>> shutter_offsets(180.0, 4).tolist()
[-0.1875, -0.0625, 0.0625, 0.1875]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..errors import InputError
from .camera import Camera, pose_from
from .focus import lerp_focus, lerp_fstop
from .path import CameraPath

#: The shutter angle ``--shutter`` gives without a value, in degrees (half a frame open).
DEFAULT_SHUTTER_DEG = 180.0
#: The widest shutter, in degrees: open for the whole frame.
MAX_SHUTTER_DEG = 360.0


def shutter_offsets(shutter_deg: float, samples: int) -> np.ndarray:
    """(samples,) float64 sub-frame times in frames, relative to the frame's own time: the
    centres of ``samples`` equal slices of the open interval ``[-s/2, s/2]``, ``s =
    shutter_deg / 360``.

    Raises:
        InputError: an angle outside [0, 360] or fewer than one sample.
    """
    if not 0.0 <= shutter_deg <= MAX_SHUTTER_DEG:  # also refuses NaN
        raise InputError(f"shutter {shutter_deg}: give degrees in [0, {MAX_SHUTTER_DEG:g}]")
    if samples < 1:
        raise InputError(f"shutter samples {samples}: give at least 1")
    open_frames = shutter_deg / 360.0
    return ((np.arange(samples) + 0.5) / samples - 0.5) * open_frames


def _log_rotation(rotation: np.ndarray) -> np.ndarray:
    """(3,) rotation vector (axis times angle in radians) of a (3, 3) rotation."""
    from scipy.spatial.transform import Rotation  # scipy imports in ~0.5 s: only when used

    return Rotation.from_matrix(rotation).as_rotvec()


def _exp_rotation(vector: np.ndarray) -> np.ndarray:
    """(3, 3) rotation of a (3,) rotation vector."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(vector).as_matrix()


def interpolate_cameras(a: Camera, b: Camera, u: float) -> Camera:
    """The camera ``u`` of the way from ``a`` to ``b`` (``u`` may lie outside [0, 1]: the same
    motion extended). Position, fx, fy, cx, cy linear; a focus pull's distance linear in
    dioptres and its f-stop in stops (:func:`lerp_focus`, :func:`lerp_fstop`); rotation by
    slerp, ``R_a @ exp(u * log(R_a^T R_b))``; the frame size is ``a``'s. ``u == 0`` gives ``a`` itself.

    >>> from stillcam.camera.camera import rotation_y
    >>> a = Camera(64, 48, 50.0, 50.0, 31.5, 23.5)
    >>> b = replace(a, fx=60.0, fy=60.0, pose=pose_from(rotation_y(10.0), np.array([1.0, 0, 0])))
    >>> c = interpolate_cameras(a, b, 0.5)
    >>> round(c.fx, 6), c.pose[:3, 3].tolist(), round(math.degrees(math.atan2(c.pose[0, 2], c.pose[2, 2])), 6)
    (55.0, [0.5, 0.0, 0.0], 5.0)
    """
    if u == 0.0:
        return a
    ra, rb = a.pose[:3, :3], b.pose[:3, :3]
    rotation = ra @ _exp_rotation(u * _log_rotation(ra.T @ rb))
    position = (1.0 - u) * a.pose[:3, 3] + u * b.pose[:3, 3]

    def lerp(x: float, y: float) -> float:
        return float((1.0 - u) * x + u * y)

    return replace(
        a,
        fx=lerp(a.fx, b.fx),
        fy=lerp(a.fy, b.fy),
        cx=lerp(a.cx, b.cx),
        cy=lerp(a.cy, b.cy),
        pose=pose_from(rotation, position),
        focus_m=_lens_lerp(a.focus_m, b.focus_m, u, lerp_focus),
        fstop=_lens_lerp(a.fstop, b.fstop, u, lerp_fstop),
    )


def _lens_lerp(
    x: float | None, y: float | None, u: float, lerp: Callable[[float, float, float], float]
) -> float | None:
    """A lens value ``u`` of the way from ``x`` to ``y`` (``x`` itself when either is None)."""
    return x if x is None or y is None or x == y else lerp(x, y, u)


def camera_at(path: CameraPath, time: float) -> Camera:
    """The camera at ``time`` frames after the path's first frame (0 = ``path.cameras[0]``),
    interpolated between the neighbouring frames (:func:`interpolate_cameras`); a whole
    ``time`` inside the path gives that frame's camera itself. Outside the path the first or
    last pair of frames is extended; a one-frame path gives its camera at any time.

    >>> a = Camera(64, 48, 50.0, 50.0, 31.5, 23.5)
    >>> b = a.with_pose(pose_from(np.eye(3), np.array([0.0, 0.0, 1.0])))
    >>> path = CameraPath((a, b), fps=24)
    >>> [float(camera_at(path, t).pose[2, 3]) for t in (-0.25, 0.0, 0.5, 1.25)]
    [-0.25, 0.0, 0.5, 1.25]
    """
    if not math.isfinite(time):
        raise ValueError(f"camera_at: time {time} is not finite")
    cameras = path.cameras
    if len(cameras) == 1:
        return cameras[0]
    index = min(max(math.floor(time), 0), len(cameras) - 2)
    u = time - index
    if u == 1.0:
        return cameras[index + 1]
    return interpolate_cameras(cameras[index], cameras[index + 1], u)


def subframe_cameras(path: CameraPath, frame: int, shutter_deg: float, samples: int) -> tuple[Camera, ...]:
    """Frame number ``frame``'s ``samples`` sub-frame cameras, in time order, spread over a
    ``shutter_deg`` open shutter centred on the frame (times: :func:`shutter_offsets`).

    ``path`` should be the whole shot (not only ``--frames``), so that a frame's sub-frames
    are the same whichever frames are rendered.

    Raises:
        InputError: the shutter or samples out of range (:func:`shutter_offsets`).
        ValueError: ``frame`` is not one of the path's frame numbers.
    """
    if frame not in path.frame_numbers:
        raise ValueError(f"frame {frame} is not in the path's frames {path.frame_numbers}")
    index = frame - path.first_frame
    return tuple(camera_at(path, index + float(dt)) for dt in shutter_offsets(shutter_deg, samples))
