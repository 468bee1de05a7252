"""Review burn-ins and guides: text and frame lines drawn into a review copy's display pixels.

``--burn-in`` writes, on every frame, the shot name (top left), the move (top right, cut to
fit), the lens and f-stop (bottom left), the frame number (bottom centre) and the timecode
(bottom right), each on an opaque dark box. ``--guides`` draws aspect frame lines (``2.39``,
``1.85``, any ratio ``R`` or ``W:H``) and the safe areas of SMPTE ST 2046-1 (``safe``: action
safe 93 %, title safe 90 % of the width and of the height, centred).

Geometry, in pixels of an ``W`` x ``H`` frame, line thickness ``t = max(1, round(H / 540))``
(2 px at HD, 4 at UHD):

* an aspect ``R`` wider than the frame frames the rows ``top .. top + h - 1`` with
  ``h = round(W / R)``, ``top = (H - h) // 2``; its lines are the ``t`` rows just outside
  them (``top - t .. top - 1`` and ``top + h .. top + h + t - 1``), across the whole width,
  so the framed picture itself is untouched (2.39 at 1920x1080: rows 136-137 and 941-942).
  An aspect narrower than the frame frames columns the same way; the frame's own aspect
  draws nothing;
* a safe area ``f`` frames ``round(W f)`` x ``round(H f)`` pixels, centred the same way, with
  a ``t`` px border just outside it.

Only review copies get them: h264, h265 and PNG frames. The delivery codecs (ProRes 422 HQ,
DNxHR HQ, FFV1) take them only with ``--burn-in-anyway``; EXR frames (scene-linear data) and
ProRes 4444 (its alpha is the scene's coverage) never do. Either is refused, one line, before
any work (:func:`check_burn_in`).

Text is drawn with OpenCV's Hershey vector font (``cv2.FONT_HERSHEY_SIMPLEX``): OpenCV is a
core dependency and its Hershey fonts are compiled into it, so there is no font file to find
and the same strokes come out on every machine with the same OpenCV (Pillow's scalable default
font needs FreeType and changes between Pillow versions; OpenCV 5 measures the strokes 1 px
wider than OpenCV 4, so a box moves by a pixel across that upgrade). The text is rasterised
once into an 8-bit coverage mask and blended in integers over the box, so 8- and 16-bit frames
get the same picture and the same bytes every run. Hershey fonts are ASCII: other characters show as ``?``.

Drawing is idempotent (every pixel drawn gets a value that does not depend on what was there),
so burning a frame twice gives the bytes of burning it once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from ..bounds import shown
from ..camera.camera import Camera
from ..camera.path import CameraPath
from ..camera.plan import DEFAULT_MOVE, ShotSettings
from ..errors import InputError
from .codecs import VIDEO_CODECS
from .targets import OutputTarget
from .wrapping import WrappedSink

#: Where a line of text goes.
Place = Literal["top-left", "top-right", "bottom-left", "bottom-center", "bottom-right"]
#: A guide: an aspect ratio (float) or a safe area ("action" 93 %, "title" 90 %).
Guide = float | Literal["action", "title"]
#: SMPTE ST 2046-1 safe areas: fraction of the width and of the height.
SAFE_AREAS: dict[str, float] = {"action": 0.93, "title": 0.90}
#: Codecs that are deliveries, not review copies: burn-ins only with ``--burn-in-anyway``.
DELIVERY_CODECS: tuple[str, ...] = ("prores-422hq", "prores-4444", "dnxhr-hq", "ffv1")

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BOX = 0.08  # the box's grey, of full scale
_TEXT = 0.92  # the text's grey
#: Colours of the guides: aspects in the order given, then the safe areas.
_ASPECT_COLOURS = ((0.9, 0.9, 0.9), (0.3, 0.9, 0.3), (0.9, 0.3, 0.9), (0.3, 0.8, 1.0))
_SAFE_COLOURS = {"action": (0.2, 0.75, 1.0), "title": (1.0, 0.75, 0.2)}
_RATIO = re.compile(r"^(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$", re.ASCII)


def parse_guides(text: str) -> tuple[Guide, ...]:
    """The guides a ``--guides`` value names: ``"2.39,1.85,safe"`` -> ``(2.39, 1.85, "action",
    "title")``; aspects as ``R`` or ``W:H`` in [0.1, 10]; ``safe`` (both areas), ``action``
    or ``title``; empty = none.

    >>> parse_guides("2.39, 4:3, safe")
    (2.39, 1.3333333333333333, 'action', 'title')

    Raises:
        InputError: a word that is neither, one line.
    """
    guides: list[Guide] = []
    for word in (w.strip().lower() for w in text.split(",")):
        if not word:
            continue
        if word in ("safe", "action", "title"):
            guides.extend(("action", "title") if word == "safe" else (word,))  # type: ignore[arg-type]
            continue
        match = _RATIO.match(word)
        ratio = float(match[1]) / float(match[2] or 1) if match and float(match[2] or 1) > 0 else math.nan
        if not 0.1 <= ratio <= 10:
            raise InputError(
                f"--guides {shown(text)}: {shown(word)} is not an aspect ratio in [0.1, 10] "
                "(2.39, 1.85, 4:3) nor safe, action or title"
            )
        guides.append(ratio)
    return tuple(dict.fromkeys(guides))


def timecode_at(start: str, offset: int, fps: Fraction) -> str:
    """The timecode ``offset`` frames after ``start`` (``HH:MM:SS:FF``; ``;`` = drop-frame, as
    :func:`~stillcam.output.codecs.check_timecode` accepts), wrapping at 24 hours.

    >>> timecode_at("01:00:00:00", 25, Fraction(24))
    '01:00:01:01'
    >>> timecode_at("00:00:59;29", 1, Fraction(30000, 1001))
    '00:01:00;02'
    """
    h, m, s, f = (int(v) for v in re.split("[:;]", start))
    drop = ";" in start
    nominal = math.ceil(fps)
    dropped = round(nominal / 15) if drop else 0  # 2 at 29.97, 4 at 59.94
    minutes = 60 * h + m
    count = (3600 * h + 60 * m + s) * nominal + f - dropped * (minutes - minutes // 10)
    per_ten = nominal * 600 - dropped * 9
    count = (count + offset) % (per_ten * 144)
    if drop:
        tens, rest = divmod(count, per_ten)
        count += dropped * 9 * tens + (
            dropped * ((rest - dropped) // (nominal * 60 - dropped)) if rest > dropped else 0
        )
    f = count % nominal
    s = count // nominal % 60
    m = count // (nominal * 60) % 60
    h = count // (nominal * 3600)
    return f"{h:02d}:{m:02d}:{s:02d}{';' if drop else ':'}{f:02d}"


def _full(pixels: np.ndarray) -> int:
    return 255 if pixels.dtype == np.uint8 else 65535


def _ascii(text: str) -> str:
    return " ".join(text.encode("ascii", "replace").decode("ascii").split())


def _fitted(text: str, width: int, scale: float, thickness: int) -> str:
    """``text`` cut (ending in ``...``) to at most ``width`` pixels."""
    if cv2.getTextSize(text, _FONT, scale, thickness)[0][0] <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with "..."
    while low < high:
        mid = (low + high + 1) // 2
        if cv2.getTextSize(text[:mid] + "...", _FONT, scale, thickness)[0][0] <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "..."


def _text_box(out: np.ndarray, text: str, place: Place, scale: float, thickness: int) -> None:
    """Draw ``text`` on its dark box at ``place``, in place."""
    h, w = out.shape[:2]
    tw = cv2.getTextSize(text, _FONT, scale, thickness)[0][0]
    (_, th), base = cv2.getTextSize("Hg", _FONT, scale, thickness)  # one box height for every line
    pad = max(2, round(0.4 * th))
    bw, bh = tw + 2 * pad, th + base + 2 * pad
    margin = max(1, round(0.02 * h))
    x0 = {"left": margin, "right": w - margin - bw, "center": (w - bw) // 2}[place.split("-")[1]]
    y0 = margin if place.startswith("top") else h - margin - bh
    mask = np.zeros((bh, bw), np.uint8)
    cv2.putText(mask, text, (pad, pad + th), _FONT, scale, 255, thickness, cv2.LINE_AA)
    # Clip the box to the frame (tiny frames).
    ax, ay, bx, by = max(x0, 0), max(y0, 0), min(x0 + bw, w), min(y0 + bh, h)
    if ax >= bx or ay >= by:
        return
    cover = mask[ay - y0 : by - y0, ax - x0 : bx - x0].astype(np.int64)[..., None]
    full = _full(out)
    box, ink = round(_BOX * full), round(_TEXT * full)
    out[ay:by, ax:bx] = ((box * (255 - cover) + ink * cover + 127) // 255).astype(out.dtype)


def _fill(out: np.ndarray, rows: tuple[int, int], cols: tuple[int, int], colour: np.ndarray) -> None:
    """Set ``out[r0:r1, c0:c1]`` to ``colour``, clipped to the frame."""
    h, w = out.shape[:2]
    r0, r1 = max(rows[0], 0), min(rows[1], h)
    c0, c1 = max(cols[0], 0), min(cols[1], w)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = colour


def guide_rect(width: int, height: int, guide: Guide) -> tuple[int, int, int, int]:
    """The (left, top, width, height) in pixels that ``guide`` frames (module docstring).

    >>> guide_rect(1920, 1080, 2.39)
    (0, 138, 1920, 803)
    >>> guide_rect(1920, 1080, "action")
    (67, 38, 1786, 1004)
    """
    if isinstance(guide, str):
        gw, gh = round(width * SAFE_AREAS[guide]), round(height * SAFE_AREAS[guide])
    elif guide > width / height:
        gw, gh = width, round(width / guide)
    else:
        gw, gh = round(height * guide), height
    return (width - gw) // 2, (height - gh) // 2, gw, gh


def _guide(out: np.ndarray, guide: Guide, colour: np.ndarray, t: int) -> None:
    h, w = out.shape[:2]
    left, top, gw, gh = guide_rect(w, h, guide)
    if isinstance(guide, str):  # a rectangle just outside the area
        _fill(out, (top - t, top), (left - t, left + gw + t), colour)
        _fill(out, (top + gh, top + gh + t), (left - t, left + gw + t), colour)
        _fill(out, (top, top + gh), (left - t, left), colour)
        _fill(out, (top, top + gh), (left + gw, left + gw + t), colour)
    elif gh < h:  # letterbox: two rows of lines across the frame
        _fill(out, (top - t, top), (0, w), colour)
        _fill(out, (top + gh, top + gh + t), (0, w), colour)
    elif gw < w:  # pillarbox
        _fill(out, (0, h), (left - t, left), colour)
        _fill(out, (0, h), (left + gw, left + gw + t), colour)


def burn_in(
    pixels: np.ndarray, lines: Sequence[tuple[Place, str]] = (), guides: Sequence[Guide] = ()
) -> np.ndarray:
    """``pixels`` with ``guides`` drawn, then each ``(place, text)`` of ``lines`` on its box.

    Args:
        pixels: (H, W, 3) uint8 or uint16 display pixels; not changed.
        lines: text and where it goes; empty text draws nothing.
        guides: aspects and safe areas (:func:`parse_guides`).

    Returns:
        A new (H, W, 3) array of the same dtype; pixels outside the boxes and lines are those
        of ``pixels``. Text is ~2.2 % of the frame height (24 px caps at 1080, 48 at 2160).

    >>> frame = np.zeros((1080, 1920, 3), np.uint8)
    >>> out = burn_in(frame, [("bottom-right", "01:00:00:00")], [2.39])
    >>> int(out[137, 5, 0]), int(out[138, 5, 0]), int(out[941, 5, 0]), int(out[540, 960, 0])
    (230, 0, 230, 0)
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"burn_in: expected (H, W, 3) uint8 or uint16 pixels, got {pixels.shape} {pixels.dtype}"
        )
    out = pixels.copy()
    h, full = out.shape[0], _full(out)
    t = max(1, round(h / 540))
    aspects = 0
    for guide in guides:
        if isinstance(guide, str):
            colour = _SAFE_COLOURS[guide]
        else:
            colour = _ASPECT_COLOURS[aspects % len(_ASPECT_COLOURS)]
            aspects += 1
        _guide(out, guide, np.array([round(c * full) for c in colour], out.dtype), t)
    scale, thickness = h / 1080, max(1, round(h / 540))
    for place, text in lines:
        text = _ascii(text)
        if text:
            width = round(0.45 * out.shape[1]) if place.endswith(("left", "right")) else out.shape[1]
            _text_box(out, _fitted(text, width, scale, thickness), place, scale, thickness)
    return out


@dataclass(frozen=True)
class BurnIn:
    """What is burned into every frame of one output (:func:`plan_burn_in`).

    Attributes:
        text: whether the text lines are drawn (``--burn-in``).
        guides: what ``--guides`` draws.
        shot: the shot's name (the output's stem).
        move: the ``--move`` text (or the camera file).
        fps: the shot's exact frame rate.
        start: the timecode of the shot's first frame (``--timecode``, else 00:00:00:00).
        first_frame: the number of the shot's first frame (that of a full render, also in a
            ``--frames`` part of it: the same frame gets the same timecode).
        fstop: the f-stop, when the render has one.
    """

    text: bool
    guides: tuple[Guide, ...]
    shot: str
    move: str
    fps: Fraction
    start: str
    first_frame: int
    fstop: float | None = None

    def lines(self, number: int, camera: Camera) -> list[tuple[Place, str]]:
        """The text lines of frame ``number``, seen through ``camera``."""
        if not self.text:
            return []
        lens = f"{camera.focal_mm:.1f}mm (35mm eq.)"
        fstop = camera.fstop if camera.fstop is not None else self.fstop  # keyframed f-stops
        if fstop:
            lens += f"  f/{fstop:.3g}"
        if fstop and camera.focus_m is not None:  # a focus pull: where focus is on this frame
            lens += f"  @{camera.focus_m:.2f}m"
        return [
            ("top-left", self.shot),
            ("top-right", self.move),
            ("bottom-left", lens),
            ("bottom-center", str(number)),
            ("bottom-right", timecode_at(self.start, number - self.first_frame, self.fps)),
        ]

    def __call__(self, pixels: np.ndarray, number: int, camera: Camera) -> np.ndarray:
        """Frame ``number``'s display pixels with the burn-ins and guides."""
        return burn_in(pixels, self.lines(number, camera), self.guides)


def check_burn_in(target: OutputTarget, codec: str, *, wanted: bool, anyway: bool) -> None:
    """Refuse burn-ins (``wanted``: ``--burn-in`` or ``--guides``) where they do not belong:
    always on EXR frames and ProRes 4444, on the other delivery codecs without ``anyway``.

    Raises:
        InputError: one line, naming the output or codec and what to do.
    """
    if not wanted:
        return
    if target.path.suffix.lower() == ".exr":
        raise InputError(
            "--burn-in/--guides: not on EXR frames (scene-linear data for comp); "
            "render a review copy (.mp4 or shot.####.png) for them"
        )
    if target.kind != "video" or codec not in DELIVERY_CODECS:
        return
    if VIDEO_CODECS[codec].alpha:
        raise InputError(
            f"--burn-in/--guides: not on --codec {codec} (its alpha is the scene's coverage); "
            "use prores-422hq --burn-in-anyway, or a review copy (h264, h265)"
        )
    if not anyway:
        raise InputError(
            f"--burn-in/--guides: --codec {codec} is a delivery codec; burn-ins are for review "
            "copies (h264, h265, PNG): pass --burn-in-anyway to burn them in all the same"
        )


def plan_burn_in(
    target: OutputTarget,
    *,
    text: bool,
    guides: str,
    timecode: str,
    fps: Fraction,
    first_frame: int,
    move: str,
    fstop: float | None = None,
) -> BurnIn | None:
    """The :class:`BurnIn` of an output, or None when nothing is to be burned in."""
    parsed = parse_guides(guides)
    if not text and not parsed:
        return None
    return BurnIn(text, parsed, target.stem, move, fps, timecode or "00:00:00:00", first_frame, fstop)


def move_label(shot: ShotSettings) -> str:
    """What the burn-in calls the move: the ``--move`` text, ``path <file name>`` for a
    ``--path`` camera file, else the default move's name."""
    if shot.camera_file is not None:
        return f"path {Path(shot.camera_file).name}"
    return shot.move or DEFAULT_MOVE


class BurnedSink(WrappedSink):
    """A sink whose display pixels get ``burn`` (frame by frame, in the order of
    ``camera_path``'s cameras and numbers) before they reach ``sink``; other items pass as
    they are. Everything else is ``sink``'s (a :class:`~stillcam.output.writers.FrameSink`;
    typed ``Any`` here as writers.py imports this module)."""

    def __init__(self, sink: Any, burn: BurnIn, camera_path: CameraPath) -> None:
        super().__init__(sink)
        self._burn = burn
        self._path = camera_path
        self._index = 0

    def write(self, item: Any) -> None:
        if self._sink.accepts == "display":
            number = self._path.first_frame + self._index
            item = self._burn(item, number, self._path.cameras[self._index])
        self._index += 1
        self._sink.write(item)
