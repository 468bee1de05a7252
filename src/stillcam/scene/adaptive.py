"""Adaptive meshing: grid cells merged into larger triangles where the depth is planar.

The grid mesh (``mesh.py``) has two triangles per cell everywhere, a few million for a 12 MP
photo, although most of a photo's depth is smooth. :func:`merge_cells` builds a quadtree
over the cells: a block of 2^k x 2^k cells becomes one leaf when its four children could,
and when every grid vertex in it (its border included) lies near one plane, by a bound
measured in output pixels for the shot's cameras (:class:`ViewBound`):

* geometry: a vertex moved along its source ray from inverse depth ``w`` to the plane's
  ``w'`` shows ``gain * |w - w'|`` pixels away in a camera that moved (``gain``: the
  camera's focal length times its travel across the rays, grown as it comes nearer);
* texture: a triangle interpolates its texture coordinates affinely in the world (the
  renderers' perspective-correct rule), while the photo's pixel of a world point is a
  projective function of it. Over a triangle whose vertices' inverse depths span
  ``[w_min, w_max]`` and whose photo extent is ``Lx`` x ``Ly`` pixels, the texture shifts by
  at most ``(w_max - w_min) / w_min * hypot(Lx, Ly) / 4`` photo pixels (the covariance of
  ``w`` and the pixel position under the barycentric weights, over ``w``), times the
  output pixels per photo pixel.

The geometry must stay within half of ``tolerance`` (the triangulated block and the grid's
own surface are each within that of the plane, so they are within ``tolerance`` of each
other); the texture, whose bound holds for any triangle inside the block, within all of it.
The shift is the same from every view (the world barycentrics of a point do not depend on
the camera): a fixed, smooth warp of the photo, zero at the vertices, not a shimmer.

Only cells whose two grid triangles are kept and none of whose corners is the end of a cut
merge, so cuts and silhouettes keep the grid's density.

No T-junctions: a leaf's triangles use every vertex on its border that a neighbouring leaf
(or grid cell) uses as a corner: two triangles when there is none, else a fan from the
block's centre vertex through them in order. Neighbours share those vertices, so the mesh
stays watertight (no background pixels through cracks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..camera.camera import Camera

#: Largest block: 2^MAX_LEVEL cells on a side.
MAX_LEVEL = 7
#: Margin on the cameras' measured parallax and magnification (rotations, the frame's edges).
BOUND_SAFETY = 1.25
#: Without the shot's cameras (:func:`default_bound`): sideways travel as a fraction of the
#: subject's distance, and the output pixels per photo pixel, assumed.
DEFAULT_TRAVEL = 0.25
DEFAULT_SCALE = 2.0


@dataclass(frozen=True)
class ViewBound:
    """How far the shot's cameras show a depth or texture error, in output pixels.

    Attributes:
        parallax: output pixels per 1/m of inverse-depth error at the source's distance:
            the largest focal length (px) times sideways travel (m) of any camera (forward
            travel counted at the photo's edge, as :func:`~.layers.reach_of` does).
        forward: the largest travel towards the scene (m, >= 0): errors at inverse depth
            ``w`` grow by ``1 / (1 - forward * w)`` (texture) and its square (geometry).
        scale: the largest output pixels per photo pixel (focal length ratio).
    """

    parallax: float
    forward: float
    scale: float

    def approach(self, inverse: np.ndarray) -> np.ndarray:
        """Magnification by forward travel at inverse depth ``inverse`` (1/m), at most 4."""
        return 1.0 / np.maximum(1.0 - self.forward * inverse, 0.25)


def view_bound(source: Camera, cameras: Sequence[Camera]) -> ViewBound:
    """The :class:`ViewBound` of ``cameras`` looking at the photo taken by ``source``."""
    longest = max(source.width, source.height)
    parallax, forward, scale = 0.0, 0.0, 0.0
    for camera in cameras:
        t = camera.pose[:3, 3] - source.pose[:3, 3]
        lateral = math.hypot(t[0], t[1]) + abs(t[2]) * longest / (2.0 * source.fx)
        parallax = max(parallax, max(camera.fx, camera.fy) * lateral)
        forward = max(forward, float(t[2]))
        scale = max(scale, max(camera.fx / source.fx, camera.fy / source.fy))
    return ViewBound(BOUND_SAFETY * parallax, forward, BOUND_SAFETY * scale)


def default_bound(source: Camera, z_subject: float) -> ViewBound:
    """A bound for a scene built without its cameras: sideways travel of DEFAULT_TRAVEL
    times the subject's distance, the photo shown at DEFAULT_SCALE."""
    return ViewBound(BOUND_SAFETY * source.fx * DEFAULT_TRAVEL * z_subject, 0.0, DEFAULT_SCALE)


def _plane_deviation(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Largest |w - plane| over each block, the plane fitted by least squares.

    Args:
        w: (N, S, S) float64 inverse depth of each block's vertices.
        x: (N, S) float64 pixel x of its columns; y: (N, S) pixel y of its rows.

    Returns:
        (N,) float64 in the units of ``w``.
    """
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    wm = w.mean(axis=(1, 2), keepdims=True)
    # Separable grid: x and y are uncorrelated over the block, so the fit is two 1-D slopes.
    wx = (w.mean(axis=1) * xc).sum(axis=1) / np.maximum((xc * xc).sum(axis=1), 1e-30)
    wy = (w.mean(axis=2) * yc).sum(axis=1) / np.maximum((yc * yc).sum(axis=1), 1e-30)
    plane = wm + wx[:, None, None] * xc[:, None, :] + wy[:, None, None] * yc[:, :, None]
    return np.abs(w - plane).max(axis=(1, 2))


def _flat_blocks(
    gx: np.ndarray,
    gy: np.ndarray,
    inverse: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    size: int,
    bound: ViewBound,
    tolerance: float,
    relative: float,
) -> np.ndarray:
    """(N,) bool: which blocks (top-left vertex ``rows``, ``cols``; ``size`` cells a side)
    are planar within ``tolerance`` output pixels: half of it for the geometry, all of it for
    the texture (see the module docstring); and within ``relative`` times the block's
    smallest inverse depth of the plane."""
    step = np.arange(size + 1)
    r = rows[:, None] + step  # (N, S)
    c = cols[:, None] + step
    w = inverse[r[:, :, None], c[:, None, :]]
    x, y = gx[c], gy[r]
    w_min, w_max = w.min(axis=(1, 2)), w.max(axis=(1, 2))
    approach = bound.approach(w_max)
    deviation = _plane_deviation(w, x, y)
    geometry = deviation * bound.parallax * approach**2
    extent = np.hypot(x[:, -1] - x[:, 0], y[:, -1] - y[:, 0])
    texture = (w_max - w_min) / w_min * extent / 4.0 * bound.scale * approach
    return (geometry <= 0.5 * tolerance) & (texture <= tolerance) & (deviation <= relative * w_min)


def _leaves(
    gx: np.ndarray,
    gy: np.ndarray,
    inverse: np.ndarray,
    cells: np.ndarray,
    bound: ViewBound,
    tolerance: float,
    relative: float,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The quadtree's merged leaves, largest first: (size in cells, top-left rows, cols)."""
    levels: list[np.ndarray] = [cells]
    size = 1
    for _ in range(MAX_LEVEL):
        below = levels[-1]
        nr, nc = below.shape[0] // 2, below.shape[1] // 2
        if nr == 0 or nc == 0:
            break
        size *= 2
        ok = (
            below[0 : 2 * nr : 2, 0 : 2 * nc : 2]
            & below[1 : 2 * nr : 2, 0 : 2 * nc : 2]
            & below[0 : 2 * nr : 2, 1 : 2 * nc : 2]
            & below[1 : 2 * nr : 2, 1 : 2 * nc : 2]
        )
        bi, bj = np.nonzero(ok)
        if len(bi) == 0:
            break
        ok[bi, bj] = _flat_blocks(gx, gy, inverse, bi * size, bj * size, size, bound, tolerance, relative)
        levels.append(ok)
    covered = np.zeros(cells.shape, bool)
    leaves = []
    for level in range(len(levels) - 1, 0, -1):
        size = 2**level
        bi, bj = np.nonzero(levels[level])
        rows, cols = bi * size, bj * size
        free = ~covered[rows, cols]  # a block lies wholly inside a larger leaf or outside all
        rows, cols = rows[free], cols[free]
        for dr in range(size):
            covered[(rows + dr)[:, None], cols[:, None] + np.arange(size)] = True
        leaves.append((size, rows, cols))
    return leaves


def _loop(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(4 size,) row and column offsets of a block's border vertices, in order round it."""
    s = np.arange(size)
    dr = np.concatenate([np.zeros(size, int), s, np.full(size, size), size - s])
    dc = np.concatenate([s, np.full(size, size), size - s, np.zeros(size, int)])
    return dr, dc


def _leaf_triangles(size: int, rows: np.ndarray, cols: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Triangles (vertex indices into the (R, C) grid, row-major) of leaves of one size."""
    n_cols = used.shape[1]
    dr, dc = _loop(size)
    r, c = rows[:, None] + dr, cols[:, None] + dc  # (N, 4 size)
    on = used[r, c]
    index = r * n_cols + c
    plain = on.sum(axis=1) == 4  # the corners only
    a, b = index[plain, 0], index[plain, size]
    d, cc = index[plain, 2 * size], index[plain, 3 * size]
    two = np.concatenate([np.stack([a, cc, b], 1), np.stack([b, cc, d], 1)])
    if plain.all():
        return two.astype(np.int32)
    # The others: a fan from the centre through every used border vertex, in order.
    fan_on, fan_index = on[~plain], index[~plain]
    centre = (rows[~plain] + size // 2) * n_cols + cols[~plain] + size // 2
    block, position = np.nonzero(fan_on)  # sorted by block, then by position round it
    start = np.searchsorted(block, np.arange(len(fan_on)))
    following = np.arange(len(block)) + 1
    last = np.append(block[1:] != block[:-1], True)
    following[last] = start[block[last]]
    fan = np.stack(
        [centre[block], fan_index[block, position], fan_index[block[following], position[following]]], 1
    )
    return np.concatenate([two, fan]).astype(np.int32)


def merge_cells(
    gx: np.ndarray,
    gy: np.ndarray,
    inverse: np.ndarray,
    cells: np.ndarray,
    grid_triangles: np.ndarray,
    keep: np.ndarray,
    bound: ViewBound,
    tolerance: float,
    relative: float = np.inf,
) -> np.ndarray:
    """The grid's kept triangles with smooth blocks of cells merged (module docstring).

    Args:
        gx: (C,) float64 pixel x of the grid's columns; gy: (R,) pixel y of its rows.
        inverse: (R, C) float64 inverse depth (1/m) of the grid's vertices.
        cells: (R - 1, C - 1) bool, the cells that may merge (both triangles kept, no cut
            end at a corner).
        grid_triangles: (2 (R - 1) (C - 1), 3) int32, the grid's triangles (upper triangles
            of all cells, then lower ones; ``mesh._grid_triangles``).
        keep: (2 (R - 1) (C - 1),) bool, which of them the mesh keeps.
        bound: what the shot's cameras show of an error.
        tolerance: output pixels.
        relative: the largest deviation from a block's plane, as a fraction of the block's
            smallest inverse depth (a layer that must stay behind another by a margin).

    Returns:
        (M, 3) int32 triangles in the grid's vertex numbering: the kept grid triangles of
        cells no leaf covers (in their order), then the leaves'.
    """
    leaves = _leaves(gx, gy, inverse, cells, bound, tolerance, relative)
    covered = np.zeros(cells.shape, bool)
    used = np.zeros(inverse.shape, bool)
    for size, rows, cols in leaves:
        for dr in range(size):
            covered[(rows + dr)[:, None], cols[:, None] + np.arange(size)] = True
        for dr, dc in ((0, 0), (0, size), (size, 0), (size, size)):
            used[rows + dr, cols + dc] = True
    free = ~covered
    used[:-1, :-1] |= free
    used[:-1, 1:] |= free
    used[1:, :-1] |= free
    used[1:, 1:] |= free
    dense = grid_triangles[keep & np.concatenate([free.ravel(), free.ravel()])]
    parts = [dense] + [_leaf_triangles(size, rows, cols, used) for size, rows, cols in leaves]
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.int32)
