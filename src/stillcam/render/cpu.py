"""The CPU renderer: numba, multi-threaded, same rules as the reference renderer.

Design: vertices are projected in parallel; triangles are binned into horizontal bands of
BAND_ROWS rows (counting sort, triangle order kept); bands are rasterised in parallel (each
thread owns its rows, so no locks and a deterministic result), writing per-pixel depth and
perspective-correct texture coordinates (deferred); a final parallel pass samples the
full-resolution texture bilinearly once per covered pixel (twice where a soft edge lets
the surface behind show through).

Deviation from the reference: none in the rules; arithmetic may differ in the last bits
(projection order of operations), so on exact depth ties a different triangle can win.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..camera.camera import Camera
from ..scene.mesh import Scene
from .frame import BBOX_EPS, EDGE_EPS_PX, NEAR_CLIP_M, Frame, RenderSettings, downsample

BAND_ROWS = 16


@njit(parallel=True, cache=True, nogil=True)
def _project(vertices, world_to_camera, fx, fy, cx, cy):  # pragma: no cover - numba
    n = vertices.shape[0]
    out = np.empty((n, 3), np.float64)
    m = world_to_camera
    for i in prange(n):
        x, y, z = np.float64(vertices[i, 0]), np.float64(vertices[i, 1]), np.float64(vertices[i, 2])
        cxw = m[0, 0] * x + m[0, 1] * y + m[0, 2] * z + m[0, 3]
        cyw = m[1, 0] * x + m[1, 1] * y + m[1, 2] * z + m[1, 3]
        czw = m[2, 0] * x + m[2, 1] * y + m[2, 2] * z + m[2, 3]
        safe = czw if abs(czw) > 1e-12 else 1e-12
        out[i, 0] = fx * cxw / safe + cx
        out[i, 1] = fy * cyw / safe + cy
        out[i, 2] = czw
    return out


@njit(cache=True, nogil=True)
def _row_range(screen, tri, height, near):  # pragma: no cover - numba
    """First and last pixel row a triangle may cover, or (1, 0) when it is not drawn."""
    z0, z1, z2 = screen[tri[0], 2], screen[tri[1], 2], screen[tri[2], 2]
    if min(z0, min(z1, z2)) < near:
        return 1, 0
    y0, y1, y2 = screen[tri[0], 1], screen[tri[1], 1], screen[tri[2], 1]
    ya = max(math.ceil(-BBOX_EPS + min(y0, min(y1, y2))), 0)
    yb = min(math.floor(BBOX_EPS + max(y0, max(y1, y2))), height - 1)
    return ya, yb


@njit(cache=True, nogil=True)
def _bin(screen, triangles, height, band, near):  # pragma: no cover - numba
    n_bands = (height + band - 1) // band
    counts = np.zeros(n_bands + 1, np.int64)
    for t in range(triangles.shape[0]):
        ya, yb = _row_range(screen, triangles[t], height, near)
        if ya <= yb:
            for b in range(ya // band, yb // band + 1):
                counts[b + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    ids = np.empty(offsets[-1], np.int32)
    for t in range(triangles.shape[0]):
        ya, yb = _row_range(screen, triangles[t], height, near)
        if ya <= yb:
            for b in range(ya // band, yb // band + 1):
                ids[fill[b]] = t
                fill[b] += 1
    return offsets, ids


@njit(cache=True, nogil=True)
def _edge(ax, ay, bx, by, px, py):  # pragma: no cover - numba
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


@njit(cache=True, nogil=True)
def _draw(screen, uvs, alphas, tri, width, r0, r1, front, back, keep_back):  # pragma: no cover
    i0, i1, i2 = tri[0], tri[1], tri[2]
    x0, y0 = screen[i0, 0], screen[i0, 1]
    x1, y1 = screen[i1, 0], screen[i1, 1]
    x2, y2 = screen[i2, 0], screen[i2, 1]
    area = _edge(x0, y0, x1, y1, x2, y2)
    if abs(area) < 1e-12:
        return
    if area < 0:
        i1, i2 = i2, i1
        x1, y1, x2, y2 = x2, y2, x1, y1
        area = -area
    z0, z1, z2 = screen[i0, 2], screen[i1, 2], screen[i2, 2]
    u0, v0 = np.float64(uvs[i0, 0]), np.float64(uvs[i0, 1])
    u1, v1 = np.float64(uvs[i1, 0]), np.float64(uvs[i1, 1])
    u2, v2 = np.float64(uvs[i2, 0]), np.float64(uvs[i2, 1])
    a0, a1, a2 = np.float64(alphas[i0]), np.float64(alphas[i1]), np.float64(alphas[i2])
    xa = max(math.ceil(-BBOX_EPS + min(x0, min(x1, x2))), 0)
    xb = min(math.floor(BBOX_EPS + max(x0, max(x1, x2))), width - 1)
    ya = max(math.ceil(-BBOX_EPS + min(y0, min(y1, y2))), r0)
    yb = min(math.floor(BBOX_EPS + max(y0, max(y1, y2))), r1)
    e0 = -EDGE_EPS_PX * math.hypot(x2 - x1, y2 - y1) / area
    e1 = -EDGE_EPS_PX * math.hypot(x0 - x2, y0 - y2) / area
    e2 = -EDGE_EPS_PX * math.hypot(x1 - x0, y1 - y0) / area
    for py in range(ya, yb + 1):
        fy = np.float64(py)
        for px in range(xa, xb + 1):
            fx = np.float64(px)
            b0 = _edge(x1, y1, x2, y2, fx, fy) / area
            b1 = _edge(x2, y2, x0, y0, fx, fy) / area
            b2 = _edge(x0, y0, x1, y1, fx, fy) / area
            if b0 < e0 or b1 < e1 or b2 < e2:
                continue
            z = 1.0 / (b0 / z0 + b1 / z1 + b2 / z2)
            if z >= (back[0, py, px] if keep_back else front[0, py, px]):
                continue
            u = (b0 * u0 / z0 + b1 * u1 / z1 + b2 * u2 / z2) * z
            v = (b0 * v0 / z0 + b1 * v1 / z1 + b2 * v2 / z2) * z
            if z < front[0, py, px]:
                if keep_back:
                    for k in range(3):
                        back[k, py, px] = front[k, py, px]
                front[0, py, px] = z
                front[1, py, px] = u
                front[2, py, px] = v
                if keep_back:
                    front[3, py, px] = (b0 * a0 / z0 + b1 * a1 / z1 + b2 * a2 / z2) * z
            else:
                back[0, py, px] = z
                back[1, py, px] = u
                back[2, py, px] = v


@njit(parallel=True, cache=True, nogil=True)
def _rasterize(
    screen, uvs, alphas, triangles, offsets, ids, width, height, band, keep_back
):  # pragma: no cover
    # z, u, v (and alpha, when some vertex is see-through) of the nearest surface
    front = np.zeros((4 if keep_back else 3, height, width))
    # z, u, v of the next surface behind it; only kept when some vertex is see-through.
    back = np.zeros((3, height, width) if keep_back else (3, 1, 1))
    front[0] = np.inf
    back[0] = np.inf
    for b in prange(offsets.shape[0] - 1):
        r0 = b * band
        r1 = min(r0 + band, height) - 1
        for k in range(offsets[b], offsets[b + 1]):
            _draw(screen, uvs, alphas, triangles[ids[k]], width, r0, r1, front, back, keep_back)
    return front, back


@njit(cache=True, nogil=True)
def _sample(texture, u, v, c):  # pragma: no cover - numba
    th, tw = texture.shape[0], texture.shape[1]
    u = min(max(u, 0.0), tw - 1.0)
    v = min(max(v, 0.0), th - 1.0)
    x0 = min(math.floor(u), tw - 2)
    y0 = min(math.floor(v), th - 2)
    fx, fy = u - x0, v - y0
    top = texture[y0, x0, c] * (1 - fx) + texture[y0, x0 + 1, c] * fx
    bottom = texture[y0 + 1, x0, c] * (1 - fx) + texture[y0 + 1, x0 + 1, c] * fx
    return top * (1 - fy) + bottom * fy


@njit(parallel=True, cache=True, nogil=True)
def _shade(texture, front, back):  # pragma: no cover - numba
    h, w = front.shape[1], front.shape[2]
    rgb = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    for y in prange(h):
        for x in range(w):
            if not np.isfinite(front[0, y, x]):
                continue
            a = min(max(front[3, y, x], 0.0), 1.0) if front.shape[0] == 4 else 1.0
            behind = a < 1.0 and np.isfinite(back[0, y, x])
            for c in range(3):
                value = a * _sample(texture, front[1, y, x], front[2, y, x], c)
                if behind:
                    value += (1.0 - a) * _sample(texture, back[1, y, x], back[2, y, x], c)
                rgb[y, x, c] = value
            alpha[y, x] = 1.0 if behind else a
    return rgb, alpha


def rasterize_cpu(
    screen: np.ndarray, uvs: np.ndarray, alphas: np.ndarray, triangles: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Same contract as :func:`stillcam.render.reference.rasterize_reference`, in parallel."""
    offsets, ids = _bin(screen, triangles, height, BAND_ROWS, NEAR_CLIP_M)
    keep_back = bool(len(alphas)) and float(alphas.min()) < 1.0
    return _rasterize(screen, uvs, alphas, triangles, offsets, ids, width, height, BAND_ROWS, keep_back)


class CpuRenderer:
    """Multi-threaded numba rasteriser (threads: numba's, set by NUMBA_NUM_THREADS)."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.supersample = (settings or RenderSettings()).supersample

    def render(self, scene: Scene, camera: Camera) -> Frame:
        view = camera.scaled(self.supersample)
        screen = _project(scene.vertices, np.linalg.inv(view.pose), view.fx, view.fy, view.cx, view.cy)
        front, back = rasterize_cpu(screen, scene.uvs, scene.alphas, scene.triangles, view.width, view.height)
        rgb, alpha = _shade(scene.texture, front, back)
        return downsample(Frame(rgb, front[0].astype(np.float32), alpha), self.supersample)
