"""A textured triangle mesh from a photo and its depth, cut at depth discontinuities.

The mesh is a regular grid of vertices at pixel centres every ``stride`` pixels, plus the
photo's outer border (-0.5 and W - 0.5) so the source view is covered edge to edge. Its texture
is the photo at full resolution; texture coordinates are pixel coordinates of the photo.

A grid triangle is cut (dropped, never stretched) when one of its grid sides crosses a depth
discontinuity. A side a-b crosses one when the inverse depth at b is not predicted by linear
extrapolation from a's side (a and the vertex before it), nor the other way round; the
smaller of the two prediction errors, times the subject's distance, must exceed
``cut_threshold``, and the depths at a and b must differ by more than ``cut_threshold``
relative to the nearer (so a sphere's rim, curved but continuous, is not cut off).

Why inverse depth: for any plane 1/z is linear in the image coordinates, so smooth
surfaces, even grazing ground planes far away and at any resolution, predict exactly and are
kept; a jump between two surfaces is not predicted from either side and is cut.
Multiplying by the subject distance makes the threshold independent of the scene's scale:
it is the jump in parallax relative to the subject's. (A diagonal crossing a depth edge
implies a crossing side, so sides suffice.)
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
        metadata={
            "help": "pixels between mesh vertices; 0 = auto (about 1.5 M vertices, "
            "so a 12 MP photo is a few million triangles)"
        },
    )
    cut_threshold: float = field(
        default=0.05,
        metadata={
            "help": "depth-edge sensitivity: the mesh is cut where inverse depth jumps, "
            "unpredicted by its neighbours, by more than this fraction of the subject's "
            "(smaller = more cuts)"
        },
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


def _edge_errors(values: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Discontinuity measure of each side between columns j and j + 1 of ``values``.

    Args:
        values: (R, C) float64 inverse depth (1/m) on the vertex grid.
        coords: (C,) float64 pixel coordinate of each grid column (not evenly spaced).

    Returns:
        (R, C - 1) float64: the smaller error (1/m) of predicting one end by linear
        extrapolation from the other end's side; the plain jump where no side has two vertices.
    """
    jump = np.abs(values[:, 1:] - values[:, :-1])
    if values.shape[1] < 3:
        return jump
    step = np.diff(coords)  # (C - 1,)
    # Prediction of column j + 1 from columns j - 1 and j (for j >= 1).
    slope_left = (values[:, 1:-1] - values[:, :-2]) / step[:-1]
    from_left = np.abs(values[:, 2:] - (values[:, 1:-1] + slope_left * step[1:]))
    # Prediction of column j from columns j + 1 and j + 2 (for j <= C - 3).
    slope_right = (values[:, 2:] - values[:, 1:-1]) / step[1:]
    from_right = np.abs(values[:, :-2] - (values[:, 1:-1] - slope_right * step[:-1]))
    error = jump.copy()
    error[:, 1:] = np.minimum(error[:, 1:], from_left)
    error[:, :-1] = np.minimum(error[:, :-1], from_right)
    return error


def _is_cut(inverse: np.ndarray, coords: np.ndarray, z_subject: float, threshold: float) -> np.ndarray:
    """(R, C - 1) bool: which sides between grid columns cross a depth discontinuity.

    Both must hold: the prediction error (:func:`_edge_errors`) times the subject distance
    exceeds ``threshold``, and the two ends' depths differ by more than ``threshold``
    relative to the nearer one. The second test keeps curved surfaces seen at grazing angles
    (a sphere's rim) in one piece, where extrapolation alone would isolate the rim pixels.
    """
    error = _edge_errors(inverse, coords) * z_subject > threshold
    near, far = np.maximum(inverse[:, 1:], inverse[:, :-1]), np.minimum(inverse[:, 1:], inverse[:, :-1])
    return error & (near / far - 1.0 > threshold)


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
    inverse = 1.0 / vz
    horizontal = _is_cut(inverse, gx, subject_depth(z), settings.cut_threshold)
    vertical = _is_cut(inverse.T, gy, subject_depth(z), settings.cut_threshold).T
    upper = horizontal[:-1, :] | vertical[:, :-1]  # triangles (a, c, b): top and left sides
    lower = horizontal[1:, :] | vertical[:, 1:]  # triangles (b, c, d): bottom and right sides
    keep = ~np.concatenate([upper.ravel(), lower.ravel()])
    return Scene(
        vertices=vertices.astype(np.float32),
        uvs=np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32),
        triangles=np.ascontiguousarray(triangles[keep]),
        texture=picture.pixels,
        camera=camera,
        stride=stride,
        cut_triangles=int((~keep).sum()),
    )
