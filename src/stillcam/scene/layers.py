"""What the shot's cameras will reveal, and the background layer behind depth edges.

Two kinds of holes open when the camera moves: behind foreground edges (disocclusions) and
past the photo's border. :func:`reach_of` measures, from the actual cameras, how wide each
can get; the scene builder then (1) extends the mesh past the border by a ring that wide,
filled by an inpainter, and (2) adds a background layer behind every cut: the background's
depth continued under the foreground for that many pixels, its colour inpainted from the
background side. The renderer's z-buffer shows the layer only where the foreground leaves a gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..camera.camera import Camera
from .inpaint import fill_propagate

#: Reveal widths are multiplied by this and padded by REACH_PAD_PX (a safety margin).
REACH_SAFETY = 1.25
REACH_PAD_PX = 2.0
#: Caps, as fractions of the photo's longest side: beyond them the shot shows the matte (or
#: the last-resort row fill). Bigger rings cost memory quadratically for little use, since
#: what lies that far outside the photo is a guess.
MAX_RING = 0.25
MAX_EDGE = 0.25


@dataclass(frozen=True)
class Reach:
    """How far the cameras see past what the photo shows, in source pixels.

    Attributes:
        edge_px: widest gap that opens behind a depth edge.
        ring_px: farthest the cameras see beyond the photo's border.
    """

    edge_px: float = 0.0
    ring_px: float = 0.0


def _border_rays(camera: Camera, per_side: int = 9) -> np.ndarray:
    """(N, 2) pixel coordinates along the frame's border (corners included)."""
    t = np.linspace(0.0, 1.0, per_side)
    x0, x1, y0, y1 = -0.5, camera.width - 0.5, -0.5, camera.height - 0.5
    xs = np.concatenate(
        [x0 + t * (x1 - x0), np.full(per_side, x1), x1 - t * (x1 - x0), np.full(per_side, x0)]
    )
    ys = np.concatenate(
        [np.full(per_side, y0), y0 + t * (y1 - y0), np.full(per_side, y1), y1 - t * (y1 - y0)]
    )
    return np.stack([xs, ys], axis=1)


def _ring_overshoot(source: Camera, camera: Camera, depths: np.ndarray) -> float:
    """Largest distance (source px) past the photo's border that ``camera`` sees at ``depths``."""
    pixels = _border_rays(camera)
    rays = np.stack(
        [
            (pixels[:, 0] - camera.cx) / camera.fx,
            (pixels[:, 1] - camera.cy) / camera.fy,
            np.ones(len(pixels)),
        ],
        axis=1,
    )
    worst = 0.0
    for z in depths:
        world = (rays * z) @ camera.pose[:3, :3].T + camera.pose[:3, 3]
        local = (world - source.pose[:3, 3]) @ source.pose[:3, :3]
        if (local[:, 2] <= 1e-6).any():
            return float("inf")
        x = source.fx * local[:, 0] / local[:, 2] + source.cx
        y = source.fy * local[:, 1] / local[:, 2] + source.cy
        over = np.maximum.reduce([-0.5 - x, x - (source.width - 0.5), -0.5 - y, y - (source.height - 0.5)])
        worst = max(worst, float(over.max()))
    return worst


def reach_of(source: Camera, cameras: Sequence[Camera], z: np.ndarray) -> Reach:
    """How far ``cameras`` see past the photo (taken by ``source``) whose depth is ``z``.

    Edge gaps: a camera displaced by t reveals ``f * |t| * delta(1/z)`` pixels behind an edge
    (lateral motion; forward motion by ``|t_z| * r_max``), with delta(1/z) the scene's range
    of inverse depth (1st to 99th percentile). The ring: border rays of every camera cast to
    the depths along the photo's border (which the ring continues) and projected into the
    source. Both are capped (MAX_EDGE, MAX_RING).
    """
    inverse = 1.0 / z
    lo, hi = np.percentile(inverse, [1.0, 99.0])
    # The ring continues the border's depth, so the border's depths are what it must cover.
    border = np.concatenate([inverse[0], inverse[-1], inverse[:, 0], inverse[:, -1]])
    ring_depths = 1.0 / np.percentile(border, [1.0, 99.0])
    longest = max(source.width, source.height)
    edge, ring = 0.0, 0.0
    for camera in cameras:
        t = camera.pose[:3, 3] - source.pose[:3, 3]
        lateral = np.hypot(t[0], t[1]) + abs(t[2]) * longest / (2.0 * source.fx)
        edge = max(edge, source.fx * lateral * (hi - lo))
        ring = max(ring, _ring_overshoot(source, camera, ring_depths))
    edge = min(edge * REACH_SAFETY + REACH_PAD_PX, MAX_EDGE * longest) if edge > 0 else 0.0
    ring = min(ring * REACH_SAFETY + REACH_PAD_PX, MAX_RING * longest) if ring > 0 else 0.0
    return Reach(edge_px=edge, ring_px=ring)


#: Default spacing of mesh vertices on screen, in output pixels, when the output is smaller
#: than the photo (finer geometry than this cannot be seen, only paid for).
SCREEN_SPACING_PX = 2.5


def magnification(source: Camera, cameras: Sequence[Camera], z: np.ndarray) -> float:
    """The largest scale at which any camera shows the photo (output pixels per photo pixel):
    focal ratio, times the approach to the median depth for forward moves."""
    median = float(np.median(z))
    largest = 0.0
    for camera in cameras:
        forward = float(camera.pose[2, 3] - source.pose[2, 3])
        approach = median / max(median - forward, 0.25 * median)
        largest = max(largest, camera.fx / source.fx * approach)
    return largest


def stride_for(
    source: Camera, cameras: Sequence[Camera], z: np.ndarray, spacing_px: float = SCREEN_SPACING_PX
) -> int:
    """Coarsest vertex stride (photo pixels) the shot can use: vertices about ``spacing_px``
    output pixels apart at the largest :func:`magnification` any camera reaches. 1 when some
    camera shows the photo at its own resolution or larger, unless a coarser ``spacing_px``
    than the default asks for a preview."""
    return stride_at(magnification(source, cameras, z), spacing_px)


def stride_at(scale: float, spacing_px: float = SCREEN_SPACING_PX) -> int:
    """:func:`stride_for` of a known largest ``scale`` (output pixels per photo pixel)."""
    if scale >= 1.0 and spacing_px <= SCREEN_SPACING_PX:
        return 1
    return max(1, math.floor(spacing_px / scale))


def _nearest_seed(seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distance, row, col) of the nearest True pixel of ``seeds`` for every pixel."""
    if not seeds.any():
        inf = np.full(seeds.shape, np.inf, np.float32)
        zero = np.zeros(seeds.shape, np.intp)
        return inf, zero, zero
    distance, labels = cv2.distanceTransformWithLabels(
        (~seeds).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(seeds)
    return distance, rows[labels - 1], cols[labels - 1]


@dataclass(frozen=True, eq=False)
class BackgroundLayer:
    """The background continued under foreground edges, on the vertex grid.

    Attributes:
        inside: (R, C) bool, grid vertices whose background was reconstructed.
        in_front: (R, C) bool, vertices in front of the background across their nearest cut
            (never a source of background colour or depth).
        z: (R, C) float64 metres: the background's depth where ``inside``, else the scene's.
        edge: (R, C) bool, the far ends of cuts: their colours are often a mix of
            foreground and background (anti-aliased silhouettes, depth maps a pixel off).
        edge_distance: (R, C) float32, grid cells to the nearest far end.
    """

    inside: np.ndarray
    in_front: np.ndarray
    z: np.ndarray
    edge: np.ndarray
    edge_distance: np.ndarray


def cut_ends(
    inverse: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(near, far): (R, C) bool masks of the grid vertices at the near (larger 1/z) and far
    ends of cut sides; a vertex at the near end of any cut is never a far end."""
    near = np.zeros(inverse.shape, bool)
    far = np.zeros(inverse.shape, bool)
    left_near = inverse[:, :-1] > inverse[:, 1:]
    near[:, :-1] |= horizontal & left_near
    near[:, 1:] |= horizontal & ~left_near
    far[:, :-1] |= horizontal & ~left_near
    far[:, 1:] |= horizontal & left_near
    top_near = inverse[:-1, :] > inverse[1:, :]
    near[:-1, :] |= vertical & top_near
    near[1:, :] |= vertical & ~top_near
    far[:-1, :] |= vertical & ~top_near
    far[1:, :] |= vertical & top_near
    return near, far & ~near


def background_layer(
    z: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray, reach_cells: float, threshold: float
) -> BackgroundLayer:
    """Where and how deep the background continues behind each cut.

    Args:
        z: (R, C) float64 grid depth in metres.
        horizontal: (R, C - 1) bool, cut sides between columns; vertical: (R - 1, C) bool.
        reach_cells: how far (in grid cells) the background must extend under the foreground.
        threshold: relative inverse-depth margin that makes a vertex "in front" of the background.

    Each cut side has a near end (larger 1/z) and a far end. A vertex is ``in_front`` when its
    inverse depth exceeds that of the nearest far end by more than ``threshold``, and
    ``inside`` when moreover a near end lies within ``reach_cells``. The background's inverse
    depth under ``in_front`` vertices is propagated from the vertices that are not in front
    (nearest, then smoothed), so neighbouring background surfaces join without steps.
    """
    inverse = 1.0 / z
    near, far = cut_ends(inverse, horizontal, vertical)
    near_distance, _, _ = _nearest_seed(near)
    far_distance, far_row, far_col = _nearest_seed(far)
    in_front = inverse > inverse[far_row, far_col] * (1.0 + threshold)
    inside = in_front & (near_distance <= reach_cells)
    edge = far.copy()
    if not inside.any() or in_front.all():
        return BackgroundLayer(inside & ~in_front.all(), in_front, z, edge, far_distance)
    background = fill_propagate(inverse.astype(np.float32), ~in_front).astype(np.float64)
    # Behind, always: a propagated background never comes forward through the foreground.
    background = np.minimum(background, inverse / (1.0 + threshold))
    z_bg = np.where(inside, 1.0 / np.maximum(background, 1e-12), z)
    return BackgroundLayer(inside, in_front, z_bg, edge, far_distance)
