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

:func:`apply_dof` is the fast path (OpenCV filters; slabs with large discs are blurred at a
reduced resolution); :func:`apply_dof_reference` scatters every pixel's own disc one by one
(slow, obviously right; the same slabs and fill decide the order and the hidden colour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


@dataclass(frozen=True)
class Slab:
    """One depth slab, ready to blur, on the part of the frame it can reach: ``box`` =
    (y0, y1, x0, x1), its pixels' bounding box grown by the fill's reach and the disc's
    radius. ``rgba`` (h, w, 4) float32 is its premultiplied colour and coverage there (its
    own pixels plus the fill behind nearer slabs), ``own`` (h, w) bool its own pixels,
    ``diameter`` the coverage-weighted mean CoC in pixels (0: left sharp)."""

    rgba: np.ndarray
    diameter: float
    own: np.ndarray
    box: tuple[int, int, int, int]


def slab_ids(signed_coc: np.ndarray) -> np.ndarray:
    """(H, W) int32 slab of each signed CoC diameter (pixels): 0 under :data:`SHARP_PX`,
    else ±(1 + floor(log_ratio(|c| / SHARP_PX))); negative = in front of the focus.

    >>> slab_ids(np.array([0.5, -1.0, 1.6, 3.0])).tolist()
    [0, -1, 2, 3]
    """
    c = np.abs(signed_coc)
    steps = np.floor(np.log(np.maximum(c, SHARP_PX) / SHARP_PX) / math.log(SLAB_RATIO)).astype(np.int32) + 1
    return np.where(c < SHARP_PX, 0, np.sign(signed_coc).astype(np.int32) * steps).astype(np.int32)


def _upper_radius(k: int) -> float:
    """The largest disc radius (pixels) a pixel of slab ``k`` can have."""
    return 0.0 if k == 0 else SHARP_PX * SLAB_RATIO ** abs(k) / 2.0


def slabs(frame: Frame, signed_coc: np.ndarray) -> list[Slab]:
    """The frame split into slabs, far to near (the order they are composited in).

    Args:
        frame: (H, W) premultiplied colour, depth and coverage.
        signed_coc: (H, W) float32 CoC diameters in pixels, negative in front of the focus.
    """
    ids = slab_ids(signed_coc)
    low = int(ids.min())
    flat = (ids - low).ravel()
    weights = frame.alpha.astype(np.float64).ravel()
    coverage = np.bincount(flat, weights)
    counts = np.bincount(flat)
    sums = np.bincount(flat, weights * np.abs(signed_coc).ravel())
    plain = np.bincount(flat, np.abs(signed_coc).astype(np.float64).ravel())
    rows = (ids.min(axis=1), ids.max(axis=1))
    cols = (ids.min(axis=0), ids.max(axis=0))
    order = [k for k in range(int(ids.max()), low - 1, -1) if counts[k - low] > 0]
    h, w = ids.shape
    rgba = np.dstack([frame.rgb, frame.alpha]).astype(np.float32, copy=False)
    result = []
    for index, k in enumerate(order):
        i = k - low
        mean = sums[i] / coverage[i] if coverage[i] > 0 else plain[i] / counts[i]
        diameter = 0.0 if mean < SHARP_PX or k == 0 else float(mean)
        nearer = max((_upper_radius(j) for j in order[index + 1 :]), default=0.0)
        reach = math.ceil(nearer + 0.75 * diameter) + 2  # the disc, and the resampling of wide ones
        margin = reach + math.ceil(diameter / 2.0) + 2
        y0, y1 = _span((rows[0] <= k) & (k <= rows[1]))  # rows and columns that may hold it
        x0, x1 = _span((cols[0] <= k) & (k <= cols[1]))
        ys, xs = np.nonzero(ids[y0:y1, x0:x1] == k)  # its exact bounding box
        y0, y1, x0, x1 = y0 + ys.min(), y0 + ys.max() + 1, x0 + xs.min(), x0 + xs.max() + 1
        box = (max(y0 - margin, 0), min(y1 + margin, h), max(x0 - margin, 0), min(x1 + margin, w))
        cut = np.s_[box[0] : box[1], box[2] : box[3]]
        part = ids[cut]
        result.append(Slab(_with_fill(rgba[cut], part, k, reach), diameter, part == k, box))
    return result


def _span(present: np.ndarray) -> tuple[int, int]:
    where = np.flatnonzero(present)
    return int(where[0]), int(where[-1]) + 1


def _with_fill(rgba: np.ndarray, ids: np.ndarray, k: int, reach: int) -> np.ndarray:
    """Slab ``k``'s premultiplied colour and coverage (h, w, 4) float32 from the frame's
    ``rgba`` and slab ``ids``, extended behind the nearer slabs' pixels (ids < k) within
    ``reach`` pixels of its own with the mean colour of its own pixels in that square (the
    fill's coverage = theirs)."""
    own_rgba = np.empty(rgba.shape, np.float32)
    hidden = np.empty(ids.shape, np.float32)
    if not _split(rgba, ids, np.int32(k), own_rgba, hidden):
        return own_rgba
    size = (2 * reach + 1, 2 * reach + 1)
    box = cv2.blur(own_rgba, size, borderType=cv2.BORDER_REFLECT)
    _add_fill(own_rgba, box, hidden, np.float32(1e-3 / (size[0] * size[1])))
    return own_rgba


@njit(parallel=True, cache=True, nogil=True)
def _split(rgba, ids, k, own, hidden):  # pragma: no cover - numba
    """own = rgba where ids == k else 0; hidden = coverage where ids < k else 0; whether
    both have any coverage."""
    h, w = ids.shape
    any_own = np.zeros(h, np.bool_)
    any_hidden = np.zeros(h, np.bool_)
    for y in prange(h):
        for x in range(w):
            i = ids[y, x]
            keep = np.float32(1.0) if i == k else np.float32(0.0)
            for c in range(4):
                own[y, x, c] = rgba[y, x, c] * keep
            hidden[y, x] = rgba[y, x, 3] if i < k else np.float32(0.0)
            any_own[y] |= keep * rgba[y, x, 3] > 0
            any_hidden[y] |= hidden[y, x] > 0
    return any_own.any() and any_hidden.any()


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


@njit(parallel=True, cache=True, nogil=True)
def _over(out, layer, faint):  # pragma: no cover - numba
    """out = layer over out (premultiplied rgba, in place); layer pixels with coverage under
    ``faint`` are skipped (the filters' round-off far from a slab)."""
    h, w = out.shape[:2]
    for y in prange(h):
        for x in range(w):
            a = layer[y, x, 3]
            if a < faint:
                continue
            rest = np.float32(1.0) - a
            for c in range(4):
                out[y, x, c] = layer[y, x, c] + rest * out[y, x, c]


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


def _blur(image: np.ndarray, diameter: float) -> tuple[np.ndarray, int]:
    """``image`` (H, W, 4) float32 convolved with a disc (reflected borders), and the factor
    it is reduced by: discs wider than :data:`REDUCE_ABOVE_PX` are blurred at 1/2^k
    resolution (the image reflected up to a multiple of 2^k, then averaged in blocks)."""
    factor = 1
    while diameter / (2 * factor) >= REDUCE_ABOVE_PX / 2 and min(image.shape[:2]) // (2 * factor) >= 8:
        factor *= 2
    if factor > 1:
        h, w = image.shape[:2]
        bottom, right = -h % factor, -w % factor
        if bottom or right:
            image = cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REFLECT)
        small = (image.shape[1] // factor, image.shape[0] // factor)
        image = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    return cv2.filter2D(image, -1, disc_kernel(diameter / factor), borderType=cv2.BORDER_REFLECT), factor


@njit(parallel=True, cache=True, nogil=True)
def _over_upsampled(out, small, factor, faint):  # pragma: no cover - numba
    """out = ``small`` (premultiplied rgba at 1/``factor`` resolution, sampled bilinearly with
    pixel centres aligned, edges clamped) over out, in place; coverage under ``faint`` skipped."""
    h, w = out.shape[:2]
    hs, ws = small.shape[:2]
    for y in prange(h):
        sy = min(max((y + 0.5) / factor - 0.5, 0.0), hs - 1.0)
        y0 = min(int(sy), hs - 2) if hs > 1 else 0
        fy = np.float32(sy - y0) if hs > 1 else np.float32(0.0)
        y1 = y0 + 1 if hs > 1 else 0
        for x in range(w):
            sx = min(max((x + 0.5) / factor - 0.5, 0.0), ws - 1.0)
            x0 = min(int(sx), ws - 2) if ws > 1 else 0
            fx = np.float32(sx - x0) if ws > 1 else np.float32(0.0)
            x1 = x0 + 1 if ws > 1 else 0
            w00 = (1 - fy) * (1 - fx)
            w01 = (1 - fy) * fx
            w10 = fy * (1 - fx)
            w11 = fy * fx
            a = (
                w00 * small[y0, x0, 3]
                + w01 * small[y0, x1, 3]
                + w10 * small[y1, x0, 3]
                + w11 * small[y1, x1, 3]
            )
            if a < faint:
                continue
            rest = np.float32(1.0) - a
            for c in range(3):
                v = (
                    w00 * small[y0, x0, c]
                    + w01 * small[y0, x1, c]
                    + w10 * small[y1, x0, c]
                    + w11 * small[y1, x1, c]
                )
                out[y, x, c] = v + rest * out[y, x, c]
            out[y, x, 3] = a + rest * out[y, x, 3]


def _composite(layers: list[tuple[np.ndarray, int, tuple[int, int, int, int]]], frame: Frame) -> Frame:
    """Premultiplied (rgba, factor it is reduced by, box) layers, far to near, each over the
    ones before (layer pixels with coverage under :data:`FAINT` are the filters' round-off:
    skipped)."""
    out = np.zeros((*frame.alpha.shape, 4), np.float32)
    faint = np.float32(FAINT)
    for layer, factor, box in layers:
        cut = out[box[0] : box[1], box[2] : box[3]]
        if factor == 1:
            _over(cut, np.ascontiguousarray(layer, np.float32), faint)
        else:
            _over_upsampled(cut, np.ascontiguousarray(layer, np.float32), float(factor), faint)
    return Frame(np.ascontiguousarray(out[..., :3]), frame.depth, np.ascontiguousarray(out[..., 3]))


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
    layers = []
    for slab in slabs(frame, signed_coc):
        if slab.diameter < SHARP_PX:
            layers.append((slab.rgba, 1, slab.box))
        else:
            layers.append((*_blur(slab.rgba, slab.diameter), slab.box))
    return _composite(layers, frame)


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
