"""The CPU renderer: numba, multi-threaded, same rules as the reference renderer.

Design: vertices are projected in parallel; each triangle's band range is found in parallel
(triangles off the frame or through the near plane are dropped there); triangles are binned
into horizontal bands of BAND_ROWS rows (counting sort, triangle order kept); bands are
rasterised in parallel (each thread owns its rows, so no locks and a deterministic result),
writing per-pixel depth and perspective-correct texture coordinates (deferred) into float32
buffers that are kept between frames; a final parallel pass samples the full-resolution
texture bilinearly once per covered pixel (twice where a soft edge lets the surface behind
show through). ``render_display`` fuses that pass with the hole fill and the composite, row by
row, with the same arithmetic (so the same bytes) and no float frame in between. Bands and rows
are handed to threads dynamically (:func:`_dynamic`).

The background layer's triangles come last (``Scene.background_triangles``) and are mostly
hidden behind the foreground: once a band has drawn its foreground, it keeps the farthest
foreground depth of every TILE_COLS-column tile, and a background triangle that is behind it
in every tile its bounding box touches is not rasterised at all (exact: each of its pixels
would fail the depth test; not with soft edges, which keep the surface behind).

Deviation from the reference: none in the rules; arithmetic differs in the last bits (order
of operations; z, u, v stored as float32), so on near-exact depth ties a different triangle
can win.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numba
import numpy as np
from numba import njit, prange

from ..camera.camera import Camera
from ..scene.mesh import Scene
from ..scene.texture import TEXTURE_MAX
from .frame import (
    BBOX_EPS,
    EDGE_EPS_PX,
    NEAR_CLIP_M,
    Frame,
    RenderSettings,
    downsample,
)

BAND_ROWS = 16
#: Columns per tile of a band's farthest-foreground depth (background layer culling).
TILE_COLS = 16
#: Runs of triangles binned in parallel (fixed, so the result never depends on threads).
BIN_CHUNKS = 64
#: Rows handed out at a time by the display pass (:func:`_dynamic`).
SHADE_CHUNK_ROWS = 8


@njit(parallel=True, cache=True, nogil=True)
def _project(vertices, uvs, world_to_camera, fx, fy, cx, cy, out):  # pragma: no cover - numba
    """Per vertex into ``out`` (N, 6) float64: pixel x, pixel y, camera z, and the
    perspective-interpolated 1/z, u/z, v/z (so no triangle divides per vertex)."""
    m = world_to_camera
    for i in prange(vertices.shape[0]):
        x, y, z = np.float64(vertices[i, 0]), np.float64(vertices[i, 1]), np.float64(vertices[i, 2])
        cxw = m[0, 0] * x + m[0, 1] * y + m[0, 2] * z + m[0, 3]
        cyw = m[1, 0] * x + m[1, 1] * y + m[1, 2] * z + m[1, 3]
        czw = m[2, 0] * x + m[2, 1] * y + m[2, 2] * z + m[2, 3]
        safe = czw if abs(czw) > 1e-12 else 1e-12
        w = 1.0 / safe
        out[i, 0] = fx * cxw * w + cx
        out[i, 1] = fy * cyw * w + cy
        out[i, 2] = czw
        out[i, 3] = w
        out[i, 4] = np.float64(uvs[i, 0]) * w
        out[i, 5] = np.float64(uvs[i, 1]) * w


@njit(parallel=True, cache=True, nogil=True)
def _band_ranges(screen, triangles, width, height, band, near, first, last):  # pragma: no cover - numba
    """Per triangle, the first and last band it may cover; (1, 0) when it is not drawn
    (a vertex nearer than ``near``, or its bounding box entirely off the frame)."""
    for t in prange(triangles.shape[0]):
        i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        first[t], last[t] = 1, 0
        if min(screen[i0, 2], min(screen[i1, 2], screen[i2, 2])) < near:
            continue
        x0, x1, x2 = screen[i0, 0], screen[i1, 0], screen[i2, 0]
        if (
            math.ceil(-BBOX_EPS + min(x0, min(x1, x2))) > width - 1
            or math.floor(BBOX_EPS + max(x0, max(x1, x2))) < 0
        ):
            continue
        y0, y1, y2 = screen[i0, 1], screen[i1, 1], screen[i2, 1]
        ya = max(math.ceil(-BBOX_EPS + min(y0, min(y1, y2))), 0)
        yb = min(math.floor(BBOX_EPS + max(y0, max(y1, y2))), height - 1)
        if ya <= yb:
            first[t], last[t] = ya // band, yb // band


@njit(parallel=True, cache=True, nogil=True)
def _bin(first, last, n_bands, chunks):  # pragma: no cover - numba
    """Counting sort of triangles into bands, triangle order kept within a band; in parallel
    over ``chunks`` consecutive runs of triangles (counts per chunk and band, then an
    exclusive prefix sum in band-major, chunk-minor order, so the result is the same for any
    thread count)."""
    n = first.shape[0]
    size = (n + chunks - 1) // chunks
    counts = np.zeros((n_bands, chunks), np.int64)
    for c in prange(chunks):
        for t in range(c * size, min(n, (c + 1) * size)):
            for b in range(first[t], last[t] + 1):
                counts[b, c] += 1
    offsets = np.zeros(n_bands + 1, np.int64)
    starts = np.empty((n_bands, chunks), np.int64)
    total = 0
    for b in range(n_bands):
        offsets[b] = total
        for c in range(chunks):
            starts[b, c] = total
            total += counts[b, c]
    offsets[n_bands] = total
    ids = np.empty(total, np.int32)
    for c in prange(chunks):
        fill = starts[:, c].copy()
        for t in range(c * size, min(n, (c + 1) * size)):
            for b in range(first[t], last[t] + 1):
                ids[fill[b]] = t
                fill[b] += 1
    return offsets, ids


@njit(cache=True, nogil=True)
def _hidden(tile_far, xa, xb, w0, w1, w2, e0, e1, e2):  # pragma: no cover - numba
    """Whether a triangle with vertex 1/z ``w0..w2`` is behind the foreground in every tile of
    columns xa..xb: no pixel of it, edge tolerances ``e0..e2`` (barycentrics >= e) included,
    can be nearer than its largest 1/z plus the tolerances' share of its range."""
    lo, hi = min(w0, min(w1, w2)), max(w0, max(w1, w2))
    bound = hi + (abs(e0) + abs(e1) + abs(e2)) * (hi - lo)
    bound += 1e-9 * abs(bound)
    for j in range(xa // TILE_COLS, xb // TILE_COLS + 1):
        if not tile_far[j] > bound:
            return False
    return True


@njit(cache=True, nogil=True)
def _draw(
    screen, alphas, triangles, t, width, r0, r1, front, back, keep_back, tile_far, cull
):  # pragma: no cover
    """Rasterise triangle ``t`` into rows r0..r1 of ``front`` (1/z, u, v, alpha per pixel,
    float32; 1/z = 0 where empty) and, with ``keep_back``, ``back`` (1/z, u, v of the next
    surface). The depth test compares 1/z, so a pixel that loses divides nothing. With
    ``cull``, a triangle behind ``tile_far`` (:func:`_hidden`) is not drawn."""
    i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
    x0, y0 = screen[i0, 0], screen[i0, 1]
    x1, y1 = screen[i1, 0], screen[i1, 1]
    x2, y2 = screen[i2, 0], screen[i2, 1]
    area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)
    if abs(area) < 1e-12:
        return
    if area < 0:
        i1, i2 = i2, i1
        x1, y1, x2, y2 = x2, y2, x1, y1
        area = -area
    xa = max(math.ceil(-BBOX_EPS + min(x0, min(x1, x2))), 0)
    xb = min(math.floor(BBOX_EPS + max(x0, max(x1, x2))), width - 1)
    ya = max(math.ceil(-BBOX_EPS + min(y0, min(y1, y2))), r0)
    yb = min(math.floor(BBOX_EPS + max(y0, max(y1, y2))), r1)
    if xa > xb or ya > yb:
        return
    inv_area = 1.0 / area
    # Barycentric b_k = (A_k x + B_k y + C_k) / area for the edge opposite vertex k.
    a0, b0c, c0 = -(y2 - y1), (x2 - x1), -(x2 - x1) * y1 + (y2 - y1) * x1
    a1, b1c, c1 = -(y0 - y2), (x0 - x2), -(x0 - x2) * y2 + (y0 - y2) * x2
    a2, b2c, c2 = -(y1 - y0), (x1 - x0), -(x1 - x0) * y0 + (y1 - y0) * x0
    e0 = -EDGE_EPS_PX * math.sqrt(a0 * a0 + b0c * b0c) * inv_area
    e1 = -EDGE_EPS_PX * math.sqrt(a1 * a1 + b1c * b1c) * inv_area
    e2 = -EDGE_EPS_PX * math.sqrt(a2 * a2 + b2c * b2c) * inv_area
    w0, w1, w2 = screen[i0, 3], screen[i1, 3], screen[i2, 3]
    if cull and _hidden(tile_far, xa, xb, w0, w1, w2, e0, e1, e2):
        return
    u0, u1, u2 = screen[i0, 4], screen[i1, 4], screen[i2, 4]
    v0, v1, v2 = screen[i0, 5], screen[i1, 5], screen[i2, 5]
    d0, d1, d2 = a0 * inv_area, a1 * inv_area, a2 * inv_area  # steps along a row
    for py in range(ya, yb + 1):
        fy, fx = np.float64(py), np.float64(xa)
        l0 = (a0 * fx + b0c * fy + c0) * inv_area
        l1 = (a1 * fx + b1c * fy + c1) * inv_area
        l2 = (a2 * fx + b2c * fy + c2) * inv_area
        for px in range(xa, xb + 1):
            # One combined test per pixel (tiny triangles: a per-edge early exit mispredicts).
            inside = (l0 >= e0) & (l1 >= e1) & (l2 >= e2)
            w = l0 * w0 + l1 * w1 + l2 * w2
            if inside and w > (back[py, px, 0] if keep_back else front[py, px, 0]):
                z = 1.0 / w
                u = (l0 * u0 + l1 * u1 + l2 * u2) * z
                v = (l0 * v0 + l1 * v1 + l2 * v2) * z
                if w > front[py, px, 0]:
                    if keep_back:
                        for k in range(3):
                            back[py, px, k] = front[py, px, k]
                        front[py, px, 3] = (
                            l0 * alphas[i0] * w0 + l1 * alphas[i1] * w1 + l2 * alphas[i2] * w2
                        ) * z
                    front[py, px, 0] = w
                    front[py, px, 1] = u
                    front[py, px, 2] = v
                else:
                    back[py, px, 0] = w
                    back[py, px, 1] = u
                    back[py, px, 2] = v
            l0 += d0
            l1 += d1
            l2 += d2


@njit(cache=True, nogil=True)
def _tile_far(front, r0, r1, tile_far):  # pragma: no cover - numba
    """The smallest 1/z (farthest surface; 0 where a pixel is empty) of rows r0..r1 of
    ``front`` in each tile of TILE_COLS columns, into ``tile_far``."""
    width = front.shape[1]
    for j in range(tile_far.shape[0]):
        far = np.float32(np.inf)
        for y in range(r0, r1 + 1):
            for x in range(j * TILE_COLS, min((j + 1) * TILE_COLS, width)):
                far = min(far, front[y, x, 0])
        tile_far[j] = far


@njit(parallel=True, cache=True, nogil=True)
def _rasterize(
    screen, alphas, triangles, offsets, ids, front, back, band, keep_back, n_front
):  # pragma: no cover
    """Each band (in parallel) clears its rows of the reused buffers, then draws its
    triangles in order; triangles from ``n_front`` on (the background layer) are culled
    against the band's foreground, tile by tile (not with ``keep_back``)."""
    height, width = front.shape[0], front.shape[1]
    for b in prange(offsets.shape[0] - 1):
        r0 = b * band
        r1 = min(r0 + band, height) - 1
        for y in range(r0, r1 + 1):
            for x in range(width):
                front[y, x, 0] = 0.0
                front[y, x, 3] = 1.0
                if keep_back:
                    back[y, x, 0] = 0.0
        tile_far = np.empty((width + TILE_COLS - 1) // TILE_COLS, np.float32)
        cull = False
        for k in range(offsets[b], offsets[b + 1]):
            t = ids[k]
            if t >= n_front and not cull and not keep_back:  # the foreground is all drawn
                _tile_far(front, r0, r1, tile_far)
                cull = True
            _draw(screen, alphas, triangles, t, width, r0, r1, front, back, keep_back, tile_far, cull)


@njit(cache=True, nogil=True, inline="always")
def _texel(value):  # pragma: no cover - numba
    # Through int32: LLVM's unsigned 16-bit to float conversion was measured 2x slower.
    return np.float32(np.int32(value))


@njit(cache=True, nogil=True, inline="always")
def _sample3(texels, th, tw, u, v):  # pragma: no cover - numba
    """Bilinear sample (r, g, b) in [0, 1] of an (H, W, 3) = (``th``, ``tw``, 3) uint16 texture
    (scene.texture), given flat as ``texels``, at pixel coordinates (u, v), in float32
    arithmetic (measured 1.5x faster than float64 here; error ~1e-7). Unsigned flat offsets:
    no negative-index wrap per load (measured 1.2x faster than indexing the 3-D array)."""
    u = min(max(u, np.float32(0.0)), np.float32(tw - 1))
    v = min(max(v, np.float32(0.0)), np.float32(th - 1))
    x0 = min(int(u), tw - 2)
    y0 = min(int(v), th - 2)
    fx, fy = u - np.float32(x0), v - np.float32(y0)
    gx, gy = np.float32(1.0) - fx, np.float32(1.0) - fy
    scale = np.float32(1.0 / TEXTURE_MAX)
    w00, w01, w10, w11 = gx * gy * scale, fx * gy * scale, gx * fy * scale, fx * fy * scale
    i = np.uint64((y0 * tw + x0) * 3)  # texel (y0, x0); j: (y0 + 1, x0)
    j = i + np.uint64(tw * 3)
    one, two, three, four, five = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4), np.uint64(5)
    r = (_texel(texels[i]) * w00 + _texel(texels[i + three]) * w01) + (
        _texel(texels[j]) * w10 + _texel(texels[j + three]) * w11
    )
    g = (_texel(texels[i + one]) * w00 + _texel(texels[i + four]) * w01) + (
        _texel(texels[j + one]) * w10 + _texel(texels[j + four]) * w11
    )
    b = (_texel(texels[i + two]) * w00 + _texel(texels[i + five]) * w01) + (
        _texel(texels[j + two]) * w10 + _texel(texels[j + five]) * w11
    )
    return r, g, b


@njit(cache=True, nogil=True, inline="always")
def _flat(texture):  # pragma: no cover - numba
    """The texture's texels as one flat array (C-contiguous: no copy), with its height, width."""
    th, tw = texture.shape[0], texture.shape[1]
    return texture.reshape(th * tw * 3), th, tw


@njit(cache=True, nogil=True, inline="always")
def _shade_px(texels, th, tw, front, back, keep_back, x):  # pragma: no cover - numba
    """Pixel ``x`` of one covered row (1/z > 0): premultiplied (r, g, b) and alpha
    (``texels``, ``th``, ``tw``: :func:`_flat`)."""
    one = np.float32(1.0)
    r, g, b = _sample3(texels, th, tw, front[x, 1], front[x, 2])
    if not keep_back:
        return r, g, b, one
    a = min(max(front[x, 3], np.float32(0.0)), one)
    behind = a < one and back[x, 0] > 0.0
    if behind:
        r2, g2, b2 = _sample3(texels, th, tw, back[x, 1], back[x, 2])
        r, g, b = a * r + (one - a) * r2, a * g + (one - a) * g2, a * b + (one - a) * b2
    else:
        r, g, b = a * r, a * g, a * b
    return r, g, b, one if behind else a


@njit(cache=True, nogil=True)
def _shade_row(texels, th, tw, front, back, keep_back, rgb, alpha, depth):  # pragma: no cover - numba
    """One row: ``front``/``back`` (W, 4)/(W, 3) from the rasteriser into ``rgb`` (W, 3)
    premultiplied, ``alpha`` and ``depth`` (W,) (uncovered pixels get 0, 0 and inf)."""
    one = np.float32(1.0)
    for x in range(front.shape[0]):
        inverse = front[x, 0]
        if not inverse > 0.0:
            depth[x] = np.inf
            rgb[x, 0] = rgb[x, 1] = rgb[x, 2] = 0.0
            alpha[x] = 0.0
            continue
        depth[x] = one / inverse
        rgb[x, 0], rgb[x, 1], rgb[x, 2], alpha[x] = _shade_px(texels, th, tw, front, back, keep_back, x)


@njit(parallel=True, cache=True, nogil=True)
def _shade(texture, front, back, keep_back, rgb, alpha, depth):  # pragma: no cover - numba
    """Sample the texture at every covered pixel into ``rgb`` (premultiplied), ``alpha`` and
    ``depth`` (written in full)."""
    texels, th, tw = _flat(texture)
    for y in prange(front.shape[0]):
        behind = back[min(np.int64(y), back.shape[0] - 1)]  # back is (1, 1, 3) without soft edges
        _shade_row(texels, th, tw, front[y], behind, keep_back, rgb[y], alpha[y], depth[y])


@njit(cache=True, nogil=True, inline="always")
def _compose_px(r, g, b, alpha, matte, scale, out, x):  # pragma: no cover - numba
    """:func:`~.frame.compose_row` for one pixel (float32 r, g, b, alpha): the same arithmetic."""
    rest = 1.0 - alpha
    value = r + rest * matte[0]
    out[x, 0] = np.rint(min(max(value, 0.0), 1.0) * scale)
    value = g + rest * matte[1]
    out[x, 1] = np.rint(min(max(value, 0.0), 1.0) * scale)
    value = b + rest * matte[2]
    out[x, 2] = np.rint(min(max(value, 0.0), 1.0) * scale)


@njit(cache=True, nogil=True)
def _fill_display_row(texels, th, tw, front, back, keep_back, alpha, matte, scale, out):  # pragma: no cover
    """:func:`~.frame.fill_row` straight into display pixels: the same runs and sources (a
    pixel is empty where its alpha is not > 0: without ``keep_back`` where 1/z is not > 0,
    otherwise ``alpha``), the source's colour shaded again (the same function, so the same
    values) and its depth 1/(1/z) as :func:`_shade_row` has it."""
    one = np.float32(1.0)
    w = front.shape[0]
    x = 0
    while x < w:
        if (alpha[x] if keep_back else (one if front[x, 0] > 0.0 else np.float32(0.0))) > 0.0:
            x += 1
            continue
        start = x
        while x < w and (alpha[x] if keep_back else (one if front[x, 0] > 0.0 else np.float32(0.0))) <= 0.0:
            x += 1
        left, right = start - 1, x
        if left < 0 and right >= w:
            continue
        if left < 0:
            source = right
        elif right >= w:
            source = left
        else:
            source = left if one / front[left, 0] >= one / front[right, 0] else right
        r, g, b, a = _shade_px(texels, th, tw, front, back, keep_back, source)
        r, g, b = r / a, g / a, b / a
        for i in range(start, x):
            _compose_px(r, g, b, one, matte, scale, out, i)


@njit(cache=True, nogil=True)
def _opaque_row(texels, th, tw, front, fill, matte, scale, out, rgb, holes):  # pragma: no cover
    """One row of :func:`_shade_display` without soft edges (alpha 1 where covered, else 0)
    and with a finite ``matte``: shade the covered pixels into ``rgb`` (3W,) float32 and list
    the empty ones in ``holes``, then composite the row in one contiguous loop (vectorised):
    at alpha 1, :func:`_compose_px` adds (1 - 1) * matte = +-0 to the colour, which changes
    no output value, so the colour alone is clamped, scaled and rounded as it does; then the
    empty pixels, run by run (:func:`~.frame.fill_row`'s runs and sources, or the matte)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    w = front.shape[0]
    n = 0
    for x in range(w):
        if not front[x, 0] > 0.0:
            holes[n] = x
            n += 1
            rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = zero
            continue
        r, g, b = _sample3(texels, th, tw, front[x, 1], front[x, 2])
        rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2] = r, g, b
    flat = out.reshape(3 * w)
    for k in range(3 * w):
        flat[k] = np.rint(min(max(np.float64(rgb[k]), 0.0), 1.0) * scale)
    i = 0
    while i < n:
        start = holes[i]
        end = start + 1
        i += 1
        while i < n and holes[i] == end:
            end += 1
            i += 1
        left, right = start - 1, end
        if not fill or (left < 0 and right >= w):
            for x in range(start, end):
                _compose_px(zero, zero, zero, zero, matte, scale, out, x)
            continue
        if left < 0:
            source = right
        elif right >= w:
            source = left
        else:
            source = left if one / front[left, 0] >= one / front[right, 0] else right
        r, g, b = rgb[3 * source] / one, rgb[3 * source + 1] / one, rgb[3 * source + 2] / one
        for x in range(start, end):
            _compose_px(r, g, b, one, matte, scale, out, x)


@njit(parallel=True, cache=True, nogil=True)
def _shade_display(texture, front, back, keep_back, fill, matte, scale, out):  # pragma: no cover
    """:func:`_shade`, then (with ``fill``) :func:`~.frame.fill_row`, then
    :func:`~.frame.compose_row`, fused per row with the same arithmetic, so the same output
    bytes, without ever holding a float frame (at UHD: 166 MB written and read back per
    frame). Without soft edges :func:`_opaque_row`; with them, each covered pixel is shaded
    and composited at once, and a row with empty pixels is then filled run by run, each
    run's source shaded again. ``out`` C-contiguous."""
    w = front.shape[1]
    zero = np.float32(0.0)
    texels, th, tw = _flat(texture)
    opaque = not keep_back and np.isfinite(matte[0]) and np.isfinite(matte[1]) and np.isfinite(matte[2])
    for y in prange(front.shape[0]):
        row, o = front[y], out[y]
        if opaque:
            rgb = np.empty(3 * w, np.float32)
            holes = np.empty(w, np.int64)
            _opaque_row(texels, th, tw, row, fill, matte, scale, o, rgb, holes)
            continue
        behind = back[min(np.int64(y), back.shape[0] - 1)]
        alpha = np.empty(w if keep_back else 1, np.float32)  # soft edges: for the fill
        holes = False
        for x in range(w):
            if not row[x, 0] > 0.0:
                holes = True
                if keep_back:
                    alpha[x] = zero
                _compose_px(zero, zero, zero, zero, matte, scale, o, x)
                continue
            r, g, b, a = _shade_px(texels, th, tw, row, behind, keep_back, x)
            if keep_back:
                alpha[x] = a
                holes |= not a > 0.0
            _compose_px(r, g, b, a, matte, scale, o, x)
        if fill and holes:
            _fill_display_row(texels, th, tw, row, behind, keep_back, alpha, matte, scale, o)


@contextmanager
def _dynamic(chunk: int):
    """numba's prange loops in this thread hand out ``chunk`` iterations at a time to the
    next free thread (instead of one equal share each): on a shared machine a thread that
    gets less CPU no longer holds up the frame. Each iteration (band, row) writes only its own
    pixels, so the result is the same for any schedule."""
    previous = numba.set_parallel_chunksize(chunk)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(previous)


class CpuRenderer:
    """Multi-threaded numba rasteriser (threads: numba's, set by NUMBA_NUM_THREADS).

    Its per-pixel buffers are kept between frames of the same size (allocating and
    page-faulting them anew cost more than drawing at UHD), so one renderer must not be
    used by two threads at once.
    """

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.supersample = (settings or RenderSettings()).supersample
        self._buffers: dict[tuple[int, int, bool], tuple[np.ndarray, np.ndarray]] = {}
        self._arrays: dict[str, np.ndarray] = {}

    def _buffers_for(self, height: int, width: int, keep_back: bool) -> tuple[np.ndarray, np.ndarray]:
        key = (height, width, keep_back)
        if key not in self._buffers:
            self._buffers.clear()
            front = np.empty((height, width, 4), np.float32)
            back = np.empty((height, width, 3) if keep_back else (1, 1, 3), np.float32)
            self._buffers[key] = (front, back)
        return self._buffers[key]

    def _scratch(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """A per-scene-size work array, kept between frames like the pixel buffers."""
        array = self._arrays.get(name)
        if array is None or array.shape != shape:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array

    def _rasterized(self, scene: Scene, view: Camera) -> tuple[np.ndarray, np.ndarray, bool]:
        n_vertices, n_triangles = len(scene.vertices), len(scene.triangles)
        screen = self._scratch("screen", (n_vertices, 6), np.float64)
        to_camera = np.linalg.inv(view.pose)
        _project(scene.vertices, scene.uvs, to_camera, view.fx, view.fy, view.cx, view.cy, screen)
        first = self._scratch("first", (n_triangles,), np.int32)
        last = self._scratch("last", (n_triangles,), np.int32)
        _band_ranges(screen, scene.triangles, view.width, view.height, BAND_ROWS, NEAR_CLIP_M, first, last)
        offsets, ids = _bin(first, last, (view.height + BAND_ROWS - 1) // BAND_ROWS, BIN_CHUNKS)
        keep_back = bool(len(scene.alphas)) and float(scene.alphas.min()) < 1.0
        front, back = self._buffers_for(view.height, view.width, keep_back)
        n_front = n_triangles - scene.background_triangles  # the background layer comes last
        with _dynamic(1):  # bands differ a lot in work
            _rasterize(
                screen,
                scene.alphas,
                scene.triangles,
                offsets,
                ids,
                front,
                back,
                BAND_ROWS,
                keep_back,
                n_front,
            )
        return front, back, keep_back

    def render(self, scene: Scene, camera: Camera) -> Frame:
        view = camera.scaled(self.supersample)
        front, back, keep_back = self._rasterized(scene, view)
        rgb = np.empty((view.height, view.width, 3), np.float32)
        alpha = np.empty((view.height, view.width), np.float32)
        depth = np.empty((view.height, view.width), np.float32)
        _shade(np.ascontiguousarray(scene.texture), front, back, keep_back, rgb, alpha, depth)
        return downsample(Frame(rgb, depth, alpha), self.supersample)

    def render_display(
        self, scene: Scene, camera: Camera, fill: bool, matte: np.ndarray, scale: np.float32, out: np.ndarray
    ) -> bool:
        """Render straight into display pixels ``out`` (H, W, 3) uint8/uint16: the same bytes
        as ``to_display(fill_holes(render(...)))`` (or without ``fill_holes``), with no float
        frame in between. Returns False (and does nothing) when supersampling, which needs the
        float frame."""
        if self.supersample != 1:
            return False
        front, back, keep_back = self._rasterized(scene, camera)
        pixels = out if out.flags.c_contiguous else np.empty(out.shape, out.dtype)
        texture = np.ascontiguousarray(scene.texture)
        with _dynamic(SHADE_CHUNK_ROWS):
            _shade_display(texture, front, back, keep_back, fill, matte, scale, pixels)
        if pixels is not out:
            out[...] = pixels
        return True
