"""Thin-lens optics in physical units: the ``--focus`` option and the circle of confusion; the
``--distortion`` option (its model: :mod:`stillcam.render.distortion`).

Units (docs/conventions.md): depths and focus distances are camera z in metres, focal lengths
and filmbacks in millimetres, circles of confusion in output pixels (diameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The bounds of focus distances (metres) and f-numbers: the camera stage's (keyframed pulls).
from ..camera.focus import MAX_FOCUS_M, MIN_FOCUS_M, parse_where
from ..camera.plan import parse_frame_span
from ..errors import InputError

#: Largest ``--vignette`` in stops (a sixteenth of the light at the corners; render/vignette.py).
MAX_VIGNETTE_STOPS = 4.0
#: Brown–Conrady coefficients (k1, k2, p1, p2).
Coefficients = tuple[float, float, float, float]
#: Largest |k1|, |k2| and |p1|, |p2| accepted.
MAX_RADIAL = 2.0
MAX_TANGENTIAL = 0.2
#: A parsed ``--focus``: "subject", a distance in metres, or a pixel (x, y) as frame fractions.
Focus = str | float | tuple[float, float]


@dataclass(frozen=True)
class RackFocus:
    """A ``--focus A..B`` focus pull: from ``start`` to ``end`` (each a :data:`Focus`)."""

    start: Focus
    end: Focus


def parse_focus(text: str) -> Focus | RackFocus:
    """``--focus`` text -> ``"subject"``, metres (float), normalised ``(x, y)`` in [0, 1], or
    a :class:`RackFocus` of two of these (``A..B``).

    >>> parse_focus("subject"), parse_focus("2.5"), parse_focus("0.5,0.25")
    ('subject', 2.5, (0.5, 0.25))
    >>> parse_focus("0.2,0.5..4")
    RackFocus(start=(0.2, 0.5), end=4.0)
    """
    text = str(text).strip()
    if ".." in text:
        parts = text[:200].split("..")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise InputError(
                f"--focus {text!r}: a focus pull is A..B, each metres, subject or X,Y (e.g. 0.3,0.6..0.7,0.5)"
            )
        start, end = (_parse_one_focus(p.strip()) for p in parts)
        return RackFocus(start, end)
    return _parse_one_focus(text)


def parse_rack(text: str, focus: str) -> tuple[int, int]:
    """``--rack A-B`` -> (first, last) frame numbers of the focus pull; it needs a
    ``--focus A..B`` (whether the shot has the frames is checked with the shot).

    Raises:
        InputError: not ``A-B``, or ``focus`` is not a pull.
    """
    span = parse_frame_span(text, "--rack")
    if not isinstance(parse_focus(focus), RackFocus):
        raise InputError(f"--rack {text}: give the pull as --focus A..B (e.g. --focus 1.5..6)")
    return span


def _parse_one_focus(text: str) -> Focus:
    return parse_where(text, "--focus", low=MIN_FOCUS_M, high=MAX_FOCUS_M, example="2.5")


def coc_diameter_px(
    z: np.ndarray, *, focal_mm: float, fstop: float, focus_m: float, px_per_mm: float
) -> np.ndarray:
    """The thin lens's circle of confusion of each depth, as a diameter in output pixels.

    ``c = f² / (N (S - f)) * |z - S| / z`` millimetres on the sensor (f focal length, N
    f-number, S focus distance, z depth; all lengths in mm inside the formula), times the
    sensor's pixels per mm. A depth at infinity gets the limit ``f² / (N (S - f))``.

    Args:
        z: (H, W) float camera z in metres, > 0 (or +inf where nothing is seen).
        focal_mm: the lens's focal length in mm (the camera's, with its filmback).
        fstop: the f-number N, > 0.
        focus_m: the focus distance S in metres, farther than the focal length.
        px_per_mm: output pixels per mm of filmback (``camera.fx / camera.focal_mm``).

    Returns:
        (H, W) float32 diameters in pixels, >= 0 (0 at the focus distance).

    Raises:
        InputError: the focus distance is not beyond the focal length.

    >>> coc_diameter_px(np.array([[2.0, np.inf]]), focal_mm=50, fstop=2, focus_m=1.0, px_per_mm=100).round(1)
    array([[ 65.8, 131.6]], dtype=float32)
    """
    focus_mm = focus_m * 1000.0
    if not focus_mm > focal_mm:
        raise InputError(f"--focus {focus_m:g} m is not beyond the focal length ({focal_mm:.1f} mm)")
    scale = focal_mm * focal_mm / (fstop * (focus_mm - focal_mm)) * px_per_mm
    zm = np.maximum(np.asarray(z, np.float64), 1e-9)
    ratio = np.where(np.isinf(zm), 1.0, np.abs(zm - focus_m) / np.where(np.isinf(zm), 1.0, zm))
    return (scale * ratio).astype(np.float32)


def parse_distortion(text: str | None) -> Coefficients | None:
    """``--distortion`` text -> (k1, k2, p1, p2), or None when off (no text, or all zero).

    >>> parse_distortion("-0.1,0.02,0,0"), parse_distortion("0,0,0,0"), parse_distortion(None)
    ((-0.1, 0.02, 0.0, 0.0), None, None)
    """
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if len(text) > 200:
        raise InputError(
            f"--distortion {text[:40]!r}...: expected K1,K2,P1,P2, e.g. --distortion -0.1,0.02,0,0"
        )
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(
            f"--distortion {text!r}: expected K1,K2,P1,P2, e.g. --distortion -0.1,0.02,0,0"
        ) from None
    if len(values) != 4:
        raise InputError(f"--distortion {text!r}: expected 4 numbers K1,K2,P1,P2, got {len(values)}")
    k1, k2, p1, p2 = values
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"--distortion {text!r}: the coefficients must be finite numbers")
    if max(abs(k1), abs(k2)) > MAX_RADIAL or max(abs(p1), abs(p2)) > MAX_TANGENTIAL:
        raise InputError(
            f"--distortion {text!r}: K1, K2 must be in [-{MAX_RADIAL:g}, {MAX_RADIAL:g}], "
            f"P1, P2 in [-{MAX_TANGENTIAL:g}, {MAX_TANGENTIAL:g}]"
        )
    if not any(values):
        return None
    return k1, k2, p1, p2
