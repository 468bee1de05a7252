"""Camera paths (one :class:`Camera` per frame) and easing curves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

import numpy as np

from ..conventions import FIRST_FRAME
from ..errors import InputError
from .camera import Camera

Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out"]
EASINGS: tuple[str, ...] = get_args(Easing)


def _ease_in_out(t: np.ndarray) -> np.ndarray:
    return np.where(t < 0.5, 4.0 * t**3, 1.0 - (2.0 - 2.0 * t) ** 3 / 2.0)


_EASING_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda t: t,
    "ease-in": lambda t: t**3,
    "ease-out": lambda t: 1.0 - (1.0 - t) ** 3,
    "ease-in-out": _ease_in_out,
}


def ease(t: np.ndarray, easing: str) -> np.ndarray:
    """Map linear progress ``t`` in [0, 1] through a cubic easing curve (0 -> 0, 1 -> 1).

    >>> ease(np.array([0.0, 0.5, 1.0]), "ease-in-out").tolist()
    [0.0, 0.5, 1.0]
    """
    if easing not in _EASING_FUNCTIONS:
        raise InputError(f"unknown easing {easing!r}; choose one of {', '.join(EASINGS)}")
    return _EASING_FUNCTIONS[easing](np.asarray(t, dtype=np.float64))


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
