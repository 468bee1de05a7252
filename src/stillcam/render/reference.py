"""The reference renderer: plain numpy, one triangle at a time, obviously correct and slow.

It is the judge the fast backends are tested against. Rules shared by every backend:
a pixel is covered by a triangle when its centre (integer coordinates) lies inside or on the
triangle's edges; attributes are interpolated perspective-correctly (linear in 1/z); the
nearest surface wins with a strict ``<`` test, so on exact ties the triangle with the lower
index wins; triangles with a vertex nearer than NEAR_CLIP_M are skipped; textures are sampled
bilinearly (:func:`~stillcam.render.frame.bilinear_sample`).
"""

from __future__ import annotations

import numpy as np

from ..camera.camera import Camera
from ..scene.mesh import Scene
from .frame import (
    BBOX_EPS,
    EDGE_EPS_PX,
    NEAR_CLIP_M,
    Frame,
    RenderSettings,
    downsample,
    project_vertices,
    shade,
)


def _edge(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def rasterize_reference(
    screen: np.ndarray, uvs: np.ndarray, triangles: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise projected triangles into (z, u, v) buffers of shape (height, width).

    Args:
        screen: (N, 3) float64 pixel x, pixel y, camera z (metres) per vertex.
        uvs: (N, 2) texture coordinates per vertex.
        triangles: (M, 3) vertex indices.

    Returns:
        z (inf where empty), u, v — each (height, width) float64.
    """
    zbuf = np.full((height, width), np.inf)
    ubuf = np.zeros((height, width))
    vbuf = np.zeros((height, width))
    for tri in triangles:
        (x0, y0, z0), (x1, y1, z1), (x2, y2, z2) = screen[tri]
        if min(z0, z1, z2) < NEAR_CLIP_M:
            continue
        area = _edge(x0, y0, x1, y1, x2, y2)
        if abs(area) < 1e-12:
            continue
        if area < 0:  # make the winding positive; no back-face culling
            (x1, y1, z1), (x2, y2, z2), tri = (x2, y2, z2), (x1, y1, z1), tri[[0, 2, 1]]
            area = -area
        xa = max(int(np.ceil(-BBOX_EPS + min(x0, x1, x2))), 0)
        xb = min(int(np.floor(BBOX_EPS + max(x0, x1, x2))), width - 1)
        ya = max(int(np.ceil(-BBOX_EPS + min(y0, y1, y2))), 0)
        yb = min(int(np.floor(BBOX_EPS + max(y0, y1, y2))), height - 1)
        if xa > xb or ya > yb:
            continue
        py, px = np.mgrid[ya : yb + 1, xa : xb + 1].astype(np.float64)
        b0 = _edge(x1, y1, x2, y2, px, py) / area
        b1 = _edge(x2, y2, x0, y0, px, py) / area
        b2 = _edge(x0, y0, x1, y1, px, py) / area
        e0 = -EDGE_EPS_PX * np.hypot(x2 - x1, y2 - y1) / area
        e1 = -EDGE_EPS_PX * np.hypot(x0 - x2, y0 - y2) / area
        e2 = -EDGE_EPS_PX * np.hypot(x1 - x0, y1 - y0) / area
        inside = (b0 >= e0) & (b1 >= e1) & (b2 >= e2)
        iz = b0 / z0 + b1 / z1 + b2 / z2
        z = 1.0 / iz
        (u0, v0), (u1, v1), (u2, v2) = uvs[tri].astype(np.float64)
        u = (b0 * u0 / z0 + b1 * u1 / z1 + b2 * u2 / z2) * z
        v = (b0 * v0 / z0 + b1 * v1 / z1 + b2 * v2 / z2) * z
        window = zbuf[ya : yb + 1, xa : xb + 1]
        win = inside & (z < window)
        window[win] = z[win]
        ubuf[ya : yb + 1, xa : xb + 1][win] = u[win]
        vbuf[ya : yb + 1, xa : xb + 1][win] = v[win]
    return zbuf, ubuf, vbuf


class ReferenceRenderer:
    """Plain-numpy renderer; see the module docstring for the rules every backend follows."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.supersample = (settings or RenderSettings()).supersample

    def render(self, scene: Scene, camera: Camera) -> Frame:
        view = camera.scaled(self.supersample)
        screen = project_vertices(scene.vertices, view)
        z, u, v = rasterize_reference(screen, scene.uvs, scene.triangles, view.width, view.height)
        return downsample(shade(scene.texture, z, u, v), self.supersample)
