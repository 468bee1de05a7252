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
from ..scene.texture import to_float
from .frame import (
    BBOX_EPS,
    EDGE_EPS_PX,
    NEAR_CLIP_M,
    Frame,
    RenderSettings,
    bilinear_sample,
    downsample,
    project_vertices,
)


def _edge(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def rasterize_reference(
    screen: np.ndarray, uvs: np.ndarray, alphas: np.ndarray, triangles: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise projected triangles into the two nearest surfaces of every pixel.

    Args:
        screen: (N, 3) float64 pixel x, pixel y, camera z (metres) per vertex.
        uvs: (N, 2) texture coordinates per vertex.
        alphas: (N,) opacity per vertex in [0, 1] (below 1 only at soft foreground edges).
        triangles: (M, 3) vertex indices.

    Returns:
        front: (4, height, width) float64 z (inf where empty), u, v, alpha of the nearest
        surface; back: (3, height, width) float64 z, u, v of the next surface behind it.
    """
    front = np.zeros((4, height, width))
    back = np.zeros((3, height, width))
    front[0] = np.inf
    back[0] = np.inf
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
        z = 1.0 / (b0 / z0 + b1 / z1 + b2 / z2)
        (u0, v0), (u1, v1), (u2, v2) = uvs[tri].astype(np.float64)
        a0, a1, a2 = alphas[tri].astype(np.float64)
        values = [
            z,
            (b0 * u0 / z0 + b1 * u1 / z1 + b2 * u2 / z2) * z,
            (b0 * v0 / z0 + b1 * v1 / z1 + b2 * v2 / z2) * z,
            (b0 * a0 / z0 + b1 * a1 / z1 + b2 * a2 / z2) * z,
        ]
        f = front[:, ya : yb + 1, xa : xb + 1]
        k = back[:, ya : yb + 1, xa : xb + 1]
        nearest = inside & (z < f[0])
        second = inside & ~nearest & (z < k[0])
        k[:, nearest] = f[:3, nearest]  # the old front moves behind
        for i in range(4):
            f[i][nearest] = values[i][nearest]
        for i in range(3):
            k[i][second] = values[i][second]
    return front, back


def shade_reference(texture: np.ndarray, front: np.ndarray, back: np.ndarray) -> Frame:
    """A :class:`Frame` from the two nearest surfaces: the front one over the one behind it,
    by the front one's opacity (soft edges); alone where it is opaque or nothing is behind.
    ``texture`` is the scene's uint16 texels (:mod:`stillcam.scene.texture`)."""
    covered = np.isfinite(front[0])
    alpha = np.clip(front[3], 0.0, 1.0)
    behind = covered & (alpha < 1.0) & np.isfinite(back[0])
    rgb = np.zeros((*front.shape[1:], 3), np.float64)
    texture = to_float(texture)
    rgb[covered] = alpha[covered, None] * bilinear_sample(texture, front[1][covered], front[2][covered])
    rgb[behind] += (1.0 - alpha[behind, None]) * bilinear_sample(texture, back[1][behind], back[2][behind])
    out_alpha = np.where(behind, 1.0, np.where(covered, alpha, 0.0))
    return Frame(rgb.astype(np.float32), front[0].astype(np.float32), out_alpha.astype(np.float32))


class ReferenceRenderer:
    """Plain-numpy renderer; see the module docstring for the rules every backend follows."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.supersample = (settings or RenderSettings()).supersample

    def render(self, scene: Scene, camera: Camera) -> Frame:
        view = camera.scaled(self.supersample)
        screen = project_vertices(scene.vertices, view)
        front, back = rasterize_reference(
            screen, scene.uvs, scene.alphas, scene.triangles, view.width, view.height
        )
        return downsample(shade_reference(scene.texture, front, back), self.supersample)
