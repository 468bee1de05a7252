"""A textured triangle mesh from a photo and its depth, cut at depth discontinuities.

The mesh is a regular grid of vertices at pixel centres every ``stride`` pixels, plus the
photo's outer border (-0.5 and W - 0.5) so the source view is covered edge to edge. Its texture
is the photo at full resolution; texture coordinates are pixel coordinates of the photo.

A grid triangle is cut (dropped, never stretched) when its corners' inverse depths differ by
more than ``cut_threshold / z_subject``: that is the parallax criterion. A camera that moves by
b metres shifts a point by ``f * b / z`` pixels, so a rubber-sheet triangle would stretch by
``f * b * delta(1/z)`` pixels; measuring delta(1/z) against the subject's distance makes the
threshold independent of the scene's scale. Smooth surfaces (1/z is linear in the image for
any plane) are kept, even at grazing angles far away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..camera.camera import Camera
from ..camera.moves import subject_depth
from ..depth.convert import DepthMap
from ..errors import InputError
from ..io.image import Picture


@dataclass(frozen=True)
class SceneSettings:
    """How the mesh is built. Field docs become ``--help`` text."""

    stride: int = field(
        default=0,
        metadata={"help": "pixels between mesh vertices; 0 = auto (about 1.5 M vertices, "
                  "so a 12 MP photo is a few million triangles)"},
    )
    cut_threshold: float = field(
        default=0.05,
        metadata={"help": "cut triangles whose inverse-depth span times the subject distance "
                  "exceeds this (smaller = more cuts)"},
    )


@dataclass(frozen=True, eq=False)
class Scene:
    """A textured mesh in world coordinates (= the photo's camera frame, metres).

    Attributes:
        vertices: (N, 3) float32 world positions in metres (OpenCV axes).
        uvs: (N, 2) float32 texture coordinates in photo pixels (x, y), pixel centres at integers.
        triangles: (M, 3) int32 vertex indices.
        texture: (H, W, 3) float32 sRGB-encoded colours in [0, 1] (the photo, full resolution).
        camera: the photo's camera (identity pose).
        stride: vertex spacing in photo pixels.
        cut_triangles: number of grid triangles dropped at depth edges.
    """

    vertices: np.ndarray = field(repr=False)
    uvs: np.ndarray = field(repr=False)
    triangles: np.ndarray = field(repr=False)
    texture: np.ndarray = field(repr=False)
    camera: Camera
    stride: int
    cut_triangles: int


def auto_stride(width: int, height: int, target_vertices: float = 1.5e6) -> int:
    """Vertex stride that keeps about ``target_vertices`` vertices (at least 1)."""
    return max(1, math.ceil(math.sqrt(width * height / target_vertices)))


def unproject(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, camera: Camera) -> np.ndarray:
    """Pixel coordinates and depth to points in the camera's frame.

    Args:
        xs, ys: float arrays of pixel coordinates (same shape S), pixel centres at integers.
        z: depth along the optical axis in metres, shape S, > 0.
        camera: intrinsics (its pose is ignored).

    Returns:
        (*S, 3) float64 points in metres, OpenCV axes.

    >>> cam = Camera(4, 4, 2.0, 2.0, 1.5, 1.5)
    >>> unproject(np.array([3.5]), np.array([1.5]), np.array([2.0]), cam).tolist()
    [[2.0, 0.0, 2.0]]
    """
    x = (np.asarray(xs, np.float64) - camera.cx) / camera.fx * z
    y = (np.asarray(ys, np.float64) - camera.cy) / camera.fy * z
    return np.stack([x, y, np.asarray(z, np.float64)], axis=-1)


def _grid_axis(size: int, stride: int) -> np.ndarray:
    """Vertex coordinates along one axis: the border -0.5, centres every ``stride``, the last."""
    centres = np.arange(0, size - 1, stride, dtype=np.float64)
    return np.concatenate([[-0.5], centres, [size - 1.0, size - 0.5]])


def _grid_triangles(rows: int, cols: int) -> np.ndarray:
    """(2 * (rows-1) * (cols-1), 3) int32 triangles of a rows x cols vertex grid."""
    index = np.arange(rows * cols, dtype=np.int32).reshape(rows, cols)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    return np.concatenate([np.stack([a, c, b], 1), np.stack([b, c, d], 1)]).astype(np.int32)


def build_scene(picture: Picture, depth: DepthMap, camera: Camera, settings: SceneSettings) -> Scene:
    """Lift ``picture`` with ``depth`` (same size) seen by ``camera`` into a cut, textured mesh."""
    z = depth.z
    if z.shape != (picture.height, picture.width):
        raise InputError(
            f"depth is {z.shape[1]}x{z.shape[0]} but the photo is {picture.width}x{picture.height}"
        )
    if settings.stride < 0 or settings.cut_threshold <= 0:
        raise InputError("--stride must be >= 0 and --cut-threshold > 0")
    stride = settings.stride or auto_stride(picture.width, picture.height)
    gx, gy = _grid_axis(picture.width, stride), _grid_axis(picture.height, stride)
    xs, ys = np.meshgrid(gx, gy)
    ix = np.clip(np.rint(xs), 0, picture.width - 1).astype(np.intp)
    iy = np.clip(np.rint(ys), 0, picture.height - 1).astype(np.intp)
    vz = z[iy, ix].astype(np.float64)
    vertices = unproject(xs, ys, vz, camera).reshape(-1, 3)
    triangles = _grid_triangles(len(gy), len(gx))
    inverse = (1.0 / vz).ravel()[triangles]
    span = inverse.max(axis=1) - inverse.min(axis=1)
    keep = span * subject_depth(z) <= settings.cut_threshold
    return Scene(
        vertices=vertices.astype(np.float32),
        uvs=np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32),
        triangles=np.ascontiguousarray(triangles[keep]),
        texture=picture.pixels,
        camera=camera,
        stride=stride,
        cut_triangles=int((~keep).sum()),
    )
