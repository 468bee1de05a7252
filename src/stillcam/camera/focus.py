"""Focus pulls and f-stop changes over a shot: per-frame lens values on the cameras
(:attr:`~stillcam.camera.camera.Camera.focus_m`, :attr:`~stillcam.camera.camera.Camera.fstop`).

A focus distance is pulled linearly in dioptres (1 / metres), as the circle of confusion
changes with ``1/z``: a pull from 1 m to infinity spends its first half between 1 and 2 m,
where the picture changes most; an f-stop changes linearly in stops (``log2 N``), like an iris
ring. Pure functions; the renderer reads the cameras' values (:mod:`stillcam.render.dof`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..errors import InputError
from .camera import Camera
from .path import CameraPath, ease

#: Nearest and farthest focus distance a pull may reach, metres (as ``--focus``).
MIN_FOCUS_M = 0.01
MAX_FOCUS_M = 1e6
#: Smallest and largest f-number (``--fstop``, keyframes).
MIN_FSTOP = 0.5
MAX_FSTOP = 128.0


def lerp_focus(a: float, b: float, u: float) -> float:
    """The focus distance ``u`` of the way from ``a`` to ``b`` metres, linear in dioptres
    (``u`` outside [0, 1] extends the pull, clamped to [MIN_FOCUS_M, MAX_FOCUS_M]).

    >>> lerp_focus(1.0, 4.0, 0.0), lerp_focus(1.0, 4.0, 0.5), lerp_focus(1.0, 4.0, 1.0)
    (1.0, 1.6, 4.0)
    """
    if u == 0.0:
        return a
    if u == 1.0:
        return b
    dioptres = (1.0 - u) / a + u / b
    return float(min(max(1.0 / dioptres if dioptres > 0 else MAX_FOCUS_M, MIN_FOCUS_M), MAX_FOCUS_M))


def lerp_fstop(a: float, b: float, u: float) -> float:
    """The f-number ``u`` of the way from ``a`` to ``b``, linear in stops.

    >>> lerp_fstop(2.0, 8.0, 0.5)
    4.0
    """
    if u == 0.0:
        return a
    if u == 1.0:
        return b
    return float(math.exp((1.0 - u) * math.log(a) + u * math.log(b)))


def key_lens_values(
    values: Sequence[float | None], times: np.ndarray, at: np.ndarray, *, stops: bool
) -> np.ndarray | None:
    """Keyframed lens values sampled at ``at``: each key's value or None (= the previous
    key's; keys before the first given value hold it). Between keys linear in dioptres
    (focus, ``stops=False``) or in stops (f-stop, ``stops=True``); the ends are held.

    Args:
        values: K key values (metres or f-numbers, > 0) or None.
        times: (K,) strictly increasing key times in seconds.
        at: (N,) sample times in seconds (already eased by the keys' easings).

    Returns:
        (N,) float64 values, or None when no key gives one.

    >>> key_lens_values([None, 2.0, None, 8.0], np.arange(4.0), np.array([0, 1, 2, 2.5, 3]), stops=True)
    array([2., 2., 2., 4., 8.])
    """
    given = [v for v in values if v is not None]
    if not given:
        return None
    filled, last = [], given[0]
    for value in values:
        last = value if value is not None else last
        filled.append(last)
    logs = np.log(filled) if stops else 1.0 / np.asarray(filled, np.float64)
    sampled = np.interp(np.clip(at, times[0], times[-1]), times, logs)
    return np.exp(sampled) if stops else 1.0 / sampled


def with_key_lens(
    cameras: Sequence[Camera], focus_m: np.ndarray | None, fstop: np.ndarray | None
) -> list[Camera]:
    """``cameras`` with per-frame ``focus_m`` and ``fstop`` (None: left as they are)."""
    if focus_m is None and fstop is None:
        return list(cameras)
    return [
        replace(
            camera,
            focus_m=float(focus_m[i]) if focus_m is not None else camera.focus_m,
            fstop=float(fstop[i]) if fstop is not None else camera.fstop,
        )
        for i, camera in enumerate(cameras)
    ]


def rack_amounts(
    frame_numbers: Sequence[int], span: tuple[int, int], easing: str = "ease-in-out"
) -> np.ndarray:
    """How far a rack focus has pulled at each frame: 0 up to ``span``'s first frame, 1 from
    its last, eased in between (a focus puller's smooth start and stop).

    >>> rack_amounts(range(1001, 1006), (1002, 1004)).tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    first, last = span
    frames = np.asarray(list(frame_numbers), dtype=np.float64)
    if last == first:
        return (frames >= first).astype(np.float64)
    return ease(np.clip((frames - first) / (last - first), 0.0, 1.0), easing)


def racked_path(path: CameraPath, start_m: float, end_m: float, span: tuple[int, int] | None) -> CameraPath:
    """``path`` with a rack focus: each camera's ``focus_m`` pulled from ``start_m`` to
    ``end_m`` metres over the frames of ``span`` (first, last frame numbers; None = the whole
    shot), held before and after.

    Raises:
        InputError: ``span`` is not inside the shot's frames, or a camera already has a
            focus (a keyframed focus and a ``--focus A..B`` pull at once).
    """
    numbers = path.frame_numbers
    if span is None:
        span = (numbers[0], numbers[-1])
    check_rack_span(span, numbers[0], numbers[-1])
    if any(camera.focus_m is not None for camera in path.cameras):
        raise InputError(
            "--focus A..B: the shot file's keyframes already pull focus; give the pull in one place"
        )
    amounts = rack_amounts(numbers, span)
    cameras = tuple(
        replace(camera, focus_m=lerp_focus(start_m, end_m, float(u)))
        for camera, u in zip(path.cameras, amounts, strict=True)
    )
    return replace(path, cameras=cameras)


def check_rack_span(span: tuple[int, int], first: int, last: int) -> None:
    """Refuse a ``--rack`` span outside the shot's frames ``first``..``last``."""
    if not (first <= span[0] <= span[1] <= last):
        raise InputError(
            f"--rack {span[0]}-{span[1]}: the pull must lie inside the shot's frames {first}-{last}"
        )


def parse_where(text: str, option: str, *, low: float, high: float, example: str) -> str | float | tuple:
    """A distance given as ``--focus`` and ``--convergence`` take it: ``"subject"``, metres
    (float, in [``low``, ``high``]) or a pixel ``(x, y)`` of the first frame as fractions in
    [0, 1]. ``option`` names the flag in errors, ``example`` is a distance in metres for them.

    >>> parse_where("0.5,0.25", "--focus", low=0.01, high=1e6, example="2.5")
    (0.5, 0.25)
    """
    text = str(text).strip()
    shown = text[:60]
    if text == "subject":
        return "subject"
    if "," in text:
        try:
            x, y = (float(v) for v in text[:100].split(","))
        except ValueError:
            raise InputError(f"{option} {shown!r}: expected X,Y, e.g. {option} 0.5,0.4") from None
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):  # also refuses NaN
            raise InputError(f"{option} {shown}: X and Y are fractions of the frame, 0..1")
        return x, y
    try:
        metres = float(text[:100])
    except ValueError:
        raise InputError(
            f"{option} {shown!r}: give metres (e.g. {example}), subject, or a pixel X,Y (e.g. 0.5,0.4)"
        ) from None
    if not (math.isfinite(metres) and low <= metres <= high):
        raise InputError(f"{option} {shown}: give metres in [{low:g}, {high:g}]")
    return metres


def check_focus_m(value: float, what: str) -> float:
    """``value`` if it is a focus distance in [MIN_FOCUS_M, MAX_FOCUS_M] metres."""
    if not (math.isfinite(value) and MIN_FOCUS_M <= value <= MAX_FOCUS_M):
        raise InputError(f"{what} {value:g}: give metres in [{MIN_FOCUS_M:g}, {MAX_FOCUS_M:g}]")
    return value
