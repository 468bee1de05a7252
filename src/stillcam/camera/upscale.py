"""The upscale factor of a shot: how many output pixels one photo pixel covers at the most
magnified point of the most magnified frame. Above 1.0 the photo is stretched (upresed):
softer than the photo, and refused by deliveries that forbid upscaling plates (Netflix's VFX
rules among them); ``stillcam render`` warns, ``stillcam qc`` fails the ``upscale`` check.

For a photo pixel at depth ``z_photo`` (metres, the photo's camera) that a frame's camera
sees at depth ``z_frame`` (metres, along that camera's optical axis), the local scale is::

    s = (fx_frame / fx_photo) * (z_photo / z_frame)          output px per photo px

(foreshortening and the angle off the optical axis ignored; square pixels, so fx only). A
frame's factor is the largest ``s`` over the photo pixels it sees: in front of its camera
(``z_frame`` > :data:`NEAR_M`) and projecting inside its frame. Occlusion is not tested: a
pixel hidden behind a nearer surface still counts, which can only add a point that is
farther from the camera, so less magnified in a dolly-in or zoom. The photo is sampled on a
grid of at most :data:`SAMPLE_WIDTH` pixels across (nearest pixels, no averaging), every
frame of the shot is measured.

What raises it: an output larger than the photo at the same framing (``fx_frame`` larger), a
zoom (``fx_frame`` grows), a dolly-in (``z_frame`` shrinks), nearer surfaces most.

:func:`upscale_factors` is the fast path (numpy, one frame at a time);
:func:`upscale_factors_reference` computes the same numbers one point at a time in plain
Python, and the tests compare them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .camera import Camera

#: The factor above which an output is upscaled (1 output pixel per photo pixel).
UPSCALE_LIMIT = 1.0
#: Relative slack for rounding when comparing with a limit (a 1:1 render is exactly 1.0).
UPSCALE_EPSILON = 1e-6
#: Photo pixels sampled across the width (the height in proportion); all of them when fewer.
SAMPLE_WIDTH = 160
#: Points nearer to a frame's camera than this (metres) are not seen (the renderers' rule).
NEAR_M = 1e-3


def sample_pixels(height: int, width: int, sample_width: int = SAMPLE_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """The photo pixels measured: a grid of at most ``sample_width`` columns, rows in proportion.

    Args:
        height, width: the photo's size in pixels.
        sample_width: most columns sampled (>= 2).

    Returns:
        (rows, cols): sorted unique int64 pixel indices, first and last pixel included.

    >>> rows, cols = sample_pixels(4, 6, sample_width=3)
    >>> rows.tolist(), cols.tolist()
    ([0, 3], [0, 2, 5])
    """
    if sample_width < 2:
        raise ValueError("sample_width must be at least 2")
    nx = min(width, sample_width)
    ny = min(height, max(2, round(nx * height / width)))
    cols = np.unique(np.rint(np.linspace(0, width - 1, nx)).astype(np.int64))
    rows = np.unique(np.rint(np.linspace(0, height - 1, ny)).astype(np.int64))
    return rows, cols


def _photo_pixels(
    source: Camera, z: np.ndarray, sample_width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols) of the depth pixels sampled, and the scale (sx, sy) from depth-map pixel
    edges to the photo's (1, 1 when the map is at the photo's size)."""
    if z.ndim != 2 or min(z.shape) < 1:
        raise ValueError(f"depth must be a (H, W) array, not of shape {z.shape}")
    rows, cols = sample_pixels(z.shape[0], z.shape[1], sample_width)
    return rows, cols, np.array([source.width / z.shape[1], source.height / z.shape[0]])


def upscale_factors(
    source: Camera, z: np.ndarray, cameras: Sequence[Camera], *, sample_width: int = SAMPLE_WIDTH
) -> np.ndarray:
    """Per frame, the most output pixels that one photo pixel covers (module docstring).

    Args:
        source: the photo's camera (its size is the photo's; the world origin for stillcam's
            shots, but any pose works).
        z: (H, W) float depth of the photo in metres, metric z along the photo camera's
            optical axis; finite and > 0. H x W is the photo's size, or another of the same
            aspect (its pixel centres are scaled onto the photo's: ``(i + 0.5) W_photo / W - 0.5``).
        cameras: F frames' cameras in the same world (metres), any sizes.
        sample_width: photo pixels sampled across (:func:`sample_pixels`).

    Returns:
        (F,) float64 output px per photo px; 0.0 for a frame that sees none of the photo.

    >>> photo = Camera.from_focal_mm(64, 36, 50.0)
    >>> z = np.full((36, 64), 2.0, np.float32)
    >>> upscale_factors(photo, z, [photo, photo.scaled(4)]).tolist()
    [1.0, 4.0]
    """
    rows, cols, scale = _photo_pixels(source, z, sample_width)
    v, u = (a.ravel().astype(np.float64) for a in np.meshgrid(rows, cols, indexing="ij"))
    u, v = (u + 0.5) * scale[0] - 0.5, (v + 0.5) * scale[1] - 0.5
    depth = z[rows[:, None], cols[None, :]].astype(np.float64).ravel()
    local = np.stack([(u - source.cx) / source.fx * depth, (v - source.cy) / source.fy * depth, depth], 1)
    world = local @ source.pose[:3, :3].T + source.pose[:3, 3]
    factors = np.zeros(len(cameras))
    for index, camera in enumerate(cameras):
        seen = (world - camera.pose[:3, 3]) @ camera.pose[:3, :3]  # (N, 3) in the frame's axes
        ahead = seen[:, 2] > NEAR_M
        zf = np.where(ahead, seen[:, 2], 1.0)
        x = camera.fx * seen[:, 0] / zf + camera.cx
        y = camera.fy * seen[:, 1] / zf + camera.cy
        inside = ahead & (x >= -0.5) & (x <= camera.width - 0.5) & (y >= -0.5) & (y <= camera.height - 0.5)
        if inside.any():
            ratio = (camera.fx / source.fx) * (depth[inside] / seen[inside, 2])
            factors[index] = float(ratio.max())
    return factors


def upscale_factors_reference(
    source: Camera, z: np.ndarray, cameras: Sequence[Camera], *, sample_width: int = SAMPLE_WIDTH
) -> list[float]:
    """:func:`upscale_factors`, one point at a time in plain Python (slow, obviously right):
    for each frame, for each sampled photo pixel, lift it to 3D, move it into the frame's
    camera, keep it if it lies in front and inside the frame, and take the largest scale."""
    rows, cols, scale = _photo_pixels(source, z, sample_width)
    sx, sy = float(scale[0]), float(scale[1])
    to_world = source.pose.tolist()  # camera-to-world, rows
    points = []
    for row in rows.tolist():
        for col in cols.tolist():
            d = float(z[row, col])
            u, v = (col + 0.5) * sx - 0.5, (row + 0.5) * sy - 0.5
            p = [(u - source.cx) / source.fx * d, (v - source.cy) / source.fy * d, d]
            world = [sum(to_world[i][k] * p[k] for k in range(3)) + to_world[i][3] for i in range(3)]
            points.append((world, d))
    factors = []
    for camera in cameras:
        pose, largest = camera.pose.tolist(), 0.0
        for world, d in points:
            offset = [world[i] - pose[i][3] for i in range(3)]
            # world -> camera: the rotation's transpose, R^T (p - t)
            x, y, zf = (sum(pose[k][j] * offset[k] for k in range(3)) for j in range(3))
            if zf <= NEAR_M:
                continue
            px, py = camera.fx * x / zf + camera.cx, camera.fy * y / zf + camera.cy
            if -0.5 <= px <= camera.width - 0.5 and -0.5 <= py <= camera.height - 0.5:
                largest = max(largest, camera.fx / source.fx * d / zf)
        factors.append(largest)
    return factors


@dataclass(frozen=True)
class Upscale:
    """A shot's upscale factor (stored in the recipe's ``safety``).

    Attributes:
        factor: output px per photo px at the most magnified frame (:func:`upscale_factors`).
        frame: that frame's number.
    """

    factor: float
    frame: int

    @property
    def upscaled(self) -> bool:
        """Whether the factor is above :data:`UPSCALE_LIMIT` (beyond rounding)."""
        return exceeds(self.factor, UPSCALE_LIMIT)

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line when the shot is upscaled, else none."""
        if not self.upscaled:
            return ()
        return (
            f"frame {self.frame} shows the photo at {self.factor:.2f} output pixels per photo pixel "
            "(upscaled: softer than the photo, and refused by deliveries that forbid upscaling); "
            "a smaller --size or less zoom or dolly-in keeps it at 1 or below",
        )


def exceeds(factor: float, limit: float) -> bool:
    """Whether ``factor`` is above ``limit`` by more than rounding (:data:`UPSCALE_EPSILON`)."""
    return factor > limit * (1.0 + UPSCALE_EPSILON)


def shot_upscale(
    source: Camera,
    z: np.ndarray,
    cameras: Sequence[Camera],
    first_frame: int,
    *,
    sample_width: int = SAMPLE_WIDTH,
) -> Upscale:
    """The largest of :func:`upscale_factors` over the shot, and the number of its frame
    (frames numbered from ``first_frame``; the first of equal ones)."""
    if not cameras:
        raise ValueError("a shot has at least one camera")
    factors = upscale_factors(source, z, cameras, sample_width=sample_width)
    worst = int(np.argmax(factors))
    factor = float(factors[worst])
    return Upscale(factor if math.isfinite(factor) else math.inf, first_frame + worst)
