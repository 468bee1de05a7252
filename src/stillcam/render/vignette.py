"""Lens vignette (``--vignette STOPS``): light falling off towards the frame's corners.

The gain in linear light at an output pixel is ``2 ** (-stops * rho**2)``, ``rho`` its distance
from the principal point over the half diagonal of the frame (1 at the corners of a centred
frame, so they lose exactly ``stops``; the centre keeps its light). A smooth falloff of the
kind natural vignetting (cos⁴) and mechanical vignetting give, set in the unit DPs use. Applied
to the finished frame (after depth of field and distortion: the falloff is on the sensor) in
linear light: each covered pixel's sRGB colour is decoded, scaled and encoded again, so a dark
corner keeps its hue. Deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..camera.camera import Camera
from ..scene.mesh import Scene
from .frame import Frame, Renderer, RenderSettings, fill_holes


def vignette_gain(camera: Camera, stops: float) -> np.ndarray:
    """(H, W) float32 gain in linear light, in (0, 1]: ``2 ** (-stops * rho**2)``.

    >>> g = vignette_gain(Camera(5, 3, 4.0, 4.0, 2.0, 1.0), 2.0)
    >>> float(g[1, 2]), round(float(g[0, 0]), 4)
    (1.0, 0.25)
    """
    # Pixel centres at integers: rho is 1 at the corner pixels' centres of a centred frame.
    half_diagonal_sq = max(((camera.width - 1) / 2.0) ** 2 + ((camera.height - 1) / 2.0) ** 2, 1.0)
    x = (np.arange(camera.width, dtype=np.float64) - camera.cx) ** 2
    y = (np.arange(camera.height, dtype=np.float64) - camera.cy) ** 2
    rho_sq = (y[:, None] + x[None, :]) / half_diagonal_sq
    return np.exp2(-stops * rho_sq).astype(np.float32)


@njit(parallel=True, cache=True, nogil=True)
def _scale_linear(rgb, alpha, gain, out):  # pragma: no cover - numba
    """out = premultiplied sRGB colour with its linear light scaled by gain (per pixel)."""
    h, w = alpha.shape
    for y in prange(h):
        for x in range(w):
            a = alpha[y, x]
            g = gain[y, x]
            for c in range(3):
                v = rgb[y, x, c]
                if a <= 0.0 or g == 1.0:
                    out[y, x, c] = v
                    continue
                u = min(max(v / a, 0.0), 1.0)
                lin = u / 12.92 if u <= 0.04045 else ((u + 0.055) / 1.055) ** 2.4
                lin *= g
                s = lin * 12.92 if lin <= 0.0031308 else 1.055 * lin ** (1.0 / 2.4) - 0.055
                out[y, x, c] = s * a


def apply_vignette(frame: Frame, gain: np.ndarray) -> Frame:
    """``frame`` with each pixel's linear light multiplied by ``gain`` ((H, W) float32, in
    (0, 1]); depth and coverage unchanged."""
    out = np.empty_like(frame.rgb)
    _scale_linear(frame.rgb, frame.alpha, gain, out)
    return Frame(out, frame.depth, frame.alpha)


def apply_vignette_reference(frame: Frame, gain: np.ndarray) -> Frame:
    """:func:`apply_vignette` with NumPy's whole-array operations (slow, obviously right)."""
    a = frame.alpha[..., None].astype(np.float64)
    u = np.clip(np.divide(frame.rgb, a, out=np.zeros(frame.rgb.shape), where=a > 0), 0.0, 1.0)
    lin = np.where(u <= 0.04045, u / 12.92, ((u + 0.055) / 1.055) ** 2.4) * gain[..., None]
    s = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1.0 / 2.4) - 0.055)
    return Frame(np.where(a > 0, s * a, frame.rgb).astype(np.float32), frame.depth, frame.alpha)


class VignetteRenderer:
    """A :class:`~stillcam.render.frame.Renderer` that renders with ``inner``, fills holes
    (with ``fill``) and darkens the corners by ``stops`` (:func:`vignette_gain`)."""

    def __init__(self, inner: Renderer, stops: float, *, fill: bool) -> None:
        self.inner = inner
        self.stops = stops
        self.fill = fill
        self._gains: dict[tuple, np.ndarray] = {}

    def render(self, scene: Scene, camera: Camera) -> Frame:
        frame = self.inner.render(scene, camera)
        if self.fill:
            frame = fill_holes(frame)
        key = (camera.width, camera.height, camera.cx, camera.cy)
        if key not in self._gains:
            if len(self._gains) > 8:
                self._gains.clear()
            self._gains[key] = vignette_gain(camera, self.stops)
        return apply_vignette(frame, self._gains[key])


def with_vignette(renderer: Renderer, settings: RenderSettings, *, fill: bool) -> Renderer:
    """``renderer`` itself without ``--vignette`` (0), else a :class:`VignetteRenderer` over it."""
    if not settings.vignette:
        return renderer
    return VignetteRenderer(renderer, settings.vignette, fill=fill)
