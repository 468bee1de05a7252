"""Inpainting backends: fill unknown pixels of an image from the known ones.

One protocol, several classical backends (no model needed); the choice is a recipe
parameter (``--fill``) so re-renders stay identical. Measured on Middlebury disocclusions
(docs/benchmarks.md) to choose the default.

A generative inpainter plugs in the same way: a callable with the :class:`Inpainter`
signature, registered under a name in :data:`INPAINTERS` (wave 2 adds a diffusers backend
as an optional extra).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import cv2
import numpy as np

from ..errors import InputError

FillName = Literal["propagate", "nearest", "telea", "ns", "none"]
FILLS: tuple[str, ...] = get_args(FillName)

#: (image (H, W, 3) float32 in [0, 1], known (H, W) bool) -> filled (H, W, 3) float32; known
#: pixels are returned unchanged.
Inpainter = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Fills run at most at this size (long side, pixels) and are upsampled into the holes:
#: filled regions are smooth, and full-resolution fills of a 4K frame's ring cost seconds.
WORKING_SIZE = 1536


def _nearest_indices(known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the nearest known pixel of every pixel (Euclidean, exact)."""
    _, labels = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(known)
    # Labels number the zero (known) pixels in row-major order, from 1.
    return rows[labels - 1], cols[labels - 1]


def fill_nearest(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Each unknown pixel copies the nearest known one (streaks outward, keeps sharpness)."""
    if known.all() or not known.any():
        return image.copy()
    rows, cols = _nearest_indices(known)
    return image[rows, cols]


def fill_propagate(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Nearest known pixel, then a blur inside the filled region to break the streaks.

    The blur is normalised over the filled region only (known pixels stay exact), with a
    sigma of 2 px, repeated at 8 px for the area more than 8 px from any known pixel.
    """
    filled = fill_nearest(image, known)
    if known.all() or not known.any():
        return filled
    unknown = (~known).astype(np.float32)
    out = filled.copy()
    distance = cv2.distanceTransform(unknown.astype(np.uint8), cv2.DIST_L2, 3)
    for sigma, region in ((2.0, distance > 0), (8.0, distance > 8)):
        weight = cv2.GaussianBlur(unknown, (0, 0), sigma)
        blurred = cv2.GaussianBlur(out * unknown[..., None], (0, 0), sigma)
        smooth = blurred / np.maximum(weight, 1e-6)[..., None]
        out[region] = smooth[region]
    return out


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
}


def get_inpainter(name: str) -> Inpainter:
    """The backend called ``name``; unknown names list the known ones."""
    if name not in INPAINTERS:
        raise InputError(f"unknown fill {name!r}; choose one of {', '.join(FILLS)}")
    return INPAINTERS[name]


def inpaint(name: str, image: np.ndarray, known: np.ndarray, working_size: int = WORKING_SIZE) -> np.ndarray:
    """Fill ``~known`` pixels of ``image`` with backend ``name``, at most at ``working_size``.

    Args:
        image: (H, W, 3) float32 colours in [0, 1]; unknown pixels may hold anything.
        known: (H, W) bool.

    Returns:
        (H, W, 3) float32: known pixels unchanged, unknown ones filled.
    """
    backend = get_inpainter(name)
    h, w = known.shape
    scale = min(1.0, working_size / max(h, w))
    if scale == 1.0 or known.all():
        return backend(image, known)
    small = (max(2, round(w * scale)), max(2, round(h * scale)))
    zeroed = np.where(known[..., None], image, 0.0).astype(np.float32)
    image_small = cv2.resize(zeroed, small, interpolation=cv2.INTER_AREA)
    known_small = cv2.resize(known.astype(np.float32), small, interpolation=cv2.INTER_AREA) > 0.999
    filled = cv2.resize(backend(image_small, known_small), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.where(known[..., None], image, filled).astype(np.float32)
