"""Inpainting backends: fill unknown pixels of an image from the known ones.

One protocol, several classical backends (no model needed); the choice is a recipe
parameter (``--fill``) so re-renders stay identical. Measured on Middlebury disocclusions
(docs/benchmarks.md) to choose the default.

``patch`` copies the photo's own pixels (:mod:`.patchfill`): texture where the diffusion
fills smear. A generative inpainter plugs in the same way: a callable with the
:class:`Inpainter` signature, registered under a name in :data:`INPAINTERS`; a fill model's
name (``migan``; ``stillcam models``, :mod:`.fill_models`) gives a
:class:`~.generative.ModelFill`, run through ONNX Runtime (extra ``fill``) at its own working
size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import cv2
import numpy as np

from ..errors import InputError
from .fill_models import find_fill_model, registry
from .generative import model_fill
from .patchfill import fill_patch, patch_fill
from .texture import quantize

#: The classical fills (no model needed); --fill and --outpaint also take fill models' names.
FillName = Literal["telea", "ns", "propagate", "nearest", "patch", "none"]
FILLS: tuple[str, ...] = get_args(FillName)
OutpaintName = Literal["propagate", "nearest", "telea", "ns", "patch"]

#: (image (H, W, 3) float32 in [0, 1], known (H, W) bool) -> filled (H, W, 3) float32; known
#: pixels are returned unchanged.
Inpainter = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Fills run at most at this size (long side, pixels) and are upsampled into the holes:
#: filled regions are smooth, and full-resolution fills of a 4K frame's ring cost seconds.
WORKING_SIZE = 1024


def _nearest_indices(known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the nearest known pixel of every pixel (Euclidean, exact)."""
    _, labels = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(known)
    # Labels number the zero (known) pixels in row-major order, from 1.
    return rows[labels - 1], cols[labels - 1]


def fill_nearest(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Each unknown pixel copies the nearest known one (streaks outward, keeps sharpness).

    ``image`` may be (H, W) or (H, W, C).
    """
    if known.all() or not known.any():
        return image.copy()
    rows, cols = _nearest_indices(known)
    return image[rows, cols]


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; for sigma > 2 computed at 2/sigma scale (same result to within a few
    percent, at a fraction of the cost of a wide kernel)."""
    if sigma <= 2.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    factor = sigma / 2.0
    small = cv2.resize(
        image, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), 2.0 * 0.87)  # the area filter adds ~half the blur
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def soften(filled: np.ndarray, known: np.ndarray, start: int = 1) -> np.ndarray:
    """Blur a fill more the farther it lies from the known pixels (known pixels stay exact).

    Pixels farther than 2^k px (k = start..6) from any known pixel are re-blurred with sigma
    2^(k-1), normalised over the unknown region: near the known region the fill keeps its
    detail; far from it, it fades to the local average, which minimises the error where the
    true content cannot be known (measured on Middlebury, docs/benchmarks.md).
    """
    unknown = (~known).astype(np.float32)
    planar = filled.ndim == 2
    out = filled[..., None].copy() if planar else filled.copy()
    distance = cv2.distanceTransform(unknown.astype(np.uint8), cv2.DIST_L2, 3)
    for k in range(start, 7):
        region = distance > 2**k
        if not region.any():
            break
        sigma = 2.0 ** (k - 1)
        weight = _blur(unknown, sigma)
        blurred = _blur(out * unknown[..., None], sigma).reshape(out.shape)
        out[region] = (blurred / np.maximum(weight, 1e-6)[..., None])[region]
    return out[..., 0] if planar else out


def fill_propagate(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Nearest known pixel, softened with the distance from the known region (:func:`soften`)."""
    filled = fill_nearest(image, known)
    if known.all() or not known.any():
        return filled
    return soften(filled, known)


def _opencv_inpaint(method: int) -> Inpainter:
    def fill(image: np.ndarray, known: np.ndarray) -> np.ndarray:
        if known.all() or not known.any():
            return image.copy()
        img8 = np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)
        result = cv2.inpaint(img8, (~known).astype(np.uint8), 3, method).astype(np.float32) / 255.0
        out = image.copy()
        out[~known] = result[~known]
        return out

    return fill


INPAINTERS: dict[str, Inpainter] = {
    "propagate": fill_propagate,
    "nearest": fill_nearest,
    "telea": _opencv_inpaint(cv2.INPAINT_TELEA),
    "ns": _opencv_inpaint(cv2.INPAINT_NS),
    "patch": fill_patch,
}


def get_inpainter(name: str) -> Inpainter:
    """The backend called ``name``: a classical fill, or a fill model (nothing loaded until it
    runs; its weights: :func:`~.generative.fill_models_from`). Unknown names list the known ones."""
    if name in INPAINTERS:
        return INPAINTERS[name]
    if name != "none" and find_fill_model(name) is not None:
        return model_fill(name)
    raise InputError(
        f"unknown fill {name!r}; choose one of {', '.join(FILLS)}, or a fill model: "
        f"{', '.join(registry())} (`stillcam models`)"
    )


def _working_size(backend: Inpainter, working_size: int) -> int:
    """A fill model's own working size (it draws detail: it runs larger), else ``working_size``."""
    return getattr(backend, "working_size", working_size)


def inpaint(name: str, image: np.ndarray, known: np.ndarray, working_size: int = WORKING_SIZE) -> np.ndarray:
    """Fill ``~known`` pixels of ``image`` with backend ``name``, at most at ``working_size``
    (a fill model at its own, :data:`~.generative.FILL_WORKING_SIZE`).

    Args:
        image: (H, W, 3) float32 colours in [0, 1]; unknown pixels may hold anything.
        known: (H, W) bool.

    Returns:
        (H, W, 3) float32: known pixels unchanged, unknown ones filled.
    """
    backend = get_inpainter(name)
    h, w = known.shape
    scale = min(1.0, _working_size(backend, working_size) / max(h, w))
    if scale == 1.0 or known.all():
        return backend(image, known)
    small = (max(2, round(w * scale)), max(2, round(h * scale)))
    zeroed = np.where(known[..., None], image, 0.0).astype(np.float32)
    image_small = cv2.resize(zeroed, small, interpolation=cv2.INTER_AREA)
    known_small = cv2.resize(known.astype(np.float32), small, interpolation=cv2.INTER_AREA) > 0.999
    filled = cv2.resize(backend(image_small, known_small), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.where(known[..., None], image, filled).astype(np.float32)


#: Long side (px) a patch-filled ring's offset field is searched at (most of its cost; at
#: 512 px a seam shows at the photo's border, at 768 px not at 1:1 on the demo).
RING_PATCH_PX = 768


def outpaint(
    name: str,
    photo: np.ndarray,
    top: int,
    bottom: int,
    left: int,
    right: int,
    extra_rows: int = 0,
    working_size: int = WORKING_SIZE,
) -> np.ndarray:
    """The photo on a larger canvas whose margins (``top``.. ``right`` px) are filled by backend
    ``name``, as uint16 texels (:mod:`.texture`). The fill is computed at most at
    ``working_size`` and upsampled: the margins are smooth guesses, and a full-resolution fill
    of a 4K ring costs seconds and gigabytes (a fill model runs at its own working size,
    :data:`~.generative.FILL_WORKING_SIZE`).

    Args:
        photo: (H, W, 3) float32 in [0, 1].
        extra_rows: rows left uninitialised below the canvas (room for a texture atlas
            without copying the canvas; untouched pages cost no memory).

    Returns:
        (H + top + bottom + extra_rows, W + left + right, 3) uint16, the photo (quantized
        exactly) in the middle, the extra rows uninitialised.
    """
    h, w = photo.shape[:2]
    full = (h + top + bottom, w + left + right)
    storage = np.empty((full[0] + extra_rows, full[1], 3), np.uint16)
    canvas_out = storage[: full[0]]
    backend = get_inpainter(name)
    scale = min(1.0, _working_size(backend, working_size) / max(full))
    if name == "patch":  # copies of the photo's own texels, at full resolution
        canvas = storage[: full[0]]
        quantize(photo, out=canvas[top : top + h, left : left + w])
        ring = np.ones(full, bool)
        ring[top : top + h, left : left + w] = False
        canvas[ring] = 0
        patch_fill(canvas, ring, ~ring, working_px=min(working_size, RING_PATCH_PX), out=canvas)
        return storage
    if scale == 1.0:
        canvas = cv2.copyMakeBorder(photo, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
        known = np.zeros(full, bool)
        known[top : top + h, left : left + w] = True
        quantize(backend(canvas, known), out=canvas_out)
        return storage
    small_w, small_h = max(2, round(w * scale)), max(2, round(h * scale))
    pads = [max(1, round(p * scale)) if p else 0 for p in (top, bottom, left, right)]
    small = cv2.resize(photo, (small_w, small_h), interpolation=cv2.INTER_AREA)
    canvas = cv2.copyMakeBorder(small, *pads, cv2.BORDER_CONSTANT, value=0)
    known = np.zeros(canvas.shape[:2], bool)
    known[pads[0] : pads[0] + small_h, pads[2] : pads[2] + small_w] = True
    fill = quantize(backend(canvas, known))
    cv2.resize(fill, (full[1], full[0]), dst=canvas_out, interpolation=cv2.INTER_LINEAR)
    quantize(photo, out=canvas_out[top : top + h, left : left + w])
    return storage
