"""Keyframed camera paths: positions on a Catmull-Rom spline, rotations by slerp.

Pure functions on arrays; :mod:`stillcam.camera.shot` turns a shot file's keyframes into the
arrays these take. Interpolation is done by SciPy (``CubicHermiteSpline`` with Catmull-Rom
tangents, ``Slerp``), not by hand.
"""

from __future__ import annotations

import numpy as np

from .camera import rotation_x, rotation_y, rotation_z
from .path import ease


def rotation_from_angles(pan: float, tilt: float, roll: float) -> np.ndarray:
    """(3, 3) camera-to-world rotation from degrees, in the moves' sign conventions
    (docs/moves.md): ``Ry(pan) @ Rx(tilt) @ Rz(roll)`` - pan + looks right, tilt + looks up,
    roll + turns the camera clockwise."""
    return rotation_y(pan) @ rotation_x(tilt) @ rotation_z(roll)


def rotation_from_quaternion(wxyz: tuple[float, float, float, float]) -> np.ndarray:
    """(3, 3) rotation from a unit quaternion (w, x, y, z) in OpenCV axes (normalised here)."""
    w, x, y, z = wxyz
    from scipy.spatial.transform import Rotation  # scipy imports in ~0.5 s: only when used

    return Rotation.from_quat([x, y, z, w]).as_matrix()


def quaternion_of(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """(w, x, y, z) unit quaternion of a (3, 3) rotation, with w >= 0."""
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(rotation).as_quat()
    sign = -1.0 if w < 0 else 1.0
    return float(sign * w), float(sign * x), float(sign * y), float(sign * z)


def catmull_rom_tangents(times: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Tangents of a non-uniform Catmull-Rom spline through ``points`` at ``times``.

    Args:
        times: (K,) strictly increasing seconds.
        points: (K, D) values (positions in metres).

    Returns:
        (K, D) derivatives: ``(p[i+1] - p[i-1]) / (t[i+1] - t[i-1])`` inside, one-sided
        differences at both ends (so two keys give a straight line at constant speed).
    """
    tangents = np.zeros_like(points, dtype=np.float64)
    if len(times) < 2:
        return tangents
    tangents[1:-1] = (points[2:] - points[:-2]) / (times[2:] - times[:-2])[:, None]
    tangents[0] = (points[1] - points[0]) / (times[1] - times[0])
    tangents[-1] = (points[-1] - points[-2]) / (times[-1] - times[-2])
    return tangents


def interpolate_keys(
    times: np.ndarray,
    positions: np.ndarray,
    rotations: np.ndarray,
    focals: np.ndarray,
    at: np.ndarray,
    *,
    spline: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample keyframes at the times ``at``.

    Args:
        times: (K,) strictly increasing key times in seconds.
        positions: (K, 3) key positions in metres (world, OpenCV axes).
        rotations: (K, 3, 3) key camera-to-world rotations.
        focals: (K,) key focal lengths in pixels (interpolated linearly).
        at: (N,) sample times in seconds; clamped to the keys' range (the ends are held).
        spline: Catmull-Rom positions when True, straight lines when False.

    Returns:
        positions (N, 3), rotations (N, 3, 3), focals (N,), all float64.
    """
    from scipy.interpolate import CubicHermiteSpline
    from scipy.spatial.transform import Rotation, Slerp

    at = np.clip(np.asarray(at, dtype=np.float64), times[0], times[-1])
    if len(times) == 1:
        n = len(at)
        return np.repeat(positions[:1], n, 0), np.repeat(rotations[:1], n, 0), np.repeat(focals[:1], n)
    if spline:
        sampled = CubicHermiteSpline(times, positions, catmull_rom_tangents(times, positions))(at)
    else:
        sampled = np.stack([np.interp(at, times, positions[:, k]) for k in range(3)], axis=1)
    turned = Slerp(times, Rotation.from_matrix(rotations))(at).as_matrix()
    return sampled, turned, np.interp(at, times, focals)


def eased_times(times: np.ndarray, easings: list[str], at: np.ndarray) -> np.ndarray:
    """Remap sample times so that each key interval plays through its own easing curve.

    Args:
        times: (K,) strictly increasing key times in seconds.
        easings: K - 1 easing names (:func:`~stillcam.camera.path.ease`), one per interval.
        at: (N,) sample times in seconds; clamped to the keys' range.

    Returns:
        (N,) float64 times, each inside its own interval, moved along by that interval's easing.
    """
    at = np.clip(np.asarray(at, dtype=np.float64), times[0], times[-1])
    result = at.copy()
    index = np.clip(np.searchsorted(times, at, side="right") - 1, 0, max(len(times) - 2, 0))
    for i, easing in enumerate(easings):
        inside = index == i
        span = times[i + 1] - times[i]
        result[inside] = times[i] + ease((at[inside] - times[i]) / span, easing) * span
    return result
