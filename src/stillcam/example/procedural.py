"""A procedural textured scene with exact ground truth, ray-cast analytically.

World = the example photo's camera frame (OpenCV axes, metres, y down). The scene: a ground
plane 1.6 m below the camera, a back wall 14 m away, two spheres and two boxes at several
depths. Colours are smooth functions of the 3D surface point (band-limited patterns, Lambert
shading with a fixed light), so the same point has the same colour from every viewpoint:
rendering any camera gives exact ground truth for a moved view. It is the demo's input and
the tests' fixture generator.
"""

from __future__ import annotations

import numpy as np

from ..camera.camera import Camera
from ..depth.convert import DepthMap
from ..io.hashing import sha256_array
from ..io.image import Picture

GROUND_Y = 1.6
WALL_Z = 14.0
SKY = np.array([0.55, 0.7, 0.9])
_LIGHT = np.array([-0.4, -0.8, -0.45]) / np.linalg.norm([-0.4, -0.8, -0.45])
#: (centre, radius, base colour)
SPHERES = (
    (np.array([-1.3, 0.55, 4.5]), 1.05, np.array([0.85, 0.3, 0.25])),
    (np.array([1.6, 0.9, 7.0]), 0.7, np.array([0.25, 0.4, 0.85])),
)
#: (min corner, max corner, base colour)
BOXES = (
    (np.array([0.3, 0.7, 3.2]), np.array([1.1, 1.6, 4.0]), np.array([0.3, 0.7, 0.3])),
    (np.array([2.6, -1.5, 10.0]), np.array([3.6, 1.6, 11.0]), np.array([0.8, 0.75, 0.55])),
)


def _rays(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Origin (3,) and per-pixel directions (H, W, 3) whose camera-z component is 1."""
    ys, xs = np.mgrid[0 : camera.height, 0 : camera.width].astype(np.float64)
    local = np.stack([(xs - camera.cx) / camera.fx, (ys - camera.cy) / camera.fy, np.ones_like(xs)], -1)
    return camera.pose[:3, 3].copy(), local @ camera.pose[:3, :3].T


def _hit_plane(origin, dirs, axis, value):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (value - origin[axis]) / dirs[..., axis]
    return np.where(t > 1e-6, t, np.inf)


def _hit_sphere(origin, dirs, centre, radius):
    oc = origin - centre
    a = np.einsum("...i,...i", dirs, dirs)
    b = 2.0 * np.einsum("...i,i", dirs, oc)
    c = oc @ oc - radius * radius
    disc = b * b - 4 * a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    t = (-b - root) / (2 * a)
    return np.where((disc >= 0) & (t > 1e-6), t, np.inf)


def _hit_box(origin, dirs, low, high):
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (low - origin) / dirs
        t2 = (high - origin) / dirs
    near = np.nanmax(np.minimum(t1, t2), axis=-1)
    far = np.nanmin(np.maximum(t1, t2), axis=-1)
    return np.where((near <= far) & (near > 1e-6), near, np.inf)


def _box_normal(points, low, high):
    centre, half = (low + high) / 2, (high - low) / 2
    rel = (points - centre) / half
    axis = np.argmax(np.abs(rel), axis=-1)
    normal = np.zeros_like(points)
    np.put_along_axis(normal, axis[..., None], np.sign(np.take_along_axis(rel, axis[..., None], -1)), -1)
    return normal


def _pattern(p: np.ndarray) -> np.ndarray:
    """A smooth, view-independent pattern in [0.6, 1.0] of 3D points (periods >= 0.5 m)."""
    wave = np.sin(p[..., 0] * 4.1) * np.sin(p[..., 2] * 3.3) + 0.5 * np.sin(p[..., 1] * 5.3 + p[..., 0])
    return 0.8 + 0.13 * wave


def _surfaces(origin, dirs):
    """List of (t, colour-function(points), normal-function(points)) for every surface."""
    surfaces = [
        (
            _hit_plane(origin, dirs, 1, GROUND_Y),
            lambda p: np.array([0.5, 0.62, 0.32]),
            lambda p: np.broadcast_to([0.0, -1.0, 0.0], p.shape),
        ),
        (
            _hit_plane(origin, dirs, 2, WALL_Z),
            lambda p: np.array([0.85, 0.72, 0.6]),
            lambda p: np.broadcast_to([0.0, 0.0, -1.0], p.shape),
        ),
    ]
    for centre, radius, colour in SPHERES:
        surfaces.append(
            (
                _hit_sphere(origin, dirs, centre, radius),
                lambda p, c=colour: c,
                lambda p, c=centre, r=radius: (p - c) / r,
            )
        )
    for low, high, colour in BOXES:
        surfaces.append(
            (
                _hit_box(origin, dirs, low, high),
                lambda p, c=colour: c,
                lambda p, lo=low, hi=high: _box_normal(p, lo, hi),
            )
        )
    return surfaces


def render_example(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast the example scene through ``camera``.

    Returns:
        rgb: (H, W, 3) float32 sRGB-encoded colours in [0, 1].
        depth: (H, W) float32 camera z in metres (+inf where a ray hits nothing).
    """
    origin, dirs = _rays(camera)
    surfaces = _surfaces(origin, dirs)
    ts = np.stack([t for t, _, _ in surfaces])
    nearest = np.argmin(ts, axis=0)
    t = np.min(ts, axis=0)
    points = origin + dirs * np.where(np.isfinite(t), t, 0.0)[..., None]
    rgb = np.broadcast_to(SKY, dirs.shape).copy()
    for index, (_, colour, normal) in enumerate(surfaces):
        mask = (nearest == index) & np.isfinite(t)
        if mask.any():
            p = points[mask]
            light = 0.5 + 0.6 * np.clip(normal(p) @ _LIGHT, 0.0, 1.0)
            rgb[mask] = np.clip(colour(p) * (_pattern(p) * light)[:, None], 0.0, 1.0)
    return rgb.astype(np.float32), t.astype(np.float32)


def example_camera(width: int = 1920, height: int = 1080) -> Camera:
    """The example photo's camera: 28 mm (35 mm-equivalent), at the origin."""
    return Camera.from_focal_mm(width, height, 28.0)


def example_inputs(width: int = 1920, height: int = 1080) -> tuple[Picture, DepthMap]:
    """The example photo (8-bit, quantised like a real photo) and its exact metric depth."""
    rgb, depth = render_example(example_camera(width, height))
    pixels8 = np.round(rgb * 255.0).astype(np.uint8)
    picture = Picture(
        pixels=pixels8.astype(np.float32) / 255.0,
        bit_depth=8,
        focal_mm=28.0,
        focal_source="user",
        name=f"example {width}x{height}",
        sha256=sha256_array(pixels8),
    )
    return picture, DepthMap(depth, "example (exact ray-cast depth)", sha256_array(depth))
