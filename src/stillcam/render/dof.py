"""Depth of field: a thin lens's blur of a rendered :class:`~stillcam.render.frame.Frame`.

A layered gather that respects occlusion. Each pixel's circle of confusion (CoC,
:func:`~stillcam.render.lens.coc_diameter_px`) is signed (negative in front of the focus
distance); the pixels are split into slabs of similar signed CoC (geometric steps of
:data:`SLAB_RATIO`; every pixel under :data:`SHARP_PX` across is in the sharp slab). Far to
near, each slab's premultiplied colour and coverage are blurred with a disc of the slab's mean
CoC and composited over the slabs behind. Behind the pixels of nearer slabs a slab is first
extended with its own neighbouring colour (the hidden background a blurred foreground's
semi-transparent edge shows), so

* a sharp foreground edge stays sharp over a blurred background (no background halo on it),
* a blurred foreground spills over a sharp background, as a real lens does.

A slab is cut into pieces where its pixels' tiles (:data:`TILE_PX`), grown by the piece's
margin, do not touch; each piece is blurred on its own box (a slab in two distant parts of the
frame gets two small boxes, not one as wide as the frame).

:func:`apply_dof` is the fast path (numba and OpenCV filters; pieces with large discs are
split, filled and blurred at a reduced resolution, and a wide fill is taken at a reduced
resolution too, :data:`FILL_REACH_PX`); :func:`apply_dof_reference` scatters every pixel's own
disc one by one (slow, obviously right; the same pieces and the full-resolution fill decide the
order and the hidden colour).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numba import njit, prange

from ..camera.camera import Camera, fit_output_camera
from ..camera.focus import racked_path
from ..camera.path import CameraPath
from ..camera.plan import ShotSettings, move_context
from ..scene.mesh import Scene
from .frame import Frame, Renderer, RenderSettings, fill_holes
from .lens import Focus, RackFocus, coc_diameter_px, parse_focus, parse_rack

#: Circles of confusion below this diameter (pixels) are left sharp.
SHARP_PX = 1.0
#: Ratio of the CoC diameters of neighbouring slabs.
SLAB_RATIO = 1.5
#: Blurred coverage under this is the filters' round-off: dropped, so that sharp pixels far
#: from every blurred slab keep their exact values.
FAINT = 1e-5
#: Discs wider than this (pixels) are blurred at a reduced resolution (fast path only).
REDUCE_ABOVE_PX = 8.0
#: Slabs are cut into connected pieces on a grid of tiles this many pixels across, so that a
#: slab in two distant parts of the frame is blurred on two small boxes, not one wide one.
TILE_PX = 32
#: The fast path computes the fill (a local mean) at 1/2^k resolution while its reach stays at
#: least this many reduced pixels, and sharpens it back bilinearly.
FILL_REACH_PX = 8


@dataclass(frozen=True)
class Slab:
    """One connected piece of one depth slab, ready to blur, on the part of the frame it can
    reach: ``box`` = (y0, y1, x0, x1), its pixels' bounding box grown by the fill's reach and
    the disc's radius. ``rgba`` (h, w, 4) float32 is its premultiplied colour and coverage there
    (its own pixels plus the fill behind nearer slabs), ``own`` (h, w) bool its own pixels,
    ``diameter`` the coverage-weighted mean CoC in pixels (0: left sharp)."""

    rgba: np.ndarray
    diameter: float
    own: np.ndarray
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class _Piece:
    """A :class:`Slab` before its colour is made: slab ``k``, its disc ``diameter``, the fill's
    ``reach``, ``box``, and which pixels are its own: ``ids == k`` on the tiles (``TILE_PX``
    squares) where ``tiles == label``."""

    k: int
    diameter: float
    reach: int
    box: tuple[int, int, int, int]
    tiles: np.ndarray
    label: int


def slab_ids(signed_coc: np.ndarray) -> np.ndarray:
    """(H, W) int32 slab of each signed CoC diameter (pixels): 0 under :data:`SHARP_PX`,
    else ±(1 + floor(log_ratio(|c| / SHARP_PX))); negative = in front of the focus.

    >>> slab_ids(np.array([0.5, -1.0, 1.6, 3.0])).tolist()
    [0, -1, 2, 3]
    """
    c = np.asarray(signed_coc, np.float32)
    steps = SHARP_PX * SLAB_RATIO ** np.arange(1, 64)  # where each slab after the first begins
    rows = c.reshape(-1, c.shape[-1]) if c.ndim > 1 else c.reshape(1, -1)
    return _slab_ids(rows, steps.astype(np.float32)).reshape(c.shape)


@njit(parallel=True, cache=True, nogil=True)
def _slab_ids(coc, steps):  # pragma: no cover - numba
    h, w = coc.shape
    out = np.empty((h, w), np.int32)
    sharp = np.float32(SHARP_PX)
    for y in prange(h):
        for x in range(w):
            c = abs(coc[y, x])
            if not c >= sharp:  # NaN too
                out[y, x] = 0
                continue
            n = 1
            while n <= steps.size and c >= steps[n - 1]:
                n += 1
            out[y, x] = -n if coc[y, x] < 0 else n
    return out


def _upper_radius(k: int) -> float:
    """The largest disc radius (pixels) a pixel of slab ``k`` can have."""
    return 0.0 if k == 0 else SHARP_PX * SLAB_RATIO ** abs(k) / 2.0


@njit(parallel=True, cache=True, nogil=True)
def _tally(ids, low, n, alpha, coc, tile):  # pragma: no cover - numba
    """Per slab (``ids - low``, ``n`` of them): coverage, pixel count, coverage-weighted and
    plain sums of |coc|; and per slab and tile its pixels' bounding box inside the tile
    (y0, y1, x0, x1; y1 = 0 where the tile holds none)."""
    h, w = ids.shape
    th, tw = (h + tile - 1) // tile, (w + tile - 1) // tile
    sums = np.zeros((th, 4, n))
    boxes = np.zeros((n, th, tw, 4), np.int32)
    for ty in prange(th):
        for y in range(ty * tile, min(ty * tile + tile, h)):
            for x in range(w):
                i = ids[y, x] - low
                a = np.float64(alpha[y, x])
                c = np.float64(abs(coc[y, x]))
                sums[ty, 0, i] += a
                sums[ty, 1, i] += 1.0
                sums[ty, 2, i] += a * c
                sums[ty, 3, i] += c
                t = x // tile
                if boxes[i, ty, t, 1] == 0:
                    boxes[i, ty, t, 0] = y
                    boxes[i, ty, t, 2] = x
                    boxes[i, ty, t, 3] = x + 1
                boxes[i, ty, t, 1] = y + 1
                boxes[i, ty, t, 2] = min(boxes[i, ty, t, 2], x)
                boxes[i, ty, t, 3] = max(boxes[i, ty, t, 3], x + 1)
    return sums.sum(axis=0), boxes


def _pieces(frame: Frame, signed_coc: np.ndarray) -> tuple[np.ndarray, list[_Piece]]:
    """The frame's slab ids and its slabs' pieces, far to near (the order they are composited
    in): a slab's pixels on the tiles its pixels are on, grown by the margin its box needs
    (for the nearest slab in front of it anywhere), split where those tiles do not touch
    (8-connected). A piece's fill reaches as far as the nearer slabs on its tiles need."""
    ids = slab_ids(signed_coc)
    low, high = int(ids.min()), int(ids.max())
    alpha = np.ascontiguousarray(frame.alpha, np.float32)
    coc = np.asarray(signed_coc, np.float32)
    sums, boxes = _tally(ids, np.int32(low), high - low + 1, alpha, coc, TILE_PX)
    coverage, counts, weighted, plain = sums
    order = [k for k in range(high, low - 1, -1) if counts[k - low] > 0]
    h, w = ids.shape
    held = boxes[:, :, :, 1] > 0
    result = []
    for index, k in enumerate(order):
        i = k - low
        mean = weighted[i] / coverage[i] if coverage[i] > 0 else plain[i] / counts[i]
        diameter = 0.0 if mean < SHARP_PX or k == 0 else float(mean)
        nearer = max((_upper_radius(j) for j in order[index + 1 :]), default=0.0)
        reach = math.ceil(nearer + 0.75 * diameter) + 2  # the disc, and the resampling of wide ones
        margin = reach + math.ceil(diameter / 2.0) + 2
        grow = 2 * -(-margin // TILE_PX) + 1  # pieces closer than two margins share the fill
        grown = cv2.dilate(held[i].astype(np.uint8), np.ones((grow, grow), np.uint8))
        count, tiles = cv2.connectedComponents(grown, None, 8)
        for label in range(1, count):
            region = tiles == label  # every pixel within the margin of the piece's
            near = max(
                (_upper_radius(j) for j in order[index + 1 :] if held[j - low][region].any()), default=0.0
            )
            reach = math.ceil(near + 0.75 * diameter) + 2
            margin = reach + math.ceil(diameter / 2.0) + 2
            mine = boxes[i][region & held[i]]
            y0, y1, x0, x1 = mine[:, 0].min(), mine[:, 1].max(), mine[:, 2].min(), mine[:, 3].max()
            box = (max(y0 - margin, 0), min(y1 + margin, h), max(x0 - margin, 0), min(x1 + margin, w))
            result.append(_Piece(k, diameter, reach, tuple(map(int, box)), tiles, label))
    return ids, result


def slabs(frame: Frame, signed_coc: np.ndarray) -> list[Slab]:
    """The frame split into slab pieces, far to near (the order they are composited in), each
    with its full-resolution fill (the reference's; :func:`apply_dof` makes its own).

    Args:
        frame: (H, W) premultiplied colour, depth and coverage.
        signed_coc: (H, W) float32 CoC diameters in pixels, negative in front of the focus.
    """
    ids, pieces = _pieces(frame, signed_coc)
    rgb, alpha = _planes(frame)
    result = []
    for piece in pieces:
        own, hidden, both = _split_piece(rgb, alpha, ids, piece)
        if both:
            _fill(own, hidden, piece.reach, 1)
        y0, y1, x0, x1 = piece.box
        mine = (ids[y0:y1, x0:x1] == piece.k) & _on_tiles(piece, y1 - y0, x1 - x0)
        result.append(Slab(own, piece.diameter, mine, piece.box))
    return result


def _planes(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(frame.rgb, np.float32), np.ascontiguousarray(frame.alpha, np.float32)


def _on_tiles(piece: _Piece, h: int, w: int) -> np.ndarray:
    """(h, w) bool: the pixels of ``piece``'s box on its tiles."""
    y0, _, x0, _ = piece.box
    ty = (np.arange(y0, y0 + h) // TILE_PX)[:, None]
    tx = (np.arange(x0, x0 + w) // TILE_PX)[None, :]
    return piece.tiles[ty, tx] == piece.label


def _split_piece(
    rgb: np.ndarray, alpha: np.ndarray, ids: np.ndarray, piece: _Piece, factor: int = 1
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The piece's own premultiplied colour and coverage and the coverage of the nearer slabs'
    pixels over its box, block-averaged by ``factor`` (the box reflected up to a multiple of
    it, as OpenCV's BORDER_REFLECT pads); and whether both have any coverage."""
    y0, y1, x0, x1 = piece.box
    h, w = -(-(y1 - y0) // factor), -(-(x1 - x0) // factor)
    own = np.empty((h, w, 4), np.float32)
    hidden = np.empty((h, w), np.float32)
    both = _split(rgb, alpha, ids, piece.tiles, np.int32(piece.label), np.int32(TILE_PX), np.int32(piece.k),
                  y0, y1, x0, x1, factor, own, hidden)  # fmt: skip
    return own, hidden, both


@njit(parallel=True, cache=True, nogil=True)
def _split(rgb, alpha, ids, tiles, label, tile, k, y0, y1, x0, x1, factor, own, hidden):  # pragma: no cover
    """Over the box, in blocks of ``factor`` squared (indices past the box's end reflected):
    own = mean premultiplied rgba of the pixels with ids == k on tiles == label, else 0;
    hidden = mean coverage of the pixels with ids < k; whether both have any coverage."""
    h, w = own.shape[:2]
    bh, bw = y1 - y0, x1 - x0
    scale = np.float32(1.0 / (factor * factor))
    any_own = np.zeros(h, np.bool_)
    any_hidden = np.zeros(h, np.bool_)
    if factor == 1:
        for y in prange(h):
            seen_own = False
            seen_hidden = False
            for x in range(w):
                i = ids[y0 + y, x0 + x]
                mine = i == k and tiles[(y0 + y) // tile, (x0 + x) // tile] == label
                keep = np.float32(1.0) if mine else np.float32(0.0)
                for c in range(3):
                    own[y, x, c] = rgb[y0 + y, x0 + x, c] * keep
                own[y, x, 3] = alpha[y0 + y, x0 + x] * keep
                hidden[y, x] = alpha[y0 + y, x0 + x] if i < k else np.float32(0.0)
                seen_own |= own[y, x, 3] > 0
                seen_hidden |= hidden[y, x] > 0
            any_own[y] = seen_own
            any_hidden[y] = seen_hidden
        return any_own.any() and any_hidden.any()
    for sy in prange(h):
        seen_own = False
        seen_hidden = False
        for sx in range(w):
            r = g = b = a = n = np.float32(0.0)
            for dy in range(factor):
                y = sy * factor + dy
                y = y0 + (y if y < bh else 2 * bh - 1 - y)
                for dx in range(factor):
                    x = sx * factor + dx
                    x = x0 + (x if x < bw else 2 * bw - 1 - x)
                    i = ids[y, x]
                    if i == k and tiles[y // tile, x // tile] == label:
                        r += rgb[y, x, 0]
                        g += rgb[y, x, 1]
                        b += rgb[y, x, 2]
                        a += alpha[y, x]
                    elif i < k:
                        n += alpha[y, x]
            own[sy, sx, 0] = r * scale
            own[sy, sx, 1] = g * scale
            own[sy, sx, 2] = b * scale
            own[sy, sx, 3] = a * scale
            hidden[sy, sx] = n * scale
            seen_own |= a > 0
            seen_hidden |= n > 0
        any_own[sy] = seen_own
        any_hidden[sy] = seen_hidden
    return any_own.any() and any_hidden.any()


def _fill(own: np.ndarray, hidden: np.ndarray, reach: int, factor: int) -> None:
    """Extend ``own`` (h, w, 4) behind the nearer slabs' pixels (coverage ``hidden``, (h, w))
    within ``reach`` pixels of its own with the mean colour of its own pixels in that square
    (the fill's coverage = theirs), in place. With ``factor`` > 1 the mean is taken at that
    reduced resolution (``reach`` / ``factor`` reduced pixels, at least
    :data:`FILL_REACH_PX`) and sampled back bilinearly."""
    if factor == 1:
        size = 2 * reach + 1
        box = cv2.blur(own, (size, size), borderType=cv2.BORDER_REFLECT)
        _add_fill(own, box, hidden, np.float32(1e-3 / (size * size)))
        return
    small = _shrink(own, factor)
    size = 2 * math.ceil(reach / factor) + 1
    box = cv2.blur(small, (size, size), borderType=cv2.BORDER_REFLECT)
    _add_fill_upsampled(own, box, hidden, float(factor), np.float32(1e-3 / (size * size)))


def _fill_factor(reach: int) -> int:
    """The reduction of the fast path's fill for this reach (:data:`FILL_REACH_PX`)."""
    factor = 1
    while reach >= 2 * factor * FILL_REACH_PX:
        factor *= 2
    return factor


def _shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` reflected up to a multiple of ``factor``, then averaged in blocks."""
    h, w = image.shape[:2]
    bottom, right = -h % factor, -w % factor
    if bottom or right:
        image = cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REFLECT)
    size = (image.shape[1] // factor, image.shape[0] // factor)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@njit(parallel=True, cache=True, nogil=True)
def _add_fill(own, box, hidden, threshold):  # pragma: no cover - numba
    """own += box * hidden / box coverage, where that coverage is above ``threshold``."""
    h, w = hidden.shape
    for y in prange(h):
        for x in range(w):
            a = box[y, x, 3]
            if hidden[y, x] > 0 and a > threshold:
                scale = hidden[y, x] / a
                for c in range(4):
                    own[y, x, c] += box[y, x, c] * scale


@njit(cache=True, nogil=True)
def _bilinear(n, ns, factor):  # pragma: no cover - numba
    """For each of ``n`` cells, the two cells of a grid ``factor`` times coarser (``ns`` cells,
    centres aligned, edges clamped) it samples and the weight of the second."""
    first = np.empty(n, np.int64)
    second = np.empty(n, np.int64)
    weight = np.empty(n, np.float32)
    for i in range(n):
        s = min(max((i + 0.5) / factor - 0.5, 0.0), ns - 1.0)
        i0 = min(int(s), ns - 2) if ns > 1 else 0
        first[i] = i0
        second[i] = i0 + 1 if ns > 1 else 0
        weight[i] = np.float32(s - i0) if ns > 1 else np.float32(0.0)
    return first, second, weight


@njit(parallel=True, cache=True, nogil=True)
def _add_fill_upsampled(own, box, hidden, factor, threshold):  # pragma: no cover - numba
    """:func:`_add_fill` with ``box`` at 1/``factor`` resolution, sampled bilinearly."""
    h, w = hidden.shape
    ya, yb, fy = _bilinear(h, box.shape[0], factor)
    xa, xb, fx = _bilinear(w, box.shape[1], factor)
    for y in prange(h):
        for x in range(w):
            if hidden[y, x] <= 0:
                continue
            w00 = (1 - fy[y]) * (1 - fx[x])
            w01 = (1 - fy[y]) * fx[x]
            w10 = fy[y] * (1 - fx[x])
            w11 = fy[y] * fx[x]
            p, q, r, s = box[ya[y], xa[x]], box[ya[y], xb[x]], box[yb[y], xa[x]], box[yb[y], xb[x]]
            a = w00 * p[3] + w01 * q[3] + w10 * r[3] + w11 * s[3]
            if a > threshold:
                scale = hidden[y, x] / a
                for c in range(4):
                    own[y, x, c] += (w00 * p[c] + w01 * q[c] + w10 * r[c] + w11 * s[c]) * scale


@njit(parallel=True, cache=True, nogil=True)
def _over(rgb, alpha, layer, y0, x0, faint):  # pragma: no cover - numba
    """(rgb, alpha) = layer over them (premultiplied, in place; the layer's top left at (y0,
    x0)); layer pixels with coverage under ``faint`` are skipped (the filters' round-off far
    from a slab)."""
    h, w = layer.shape[:2]
    for y in prange(h):
        for x in range(w):
            a = layer[y, x, 3]
            if a < faint:
                continue
            rest = np.float32(1.0) - a
            for c in range(3):
                rgb[y0 + y, x0 + x, c] = layer[y, x, c] + rest * rgb[y0 + y, x0 + x, c]
            alpha[y0 + y, x0 + x] = a + rest * alpha[y0 + y, x0 + x]


def disc_kernel(diameter: float) -> np.ndarray:
    """(K, K) float32 disc of ``diameter`` pixels (anti-aliased edge), summing to 1; K odd.

    >>> disc_kernel(0.5).tolist()
    [[1.0]]
    >>> float(disc_kernel(9.0).sum()).__round__(6), disc_kernel(9.0).shape
    (1.0, (11, 11))
    """
    radius = diameter / 2.0
    if radius < SHARP_PX / 2.0:
        return np.ones((1, 1), np.float32)
    half = math.ceil(radius + 0.5)
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    kernel = np.clip(radius + 0.5 - np.hypot(x, y), 0.0, 1.0)
    return (kernel / kernel.sum()).astype(np.float32)


def _blur_factor(diameter: float, h: int, w: int) -> int:
    """The reduction a disc of ``diameter`` on an (h, w) box is blurred at: discs wider than
    :data:`REDUCE_ABOVE_PX` at 1/2^k resolution (at least 8 reduced pixels across the box)."""
    factor = 1
    while diameter / (2 * factor) >= REDUCE_ABOVE_PX / 2 and min(h, w) // (2 * factor) >= 8:
        factor *= 2
    return factor


def _layer(rgb: np.ndarray, alpha: np.ndarray, ids: np.ndarray, piece: _Piece) -> tuple[np.ndarray, int]:
    """The fast path's blurred piece (premultiplied rgba over its box) and the factor it is
    reduced by: split (block-averaged straight from the frame when reduced), filled (at the
    blur's reduction, or at :func:`_fill_factor`'s), blurred with the slab's disc."""
    y0, y1, x0, x1 = piece.box
    factor = 1 if piece.diameter < SHARP_PX else _blur_factor(piece.diameter, y1 - y0, x1 - x0)
    own, hidden, both = _split_piece(rgb, alpha, ids, piece, factor)
    if both:
        if factor == 1:
            _fill(own, hidden, piece.reach, _fill_factor(piece.reach))
        else:
            _fill(own, hidden, math.ceil(piece.reach / factor), 1)
    if piece.diameter < SHARP_PX:
        return own, 1
    kernel = disc_kernel(piece.diameter / factor)
    return cv2.filter2D(own, -1, kernel, borderType=cv2.BORDER_REFLECT), factor


@njit(parallel=True, cache=True, nogil=True)
def _over_upsampled(rgb, alpha, small, y0, y1, x0, x1, factor, faint):  # pragma: no cover - numba
    """:func:`_over` of ``small`` (premultiplied rgba at 1/``factor`` resolution over the box
    (y0, y1, x0, x1), sampled bilinearly with pixel centres aligned, edges clamped)."""
    h, w = y1 - y0, x1 - x0
    ya, yb, fy = _bilinear(h, small.shape[0], factor)
    xa, xb, fx = _bilinear(w, small.shape[1], factor)
    for y in prange(h):
        for x in range(w):
            w00 = (1 - fy[y]) * (1 - fx[x])
            w01 = (1 - fy[y]) * fx[x]
            w10 = fy[y] * (1 - fx[x])
            w11 = fy[y] * fx[x]
            p, q, r, s = small[ya[y], xa[x]], small[ya[y], xb[x]], small[yb[y], xa[x]], small[yb[y], xb[x]]
            a = w00 * p[3] + w01 * q[3] + w10 * r[3] + w11 * s[3]
            if a < faint:
                continue
            rest = np.float32(1.0) - a
            for c in range(3):
                v = w00 * p[c] + w01 * q[c] + w10 * r[c] + w11 * s[c]
                rgb[y0 + y, x0 + x, c] = v + rest * rgb[y0 + y, x0 + x, c]
            alpha[y0 + y, x0 + x] = a + rest * alpha[y0 + y, x0 + x]


def _composite(layers: Iterable[tuple[np.ndarray, int, tuple[int, int, int, int]]], frame: Frame) -> Frame:
    """Premultiplied (rgba, factor it is reduced by, box) layers, far to near, each over the
    ones before (layer pixels with coverage under :data:`FAINT` are the filters' round-off:
    skipped)."""
    rgb = np.zeros(frame.rgb.shape, np.float32)
    alpha = np.zeros(frame.alpha.shape, np.float32)
    faint = np.float32(FAINT)
    for layer, factor, (y0, y1, x0, x1) in layers:
        layer = np.ascontiguousarray(layer, np.float32)
        if factor == 1:
            _over(rgb, alpha, layer, y0, x0, faint)
        else:
            _over_upsampled(rgb, alpha, layer, y0, y1, x0, x1, float(factor), faint)
    return Frame(rgb, frame.depth, alpha)


def apply_dof(frame: Frame, signed_coc: np.ndarray) -> Frame:
    """The frame as a thin lens with these circles of confusion images it (fast path).

    Args:
        frame: (H, W) premultiplied sRGB colour, camera z in metres, coverage (float32).
        signed_coc: (H, W) float32 CoC diameters in output pixels, negative in front of the
            focus distance (:func:`signed_coc`).

    Returns:
        A new frame: colour and coverage blurred; depth unchanged (the sharp z). Pixels in the
        sharp slab with nothing blurred within reach are bit for bit the input's.
    """
    ids, pieces = _pieces(frame, signed_coc)
    rgb, alpha = _planes(frame)
    return _composite(((*_layer(rgb, alpha, ids, piece), piece.box) for piece in pieces), frame)


def apply_dof_reference(frame: Frame, signed_coc: np.ndarray) -> Frame:
    """:func:`apply_dof` the slow, obviously right way: every pixel of a slab scatters its
    premultiplied colour and coverage over a disc of its own CoC (not the slab's mean; fill
    pixels use the slab's), reflected at the frame's borders, full resolution, float64; the
    slabs are then composited far to near. For small frames."""
    h, w = frame.alpha.shape
    diameters = np.abs(signed_coc)
    layers = []
    full = (0, h, 0, w)
    for slab in slabs(frame, signed_coc):
        y0, y1, x0, x1 = slab.box
        source = np.zeros((h, w, 4), np.float64)
        source[y0:y1, x0:x1] = slab.rgba
        own = np.zeros((h, w), bool)
        own[y0:y1, x0:x1] = slab.own
        if slab.diameter < SHARP_PX:
            layers.append((source.astype(np.float32), 1, full))
            continue
        pad = disc_kernel(max(float(diameters[own].max()), slab.diameter)).shape[0] // 2
        canvas = np.zeros((h + 2 * pad, w + 2 * pad, 4), np.float64)
        for y, x in zip(*np.nonzero(source[..., 3] > 0), strict=True):
            kernel = disc_kernel(float(diameters[y, x]) if own[y, x] else slab.diameter)
            half = kernel.shape[0] // 2
            top, left = pad + y - half, pad + x - half
            canvas[top : top + kernel.shape[0], left : left + kernel.shape[1]] += (
                kernel[..., None] * source[y, x]
            )
        out = _fold(_fold(canvas, pad, h, axis=0), pad, w, axis=1)
        layers.append((out.astype(np.float32), 1, full))
    return _composite(layers, frame)


def _fold(canvas: np.ndarray, pad: int, n: int, *, axis: int) -> np.ndarray:
    """Sum a canvas padded by ``pad`` on ``axis`` back onto its ``n`` cells, each padding
    cell onto the cell OpenCV's BORDER_REFLECT (``fedcba|abcdefgh|hgfedcb``) reads it from."""
    index = np.array([_reflect(i - pad, n) for i in range(n + 2 * pad)])
    shape = list(canvas.shape)
    shape[axis] = n
    out = np.zeros(shape, canvas.dtype)
    np.add.at(out, (slice(None),) * axis + (index,), canvas)
    return out


def _reflect(i: int, n: int) -> int:
    """BORDER_REFLECT of index ``i`` into ``0..n-1``."""
    while not 0 <= i < n:
        i = -1 - i if i < 0 else 2 * n - 1 - i
    return i


def signed_coc(depth: np.ndarray, camera: Camera, *, fstop: float, focus_m: float) -> np.ndarray:
    """(H, W) float32 CoC diameters in ``camera``'s pixels for camera-z ``depth`` (metres),
    negative in front of ``focus_m``; the lens is the camera's focal length and filmback."""
    coc = coc_diameter_px(
        depth,
        focal_mm=camera.focal_mm,
        fstop=fstop,
        focus_m=focus_m,
        px_per_mm=camera.fx / camera.focal_mm,
    )
    return np.where(depth < focus_m, -coc, coc).astype(np.float32)


class LensRenderer:
    """A :class:`~stillcam.render.frame.Renderer` that renders with ``inner``, fills holes
    (with ``fill``) and blurs with a thin lens of ``fstop`` focused at ``focus_m`` metres; a
    camera's own :attr:`~stillcam.camera.camera.Camera.focus_m` and ``fstop`` (a focus pull,
    keyframed lens values) take their place for its frame.

    Not a :class:`~stillcam.render.frame.DisplayRenderer`: frames go through the float
    :class:`Frame` (:func:`~stillcam.output.frames.display_frame` takes the general path).
    """

    def __init__(self, inner: Renderer, *, fstop: float, focus_m: float, fill: bool) -> None:
        self.inner = inner
        self.fstop = fstop
        self.focus_m = focus_m
        self.fill = fill

    def lens(self, camera: Camera) -> tuple[float, float]:
        """(f-number, focus metres) of ``camera``'s frame."""
        return (
            camera.fstop if camera.fstop is not None else self.fstop,
            camera.focus_m if camera.focus_m is not None else self.focus_m,
        )

    def render(self, scene: Scene, camera: Camera) -> Frame:
        frame = self.inner.render(scene, camera)
        if self.fill:
            frame = fill_holes(frame)
        fstop, focus_m = self.lens(camera)
        coc = signed_coc(frame.depth, camera, fstop=fstop, focus_m=focus_m)
        return apply_dof(frame, coc)


def focus_distance(focus: Focus, source: Camera, z: np.ndarray, shot: ShotSettings) -> float:
    """``--focus`` in metres: as given, the moves' subject distance (``"subject"``), or the
    photo's depth at a pixel ``(x, y)`` of the first output frame, picked like ``--target``.

    Args:
        focus: :func:`~stillcam.render.lens.parse_focus`'s result (one distance, not a pull).
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.
        shot: the move options (output size, ``--target``, ``--target-depth``).
    """
    if isinstance(focus, float):
        return focus
    if focus != "subject":
        shot = replace(shot, target=f"{focus[0]!r},{focus[1]!r}", target_depth=None)
    width, height = shot.output_size(source.width, source.height)
    return float(move_context(fit_output_camera(source, width, height), source, z, shot).subject_depth)


def focus_pulled(
    path: CameraPath, settings: RenderSettings, source: Camera, z: np.ndarray, shot: ShotSettings
) -> CameraPath:
    """``path`` with ``--focus A..B``'s rack focus on its cameras (each camera's ``focus_m``,
    :func:`~stillcam.camera.focus.racked_path`, over the ``--rack`` frames); ``path`` itself
    without a pull. ``path`` should be the whole shot, so that ``--frames`` renders the same
    focus.

    Raises:
        InputError: the ``--rack`` frames outside the shot, or the shot file pulls focus too.
    """
    focus = parse_focus(settings.focus)
    if not isinstance(focus, RackFocus):
        return path
    start, end = (focus_distance(f, source, z, shot) for f in (focus.start, focus.end))
    span = parse_rack(settings.rack, settings.focus) if settings.rack is not None else None
    return racked_path(path, start, end, span)


def depth_of_field_on(settings: RenderSettings, cameras: Sequence[Camera]) -> bool:
    """Whether frames get depth of field: ``--fstop`` above 0, or a keyframed f-stop."""
    return settings.depth_of_field or any(camera.fstop is not None for camera in cameras)


def with_depth_of_field(
    renderer: Renderer,
    settings: RenderSettings,
    source: Camera,
    z: np.ndarray,
    shot: ShotSettings,
    *,
    fill: bool,
    cameras: Sequence[Camera] = (),
) -> Renderer:
    """``renderer`` itself without depth of field (:func:`depth_of_field_on` of ``cameras``,
    the shot's), else a :class:`LensRenderer` over it at ``--fstop`` (or the first keyframed
    f-stop) focused at :func:`focus_distance` (a pull's start; frames filled first with
    ``fill``)."""
    if not depth_of_field_on(settings, cameras):
        return renderer
    fstop = settings.fstop if settings.depth_of_field else next(c.fstop for c in cameras if c.fstop)
    assert fstop is not None
    focus = parse_focus(settings.focus)
    focus_m = focus_distance(focus.start if isinstance(focus, RackFocus) else focus, source, z, shot)
    return LensRenderer(renderer, fstop=fstop, focus_m=focus_m, fill=fill)
