"""Camera paths (one :class:`Camera` per frame) and easing curves."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

import numpy as np

from ..conventions import FIRST_FRAME
from ..errors import InputError
from .camera import Camera

Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out"]
#: Named easings; any cubic Bézier ``bezier(x1,y1,x2,y2)`` (CSS ``cubic-bezier`` handles) works too.
EASINGS: tuple[str, ...] = get_args(Easing)


def _ease_in_out(t: np.ndarray) -> np.ndarray:
    return np.where(t < 0.5, 4.0 * t**3, 1.0 - (2.0 - 2.0 * t) ** 3 / 2.0)


_EASING_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda t: t,
    "ease-in": lambda t: t**3,
    "ease-out": lambda t: 1.0 - (1.0 - t) ** 3,
    "ease-in-out": _ease_in_out,
}

_BEZIER = re.compile(r"\s*(?:cubic-)?bezier\s*\(([^)]*)\)\s*")


#: Largest |y1|, |y2| of a Bézier easing: CSS allows any, but past a few times the move's
#: own span it is no easing any more (and 1e308 overflows to NaN cameras).
BEZIER_MAX_Y = 10.0


def bezier_handles(easing: str) -> tuple[float, float, float, float] | None:
    """The handles of ``"bezier(x1,y1,x2,y2)"``, None for a named easing.

    Raises:
        InputError: a malformed Bézier, or x1/x2 outside [0, 1] (time must move forward).
    """
    match = _BEZIER.fullmatch(easing)
    if match is None:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in match[1].split(","))
    except ValueError:
        raise InputError(f"easing {easing!r}: expected bezier(x1,y1,x2,y2), four numbers") from None
    if not (0.0 <= x1 <= 1.0 and 0.0 <= x2 <= 1.0):
        raise InputError(f"easing {easing!r}: x1 and x2 must lie in [0, 1] so that time moves forward")
    if not all(math.isfinite(y) and abs(y) <= BEZIER_MAX_Y for y in (y1, y2)):
        raise InputError(
            f"easing {easing!r}: y1 and y2 must lie in [-{BEZIER_MAX_Y:g}, {BEZIER_MAX_Y:g}] "
            "(an overshoot beyond that is no ease; use a keyframe)"
        )
    return x1, y1, x2, y2


def _bezier(t: np.ndarray, x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """CSS-style cubic Bézier from (0, 0) to (1, 1): solve x(u) = t for u (x is monotonic when
    x1, x2 are in [0, 1]; bisection, 60 halvings = exact to float64), return y(u)."""

    def curve(u: np.ndarray, a: float, b: float) -> np.ndarray:
        return 3.0 * a * u * (1.0 - u) ** 2 + 3.0 * b * u**2 * (1.0 - u) + u**3

    low, high = np.zeros_like(t), np.ones_like(t)
    for _ in range(60):
        mid = 0.5 * (low + high)
        below = curve(mid, x1, x2) < t
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    return curve(0.5 * (low + high), y1, y2)


def check_easing(easing: str) -> str:
    """``easing`` if it is a named easing or a valid ``bezier(...)``; else :class:`InputError`."""
    if easing not in _EASING_FUNCTIONS and bezier_handles(easing) is None:
        raise InputError(
            f"unknown easing {easing!r}; choose one of {', '.join(EASINGS)} or bezier(x1,y1,x2,y2)"
        )
    return easing


def ease(t: np.ndarray, easing: str) -> np.ndarray:
    """Map linear progress ``t`` in [0, 1] through an easing curve (0 -> 0, 1 -> 1): a named
    cubic one or ``bezier(x1,y1,x2,y2)`` handles.

    >>> ease(np.array([0.0, 0.5, 1.0]), "ease-in-out").tolist()
    [0.0, 0.5, 1.0]
    >>> ease(np.array([0.0, 0.5, 1.0]), "bezier(0.25,0.25,0.75,0.75)").round(6).tolist()
    [0.0, 0.5, 1.0]
    """
    t = np.asarray(t, dtype=np.float64)
    if easing in _EASING_FUNCTIONS:
        return _EASING_FUNCTIONS[easing](t)
    handles = bezier_handles(check_easing(easing))
    assert handles is not None
    result = _bezier(t, *handles)
    return np.where(t <= 0.0, 0.0, np.where(t >= 1.0, 1.0, result))


def frame_count(duration_s: float, fps: Fraction) -> int:
    """Number of frames of a shot: ``round(duration * fps)``, at least 1."""
    if duration_s <= 0:
        raise InputError(f"duration must be > 0 seconds, got {duration_s}")
    return max(1, round(Fraction(duration_s).limit_denominator(1_000_000) * fps))


@dataclass(frozen=True, eq=False)
class CameraPath:
    """The cameras of a shot, one per frame.

    Attributes:
        cameras: one :class:`Camera` per frame, in order.
        fps: exact frame rate.
        first_frame: number of the first frame (1001 by default).
    """

    cameras: tuple[Camera, ...]
    fps: Fraction
    first_frame: int = FIRST_FRAME

    def __len__(self) -> int:
        return len(self.cameras)

    @property
    def frame_numbers(self) -> range:
        return range(self.first_frame, self.first_frame + len(self.cameras))
