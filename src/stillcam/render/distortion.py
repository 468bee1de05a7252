"""Lens distortion (``--distortion K1,K2,P1,P2``): the Brown–Conrady model on rendered frames.

Units: the model works in **normalised image coordinates** of the frame's pinhole camera,
``x = (u - cx) / fx``, ``y = (v - cy) / fy`` (u, v pixels, pixel centres at integers;
docs/conventions.md). An undistorted point (x, y), ``r² = x² + y²``, is seen at

    x_d = x (1 + k1 r² + k2 r⁴) + 2 p1 x y + p2 (r² + 2 x²)
    y_d = y (1 + k1 r² + k2 r⁴) + p1 (r² + 2 y²) + 2 p2 x y

(OpenCV's ``distortCoefficients`` order k1, k2, p1, p2; k1 < 0 barrel, k1 > 0 pincushion).

Rendering (:class:`DistortionRenderer`): each output pixel shows the undistorted render at
``undistort(its own normalised coordinates)``. The undistorted frame is rendered larger, by
the **overscan** margin: the distance (whole pixels, each side, per axis) by which the
source points of the output frame's border pixels (edges and corners; those of the inside
lie within them, the model not folding) fall outside the output frame, plus
:data:`OVERSCAN_PAD_PX` for the bilinear filter, so the distortion never reveals anything
the wider render did not draw. The enlarged camera keeps fx, fy and moves the principal point
by the margin. Colour and coverage (premultiplied) are resampled with ``cv2.remap`` bilinear
(``INTER_LINEAR``), depth with nearest (``INTER_NEAREST``: depths are not blended);
deterministic.

ST-maps (:func:`st_map`, Nuke's form): for each output pixel, float32 ``R = (x_s + 0.5) / W``
and ``G = 1 - (y_s + 0.5) / H`` where (x_s, y_s) is the source pixel in stillcam's convention
(centres at integers, y down) and W, H the frame's size; i.e. Nuke's own convention (pixel
centres at half-integers, y up from the bottom). The distort map takes the undistorted plate
to the distorted frame; the undistort map the other way.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from ..bounds import check_frame_size
from ..camera.camera import Camera
from ..errors import InputError
from ..scene.mesh import Scene
from .frame import Frame, Renderer, RenderSettings, fill_holes
from .lens import Coefficients, parse_distortion

#: Extra overscan pixels each side (the bilinear filter's reach, plus round-off).
OVERSCAN_PAD_PX = 2
#: Newton steps and the residual (normalised units) under which :func:`undistort_points` converged.
UNDISTORT_STEPS = 30
UNDISTORT_TOL = 1e-9


def distort_points(x: np.ndarray, y: np.ndarray, coeffs: Coefficients) -> tuple[np.ndarray, np.ndarray]:
    """Undistorted normalised coordinates -> distorted ones (module docstring's model).

    >>> [float(v) for v in distort_points(np.array(0.5), np.array(0.0), (-0.2, 0.0, 0.0, 0.0))]
    [0.475, 0.0]
    """
    k1, k2, p1, p2 = coeffs
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + k2 * r2)
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return xd, yd


def undistort_points(xd: np.ndarray, yd: np.ndarray, coeffs: Coefficients) -> tuple[np.ndarray, np.ndarray]:
    """Distorted normalised coordinates -> undistorted ones, by Newton's method on the model.

    Raises:
        InputError: the model does not invert there (the lens folds the image over itself).
    """
    k1, k2, p1, p2 = coeffs
    xd = np.asarray(xd, np.float64)
    yd = np.asarray(yd, np.float64)
    x, y = xd.copy(), yd.copy()
    for _ in range(UNDISTORT_STEPS):
        fx, fy = distort_points(x, y, coeffs)
        ex, ey = fx - xd, fy - yd
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + k2 * r2)
        dradial = 2.0 * k1 + 4.0 * k2 * r2  # d radial / d(r²) times 2
        a = radial + x * x * dradial + 2.0 * p1 * y + 6.0 * p2 * x  # d xd / dx
        b = x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y  # d xd / dy  (= d yd / dx)
        d = radial + y * y * dradial + 6.0 * p1 * y + 2.0 * p2 * x  # d yd / dy
        det = a * d - b * b
        det = np.where(np.abs(det) > 1e-12, det, 1e-12)
        x = x - (d * ex - b * ey) / det
        y = y - (a * ey - b * ex) / det
    fx, fy = distort_points(x, y, coeffs)
    if not (np.all(np.isfinite(fx)) and np.all(np.abs(fx - xd) + np.abs(fy - yd) < 1e-6)):
        raise InputError("--distortion: too strong for this frame (the lens model folds over inside it)")
    return x, y


def _grid(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    u, v = np.meshgrid(np.arange(camera.width, dtype=np.float64), np.arange(camera.height, dtype=np.float64))
    return (u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy


def source_pixels(
    camera: Camera, coeffs: Coefficients, *, inverse: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) float64 source pixel x, y (stillcam pixel centres) of each pixel of ``camera``'s
    frame: in the undistorted frame for the distorted output (``inverse`` False), in the
    distorted frame for the undistorted one (``inverse`` True)."""
    x, y = _grid(camera)
    xs, ys = distort_points(x, y, coeffs) if inverse else undistort_points(x, y, coeffs)
    return xs * camera.fx + camera.cx, ys * camera.fy + camera.cy


def _border(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Pixel x, y of every pixel on the frame's border (edges and corners)."""
    w, h = camera.width, camera.height
    xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    u = np.concatenate([xs, xs, np.zeros(h), np.full(h, w - 1.0)])
    v = np.concatenate([np.zeros(w), np.full(w, h - 1.0), ys, ys])
    return u, v


def overscan_px(camera: Camera, coeffs: Coefficients) -> tuple[int, int]:
    """(x, y) whole pixels to add on each side of the undistorted render (module docstring).

    Computed from the source points of the frame's border pixels: the model does not fold
    (:func:`undistort_points` refuses a lens that does), so the source points of the
    inside lie inside those of the border.

    Raises:
        InputError: the distortion needs more overscan than the frame's own size.
    """
    u, v = _border(camera)
    x, y = undistort_points((u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, coeffs)
    sx, sy = x * camera.fx + camera.cx, y * camera.fy + camera.cy
    mx = max(0.0, -float(sx.min()), float(sx.max()) - (camera.width - 1))
    my = max(0.0, -float(sy.min()), float(sy.max()) - (camera.height - 1))
    margin = (math.ceil(mx) + OVERSCAN_PAD_PX, math.ceil(my) + OVERSCAN_PAD_PX)
    if margin[0] > camera.width or margin[1] > camera.height:
        raise InputError(
            f"--distortion: too strong; it needs {margin[0]}x{margin[1]} px overscan on a "
            f"{camera.width}x{camera.height} frame"
        )
    return margin


def st_map(camera: Camera, coeffs: Coefficients, *, inverse: bool = False) -> np.ndarray:
    """(H, W, 2) float32 ST-map in Nuke's form (module docstring): the distort map, or with
    ``inverse`` the undistort map."""
    sx, sy = source_pixels(camera, coeffs, inverse=inverse)
    r = (sx + 0.5) / camera.width
    g = 1.0 - (sy + 0.5) / camera.height
    return np.stack([r, g], axis=-1).astype(np.float32)


def overscan_camera(camera: Camera, margin: tuple[int, int]) -> Camera:
    """``camera`` with ``margin`` (x, y) more pixels on each side; same focal length and pose."""
    mx, my = margin
    return replace(
        camera,
        width=camera.width + 2 * mx,
        height=camera.height + 2 * my,
        cx=camera.cx + mx,
        cy=camera.cy + my,
    )


class DistortionRenderer:
    """A :class:`~stillcam.render.frame.Renderer` that renders ``inner`` with overscan, fills
    holes (with ``fill``) and distorts the frame with ``coeffs`` (module docstring). The
    enlarged frame is held to the frame size limits at ``supersample``."""

    def __init__(self, inner: Renderer, coeffs: Coefficients, *, fill: bool, supersample: int = 1) -> None:
        self.inner = inner
        self.coeffs = coeffs
        self.fill = fill
        self.supersample = supersample
        self._maps: dict[tuple, tuple[tuple[int, int], np.ndarray, np.ndarray]] = {}

    def _remap(self, camera: Camera) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
        key = (camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy)
        if key not in self._maps:
            if len(self._maps) > 8:  # zooms: a map per focal length
                self._maps.clear()
            margin = overscan_px(camera, self.coeffs)
            wide = overscan_camera(camera, margin)
            check_frame_size(
                wide.width, wide.height, "--distortion (its overscan)", supersample=self.supersample
            )
            sx, sy = source_pixels(camera, self.coeffs)
            self._maps[key] = (
                margin,
                (sx + margin[0]).astype(np.float32),
                (sy + margin[1]).astype(np.float32),
            )
        return self._maps[key]

    def render(self, scene: Scene, camera: Camera) -> Frame:
        margin, map_x, map_y = self._remap(camera)
        frame = self.inner.render(scene, overscan_camera(camera, margin))
        if self.fill:
            frame = fill_holes(frame)
        rgba = np.dstack([frame.rgb, frame.alpha]).astype(np.float32)
        out = cv2.remap(rgba, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        depth = cv2.remap(
            frame.depth, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=np.inf
        )
        return Frame(
            np.ascontiguousarray(out[..., :3]), depth.astype(np.float32), np.ascontiguousarray(out[..., 3])
        )


def with_distortion(renderer: Renderer, settings: RenderSettings, *, fill: bool) -> Renderer:
    """``renderer`` itself without ``--distortion`` (or all zero), else a
    :class:`DistortionRenderer` over it (frames filled first with ``fill``)."""
    coeffs = parse_distortion(settings.distortion)
    if coeffs is None:
        return renderer
    return DistortionRenderer(renderer, coeffs, fill=fill, supersample=settings.supersample)
