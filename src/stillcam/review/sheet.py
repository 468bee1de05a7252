"""The pictures of a board (:mod:`stillcam.review.board`), as pure functions of pixels.

Two layouts:

* the **grid** of the grid video: ``columns`` x ``rows`` cells, each a ``cell_width`` x
  ``cell_height`` frame with a label strip of ``strip`` rows under it, ``gap`` pixels between
  cells and around them, centred on a ``width`` x ``height`` frame (:func:`fit_grid` picks the
  largest cells that fit a frame size, :func:`grid_around` the frame that fits a cell size);
* the **contact sheet**: per cell a tile of its first, middle and last frame side by side with
  its label under them, two tiles a row (:data:`SHEET_COLUMNS`), under a title line; the PDF
  has :data:`PAGE_ROWS` rows of tiles a page (:func:`sheet_pages`).

Text is drawn with OpenCV's Hershey vector font, as the burn-ins are
(:mod:`stillcam.output.burnin`): compiled into OpenCV, so the same strokes on every machine and
the same bytes every run; ASCII only (other characters show as ``?``). Every array here is
(H, W, 3) uint8 sRGB display pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Greys of the background, the label strips, the text and the secondary text.
BACKGROUND, STRIP, INK, DIM = 14, 30, 235, 150
#: Contact sheet: tiles a row, rows a PDF page.
SHEET_COLUMNS, PAGE_ROWS = 2, 4
#: The smallest cell side a board renders (a frame smaller than this shows nothing of a move).
MIN_CELL_SIDE = 16


def strip_height(cell_height: int) -> int:
    """Rows of a cell's label strip: 14 % of the cell's height, at least 12 (30 at 216).

    >>> strip_height(216), strip_height(36)
    (30, 12)
    """
    return max(12, round(0.14 * cell_height))


def gap_for(cell_height: int) -> int:
    """Pixels between cells and around them: 1/54 of the cell's height, at least 2 (4 at 216)."""
    return max(2, round(cell_height / 54))


@dataclass(frozen=True)
class GridLayout:
    """Where the cells of a grid video go (module docstring); all sizes in pixels."""

    columns: int
    rows: int
    cell_width: int
    cell_height: int
    strip: int
    gap: int
    width: int
    height: int

    @property
    def used(self) -> tuple[int, int]:
        """(width, height) the cells, strips and gaps take."""
        return (
            self.columns * self.cell_width + (self.columns + 1) * self.gap,
            self.rows * (self.cell_height + self.strip) + (self.rows + 1) * self.gap,
        )

    def origin(self, index: int) -> tuple[int, int]:
        """(x, y) of the top-left pixel of cell ``index`` (0-based, row by row)."""
        used_w, used_h = self.used
        left, top = (self.width - used_w) // 2, (self.height - used_h) // 2
        row, column = divmod(index, self.columns)
        x = left + self.gap + column * (self.cell_width + self.gap)
        y = top + self.gap + row * (self.cell_height + self.strip + self.gap)
        return x, y


def _even(value: float) -> int:
    return 2 * max(1, int(value // 2))


def _fits(columns: int, rows: int, cell_w: int, cell_h: int, width: int, height: int) -> bool:
    gap, strip = gap_for(cell_h), strip_height(cell_h)
    return (
        columns * cell_w + (columns + 1) * gap <= width
        and rows * (cell_h + strip) + (rows + 1) * gap <= height
    )


def fit_grid(count: int, width: int, height: int) -> GridLayout | None:
    """The largest even-sided cells, of the frame's own aspect, that ``count`` of fit on a
    ``width`` x ``height`` frame with their label strips and gaps, over every number of
    columns; None when no cell of :data:`MIN_CELL_SIDE` px fits.

    >>> fit_grid(17, 1920, 1080)  # every move of the library on an HD frame
    GridLayout(columns=5, rows=4, cell_width=376, cell_height=212, strip=30, gap=4, width=1920, height=1080)
    """
    aspect = width / height
    best: GridLayout | None = None
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        cell_h = _even(height / rows)
        while cell_h >= MIN_CELL_SIDE:
            cell_w = 2 * round(cell_h * aspect / 2)  # the nearest even width
            if cell_w >= MIN_CELL_SIDE and _fits(columns, rows, cell_w, cell_h, width, height):
                break
            cell_h -= 2
        else:
            continue
        layout = GridLayout(
            columns, rows, cell_w, cell_h, strip_height(cell_h), gap_for(cell_h), width, height
        )
        if best is None or cell_w * cell_h > best.cell_width * best.cell_height:
            best = layout
    return best


def grid_around(count: int, cell_width: int, cell_height: int) -> GridLayout:
    """The grid of ``count`` cells of ``cell_width`` x ``cell_height``: the number of columns
    whose frame is nearest 16:9, the frame's sides even.

    >>> grid_around(3, 64, 36)
    GridLayout(columns=2, rows=2, cell_width=64, cell_height=36, strip=12, gap=2, width=134, height=102)
    """
    best: GridLayout | None = None
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        gap, strip = gap_for(cell_height), strip_height(cell_height)
        width = columns * cell_width + (columns + 1) * gap
        height = rows * (cell_height + strip) + (rows + 1) * gap
        layout = GridLayout(
            columns, rows, cell_width, cell_height, strip, gap, width + width % 2, height + height % 2
        )
        if best is None or abs(math.log(layout.width / layout.height / (16 / 9))) < abs(
            math.log(best.width / best.height / (16 / 9))
        ):
            best = layout
    assert best is not None
    return best


def _ascii(text: str) -> str:
    return " ".join(text.encode("ascii", "replace").decode("ascii").split())


def _scale_for(height: int) -> tuple[float, int]:
    """Hershey scale and thickness whose text (caps and descenders) fills ``height`` rows."""
    (_, th), base = cv2.getTextSize("Hg", _FONT, 1.0, 1)
    scale = height / (th + base)
    return scale, 1 if scale < 0.9 else 2


def fitted(text: str, width: int, scale: float, thickness: int) -> str:
    """``text`` cut (ending in ``...``) to at most ``width`` pixels at ``scale``."""
    if cv2.getTextSize(text, _FONT, scale, thickness)[0][0] <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if cv2.getTextSize(text[:mid] + "...", _FONT, scale, thickness)[0][0] <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "..." if low else ""


def draw_strip(
    canvas: np.ndarray, box: tuple[int, int, int, int], text: str, note: str = ""
) -> tuple[str, str]:
    """Fill ``box`` (x, y, width, height) of ``canvas`` with the strip grey and write ``text``
    left-aligned on it, and ``note`` right-aligned in a dimmer grey where room is left; in
    place. Returns the two texts as drawn (cut with ``...`` to fit)."""
    x, y, w, h = box
    canvas[y : y + h, x : x + w] = STRIP
    pad = max(2, h // 6)
    scale, thickness = _scale_for(h - 2 * pad)
    (_, th), _ = cv2.getTextSize("Hg", _FONT, scale, thickness)
    baseline = y + pad + th
    shown = fitted(_ascii(text), w - 2 * pad, scale, thickness)
    cv2.putText(canvas, shown, (x + pad, baseline), _FONT, scale, (INK,) * 3, thickness, cv2.LINE_AA)
    used = cv2.getTextSize(shown, _FONT, scale, thickness)[0][0] if shown else 0
    room = w - 3 * pad - used - 4 * pad
    note_shown = ""
    if note and room > 0:
        note_shown = fitted(_ascii(note), room, scale * 0.85, 1)
        if note_shown and not note_shown.endswith("..."):
            nw = cv2.getTextSize(note_shown, _FONT, scale * 0.85, 1)[0][0]
            cv2.putText(
                canvas,
                note_shown,
                (x + w - pad - nw, baseline),
                _FONT,
                scale * 0.85,
                (DIM,) * 3,
                1,
                cv2.LINE_AA,
            )
        else:
            note_shown = ""
    return shown, note_shown


def grid_canvas(layout: GridLayout, labels: Sequence[str]) -> np.ndarray:
    """The grid video's still parts: background and each cell's label strip (cells black)."""
    canvas = np.full((layout.height, layout.width, 3), BACKGROUND, np.uint8)
    for index, label in enumerate(labels):
        x, y = layout.origin(index)
        canvas[y : y + layout.cell_height, x : x + layout.cell_width] = 0
        draw_strip(canvas, (x, y + layout.cell_height, layout.cell_width, layout.strip), label)
    return canvas


def grid_frame(canvas: np.ndarray, layout: GridLayout, frames: Sequence[np.ndarray]) -> np.ndarray:
    """One frame of the grid video: ``frames`` (one per cell, each cell_height x cell_width)
    placed on a copy of :func:`grid_canvas`'s ``canvas``."""
    out = canvas.copy()
    for index, frame in enumerate(frames):
        x, y = layout.origin(index)
        out[y : y + layout.cell_height, x : x + layout.cell_width] = frame
    return out


def thumbnail(frame: np.ndarray, factor: int) -> np.ndarray:
    """``frame`` reduced by a whole ``factor`` (area average), or itself at 1."""
    if factor == 1:
        return np.ascontiguousarray(frame)
    h, w = frame.shape[0] // factor, frame.shape[1] // factor
    return cv2.resize(np.ascontiguousarray(frame), (w, h), interpolation=cv2.INTER_AREA)


def sheet_tile(frames: Sequence[np.ndarray], label: str, note: str) -> np.ndarray:
    """A contact-sheet tile: ``frames`` (first, middle, last; same size) side by side, ``gap``
    apart, with a strip under them: ``label`` left, ``note`` (the frame numbers) right."""
    th, tw = frames[0].shape[:2]
    gap, strip = gap_for(th), max(16, strip_height(th))
    tile = np.full((th + strip, len(frames) * tw + (len(frames) - 1) * gap, 3), BACKGROUND, np.uint8)
    for i, frame in enumerate(frames):
        tile[:th, i * (tw + gap) : i * (tw + gap) + tw] = frame
    draw_strip(tile, (0, th, tile.shape[1], strip), label, note)
    return tile


def sheet_pages(
    tiles: Sequence[np.ndarray], title: str, *, columns: int = SHEET_COLUMNS, rows: int | None = None
) -> list[np.ndarray]:
    """Pages of ``tiles`` (all one size) ``columns`` a row under a ``title`` line: one page
    of every row when ``rows`` is None (the PNG), else pages of ``rows`` rows, each as tall
    as a full one (the PDF; ``title`` then ends in ``page i of n``)."""
    th, tw = tiles[0].shape[:2]
    columns = max(1, min(columns, len(tiles)))
    gap = gap_for(th)
    all_rows = math.ceil(len(tiles) / columns)
    per_page = all_rows if rows is None else rows
    count = math.ceil(all_rows / per_page)
    width = columns * tw + (columns + 1) * gap
    header = max(20, round(0.12 * th))
    height = header + per_page * th + (per_page + 1) * gap
    pages = []
    for page in range(count):
        out = np.full((height, width, 3), BACKGROUND, np.uint8)
        heading = title if count == 1 else f"{title}  (page {page + 1} of {count})"
        draw_strip(out, (0, 0, width, header), heading)
        first = page * per_page * columns
        for index, tile in enumerate(tiles[first : first + per_page * columns]):
            row, column = divmod(index, columns)
            x, y = gap + column * (tw + gap), header + gap + row * (th + gap)
            out[y : y + th, x : x + tw] = tile
        pages.append(out)
    return pages
