"""Boards: every move (or every value of a parameter sweep, or a cross of two) of one photo,
rendered side by side as labelled cells (``stillcam board``, docs/review.md "Board").

A board is planned whole before anything is read: :func:`plan_cells` (pure) turns ``--moves``
(``all``, or ``pan,orbit(degrees=8),...``) and up to two ``--sweep PARAM=V1,V2,...`` into
numbered :class:`Cell` s (moves outer, then the first sweep, then the second); :func:`plan_board`
lays them out (:mod:`stillcam.review.sheet`) and makes each cell's own :class:`RenderOptions`
(the board's options with the cell's move and the cell's size), so every option of every cell
is checked before any file is decoded.

:func:`render_board` renders each cell with the normal pipeline (:func:`stillcam.pipeline.render`,
or for the bundled example :func:`~stillcam.pipeline.render_shot` as ``pipeline.demo`` does)
into a folder::

    board/cells/07_orbit-degrees-8.mp4          cell 7 (h264), as `stillcam render` writes it
    board/cells/07_orbit-degrees-8.recipe.json  its recipe
    board/board.png, board/board.pdf            contact sheet: first, middle, last frame a cell
    board/board.mp4                             grid video: every cell in sync, labels burnt in
    board/board.json                            index: cell number -> expression, label, files

The folder is built as a partial beside its final name and renamed into place when complete
(:mod:`stillcam.io.files`), so no half board appears under it. Each cell's frames reach the
grid video and the contact sheet exactly as they went into its encoder (the main sink is
teed, :class:`_TeeSink`), not decoded back from the h264. :func:`pick` re-renders one cell
from its recipe (:func:`stillcam.pipeline.rerender`), with option overrides (``--size UHD``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .. import pipeline
from .._progress import DelayedProgress
from .._signals import deferred_signals
from .._version import __version__
from ..camera.moves import MOVES, get_move, parse_param_value
from ..camera.plan import parse_size_text
from ..errors import InputError, MoveError, OutputError, RecipeError
from ..io.files import check_not_in_progress, make_partial, remove_stale_partials, write_text_atomic
from ..io.image import check_image_file
from ..io.structured import MiB, read_structured
from ..options import SECTIONS, RenderOptions
from ..output.recipe import Recipe, read_recipe, write_recipe
from ..output.sinks import open_sink
from ..output.targets import OutputTarget, parse_output
from ..output.wrapping import WrappedSink
from ..output.writers import FrameSink, OutputSettings
from .sheet import (
    MIN_CELL_SIDE,
    PAGE_ROWS,
    GridLayout,
    fit_grid,
    grid_around,
    grid_canvas,
    grid_frame,
    sheet_pages,
    sheet_tile,
    thumbnail,
)

#: The most cells a board has (a cross of two sweeps grows fast).
MAX_CELLS = 64
#: The most ``--sweep`` s a board crosses.
MAX_SWEEPS = 2
#: The board's index file, in its folder.
BOARD_INDEX = "board.json"
BOARD_FORMAT = 1
#: Contact-sheet thumbnails are at most this wide (cells wider are reduced by a whole factor).
MAX_THUMB_WIDTH = 480
#: Options a board sets itself, per cell (``--moves`` and ``--sweep`` give the camera).
_BOARD_OWNS = {"move": "--move", "params": "--set", "camera_file": "--path"}
#: How a label writes a unit (``stillcam moves`` lists the full names).
_LABEL_UNITS = {"integer": "", "x": "x", "x subject distance": " x subject", "mm (35 mm eq.)": " mm"}
_ITEM = re.compile(r"\s*([A-Za-z][\w-]*)\s*(?:\((.*)\))?\s*", re.DOTALL)
_SWEEP = re.compile(r"\s*([A-Za-z][\w-]*)\s*=(.*)", re.DOTALL)


# ----------------------------------------------------------------------------------------
# The cell plan (pure)


def value_text(value: float | None) -> str:
    """A parameter value as a move expression writes it: shortest form that reads back the
    same number, ``none`` for unset.

    >>> value_text(8.0), value_text(0.25), value_text(None), value_text(1 / 3)
    ('8', '0.25', 'none', '0.3333333333333333')
    """
    if value is None:
        return "none"
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


@dataclass(frozen=True)
class MoveItem:
    """One move of ``--moves``: a library move and the parameters given to it."""

    move: str
    params: tuple[tuple[str, float | None], ...] = ()


@dataclass(frozen=True)
class Sweep:
    """``--sweep PARAM=V1,V2,...``: one move parameter and its values, in order."""

    param: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Cell:
    """One cell of a board: its number (from 1, row by row), move and given parameters.

    >>> cell = Cell(7, "orbit", (("degrees", 8.0),))
    >>> cell.expression, cell.label, cell.name(12)
    ('orbit(degrees=8)', 'orbit(degrees=8 deg)', '07_orbit-degrees-8')
    >>> Cell(1, "pan").expression, Cell(1, "pan").label
    ('pan', 'pan(degrees=15 deg)')
    """

    number: int
    move: str
    params: tuple[tuple[str, float | None], ...] = ()

    @property
    def expression(self) -> str:
        """The ``--move`` expression of the cell (what its recipe stores)."""
        if not self.params:
            return self.move
        return f"{self.move}({', '.join(f'{k}={value_text(v)}' for k, v in self.params)})"

    @property
    def label(self) -> str:
        """The move with every parameter it runs with (given, else the set defaults), each in
        its unit (``stillcam moves``): ``orbit(degrees=8 deg)``."""
        spec = get_move(self.move)
        values = spec.resolve(dict(self.params))
        parts = []
        for param in spec.params:
            value = values[param.name]
            if value is None and param.name not in dict(self.params):
                continue
            unit = _LABEL_UNITS.get(param.unit, f" {param.unit}") if value is not None else ""
            parts.append(f"{param.name}={value_text(value)}{unit}")
        return f"{self.move}({', '.join(parts)})" if parts else self.move

    def name(self, count: int) -> str:
        """The cell's file stem: number (as wide as the board's largest, at least 2 digits),
        move and given parameters: ``07_orbit-degrees-8``."""
        words = [self.move]
        for key, value in self.params:
            words += [key.replace("_", "-"), value_text(value).replace("-", "m").replace("+", "")]
        return f"{self.number:0{max(2, len(str(count)))}d}_{'-'.join(words)}"


def distinct_moves() -> tuple[str, ...]:
    """The library's moves without their aliases (``arc`` is ``orbit``, ``dutch`` is ``roll``):
    one name per move function and parameters, in the registry's order."""
    seen: set[tuple[Any, ...]] = set()
    names = []
    for spec in MOVES.values():
        key = (spec.function, spec.params)
        if key not in seen:
            seen.add(key)
            names.append(spec.name)
    return tuple(names)


def _split_top(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _item(text: str) -> MoveItem:
    """One ``--moves`` item: ``NAME`` or ``NAME(key=value, ...)``, the values checked."""
    where = f"--moves {text.strip()!r}"
    match = _ITEM.fullmatch(text)
    if match is None:
        raise MoveError(f"{where}: write a move as NAME or NAME(key=value, ...), e.g. orbit(degrees=8)")
    try:
        spec = get_move(match[1])
    except MoveError as exc:
        raise MoveError(f"{where}: {exc}") from None
    params: dict[str, float | None] = {}
    inside = match[2] or ""
    for part in _split_top(inside) if inside.strip() else []:
        key, sep, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise MoveError(f"{where}: {part.strip()!r} is not KEY=VALUE")
        if key in ("duration", "frames", "easing"):
            raise MoveError(
                f"{where}: {key} is the board's (every cell plays the same --duration, --fps and "
                "--easing, in sync); give only the move's parameters here"
            )
        if key in params:
            raise MoveError(f"{where}: {key} is given twice; give it once")
        try:
            params[key] = parse_param_value(value)
        except ValueError as exc:
            raise MoveError(f"{where}: {key}: {exc}") from None
    try:
        spec.resolve(params)
    except MoveError as exc:
        raise MoveError(f"{where}: {exc}") from None
    return MoveItem(spec.name, tuple(params.items()))


def parse_moves(text: str) -> tuple[MoveItem, ...]:
    """``--moves``: ``all`` (:func:`distinct_moves`) or moves separated by commas, each a name
    with optional parameters (``pan,orbit(degrees=8)``).

    Raises:
        MoveError: empty, ``all`` among names, an unknown move or parameter, a value out of
            its range, a timing key, or the same move given twice.
    """
    if text.strip().lower() == "all":
        return tuple(MoveItem(name) for name in distinct_moves())
    words = _split_top(text)
    if not text.strip() or any(not w.strip() for w in words):
        raise MoveError(f"--moves {text!r}: name moves separated by commas (e.g. pan,orbit), or all")
    if any(w.strip().lower() == "all" for w in words):
        raise MoveError(f"--moves {text!r}: all already holds every move; give all alone, or names")
    items = tuple(_item(word) for word in words)
    for i, item in enumerate(items):
        if item in items[:i]:
            raise MoveError(f"--moves {text!r}: {Cell(0, item.move, item.params).expression} is given twice")
    return items


def parse_sweep(text: str) -> Sweep:
    """``--sweep PARAM=V1,V2,...``: the parameter (``-`` read as ``_``) and its values.

    >>> parse_sweep("degrees=4,8,12")
    Sweep(param='degrees', values=(4.0, 8.0, 12.0))

    Raises:
        MoveError: not PARAM=V1,..., a value that is no number, a value given twice.
    """
    match = _SWEEP.fullmatch(text)
    example = "e.g. --sweep degrees=4,8,12"
    if match is None or not match[2].strip():
        raise MoveError(f"--sweep {text!r}: write PARAM=V1,V2,..., {example}")
    param = match[1].replace("-", "_")
    values: list[float | None] = []
    for word in match[2].split(","):
        try:
            value = parse_param_value(word)
        except ValueError as exc:
            raise MoveError(f"--sweep {text!r}: {exc}; {example}") from None
        if word.strip() == "" or value in values:
            what = "an empty value" if word.strip() == "" else f"{value_text(value)} is given twice"
            raise MoveError(f"--sweep {text!r}: {what}; give each value once, {example}")
        values.append(value)
    return Sweep(param, tuple(values))


def _check_sweep(sweep: Sweep, text: str, items: Sequence[MoveItem]) -> None:
    """Refuse a swept parameter that a move of the board does not have or already gives, and
    a value out of its range."""
    for item in items:
        spec = get_move(item.move)
        names = [p.name for p in spec.params]
        if sweep.param not in names:
            having = [m for m in distinct_moves() if sweep.param in [p.name for p in MOVES[m].params]]
            valid = ", ".join(names) or "none"
            also = f"; moves with {sweep.param}: {', '.join(having)}" if having else ""
            raise MoveError(
                f"--sweep {sweep.param}: move {item.move!r} has no parameter {sweep.param!r} "
                f"(its parameters: {valid}){also}"
            )
        if sweep.param in dict(item.params):
            raise MoveError(
                f"--sweep {sweep.param}: --moves gives {item.move} a {sweep.param} already; "
                "give it in one place"
            )
        for value in sweep.values:
            try:
                spec.resolve({sweep.param: value})
            except MoveError as exc:
                raise MoveError(f"--sweep {text.strip()}: {exc}") from None


def plan_cells(moves: str = "all", sweeps: Sequence[str] = ()) -> tuple[Cell, ...]:
    """The numbered cells of ``--moves`` crossed with every ``--sweep`` value: each move, then
    each value of the first sweep, then of the second; numbered from 1 in that order.

    >>> [c.expression for c in plan_cells("pan,orbit", ["degrees=4,8"])]
    ['pan(degrees=4)', 'pan(degrees=8)', 'orbit(degrees=4)', 'orbit(degrees=8)']

    Raises:
        MoveError: a bad ``--moves`` or ``--sweep`` (a parameter a move lacks names the
            move's parameters and the moves that have it; a value out of range names its
            unit and range), more than two sweeps, or more than :data:`MAX_CELLS` cells.
    """
    items = parse_moves(moves)
    if len(sweeps) > MAX_SWEEPS:
        raise MoveError(f"--sweep: a board crosses at most {MAX_SWEEPS} sweeps; {len(sweeps)} were given")
    parsed = [parse_sweep(text) for text in sweeps]
    if len(parsed) == 2 and parsed[0].param == parsed[1].param:
        raise MoveError(f"--sweep {parsed[0].param}: swept twice; give its values in one --sweep")
    for sweep, text in zip(parsed, sweeps, strict=True):
        _check_sweep(sweep, text, items)
    count = len(items) * math.prod(len(s.values) for s in parsed)
    if count > MAX_CELLS:
        raise MoveError(
            f"--moves/--sweep: {count} cells; a board has at most {MAX_CELLS} (fewer moves or values, "
            "or several boards)"
        )
    combos: list[tuple[tuple[str, float | None], ...]] = [()]
    for sweep in parsed:
        combos = [(*combo, (sweep.param, value)) for combo in combos for value in sweep.values]
    cells = []
    for item in items:
        spec = get_move(item.move)
        for combo in combos:
            params = (*item.params, *combo)
            spec.resolve(dict(params))  # each value was checked above
            cells.append(Cell(len(cells) + 1, item.move, params))
    return tuple(cells)


# ----------------------------------------------------------------------------------------
# The board plan: layout and every cell's options, checked before any file is read


@dataclass(frozen=True)
class BoardPlan:
    """A board, planned: its cells, where they go, each cell's options (the board's with the
    cell's move and size), and what made it (for the index)."""

    cells: tuple[Cell, ...]
    layout: GridLayout
    options: tuple[RenderOptions, ...]
    moves: str = "all"
    sweeps: tuple[str, ...] = ()


def _board_size(text: str, option: str) -> tuple[int, int]:
    try:
        size = parse_size_text(text)
    except InputError as exc:
        raise InputError(str(exc).replace("--size", option, 1)) from None
    if size is None:
        raise InputError(f"{option} source: a board needs its own size; give HD, UHD or WxH")
    if size[0] % 2 or size[1] % 2:
        raise InputError(
            f"{option} {text}: the board's h264 videos need even sides, "
            f"e.g. {size[0] // 2 * 2}x{size[1] // 2 * 2}"
        )
    return size


def board_layout(count: int, size: str | None = None, cell_size: str | None = None) -> GridLayout:
    """Where ``count`` cells go: with ``cell_size`` (WxH), cells of that size and the grid
    video as large as they need (:func:`~stillcam.review.sheet.grid_around`); else the grid
    video at ``size`` (default HD) and the largest cells that fit it, of its aspect
    (:func:`~stillcam.review.sheet.fit_grid`).

    Raises:
        InputError: both given, ``source``, odd sides, or cells smaller than 16 px.
    """
    if cell_size is not None and size is not None:
        raise InputError(
            "--size and --cell-size: give one (--size: the grid video's, cells fitted to it; --cell-size: "
            "the cells', the grid video fitted around them)"
        )
    if cell_size is not None:
        width, height = _board_size(cell_size, "--cell-size")
        if min(width, height) < MIN_CELL_SIDE:
            raise InputError(f"--cell-size {cell_size}: cells need at least {MIN_CELL_SIDE} px a side")
        return grid_around(count, width, height)
    text = size or "HD"
    layout = fit_grid(count, *_board_size(text, "--size"))
    if layout is None:
        raise InputError(
            f"--size {text}: {count} cells do not fit with their labels at {MIN_CELL_SIDE} px a side "
            "or more; "
            "give a larger --size, a --cell-size, or fewer cells"
        )
    return layout


def plan_board(
    fields_given: Mapping[str, Any],
    *,
    moves: str = "all",
    sweeps: Sequence[str] = (),
    cell_size: str | None = None,
) -> BoardPlan:
    """Plan a board: the cells (:func:`plan_cells`), their layout (:func:`board_layout`: the
    ``size`` field is the grid video's size), and every cell's :class:`RenderOptions`, made
    (so checked) here: ``fields_given`` (flat option names, as
    :meth:`RenderOptions.from_fields`) with the cell's ``move`` and ``size``.

    Raises:
        InputError: ``--move``, ``--set``, ``--path`` or ``--stereo`` (a board's cells are its
            moves, one picture each), or any option a cell's options refuse.
        MoveError: a bad ``--moves`` or ``--sweep``.
    """
    given = dict(fields_given)
    for name, flag in _BOARD_OWNS.items():
        if given.get(name) not in (None, ()):
            raise InputError(f"stillcam board: {flag} is the cells'; give the moves with --moves and --sweep")
    if given.get("stereo") is not None:
        raise InputError("stillcam board: no --stereo on a board; pick a cell (--pick N --stereo ...) for it")
    cells = plan_cells(moves, sweeps)
    layout = board_layout(len(cells), given.pop("size", None), cell_size)
    base = RenderOptions.from_fields(given)
    cell_size_text = f"{layout.cell_width}x{layout.cell_height}"
    options = tuple(
        replace(base, shot=replace(base.shot, move=cell.expression, size=cell_size_text)) for cell in cells
    )
    return BoardPlan(cells, layout, options, moves, tuple(sweeps))


# ----------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True)
class BoardSource:
    """What a board renders: a photo (and its depth file; None: the ``--depth-model``), or the
    bundled example at ``example_size`` (``--example``, as ``stillcam demo``)."""

    photo: Path | None = None
    depth: Path | None = None
    example_size: str | None = None

    def __post_init__(self) -> None:
        if (self.photo is None) == (self.example_size is None):
            raise InputError("stillcam board: give a photo, or --example for the bundled example (not both)")
        if self.example_size is not None and self.depth is not None:
            raise InputError("stillcam board: --depth is a photo's; the example has its own depth")

    @property
    def title(self) -> str:
        """How the contact sheet names the source."""
        return self.photo.name if self.photo is not None else f"bundled example {self.example_size}"

    def inputs(self) -> dict[str, Path | None]:
        """The files a board reads (role -> path), for the outputs' checks."""
        return {"photo": self.photo, "--depth file": self.depth} if self.photo is not None else {}

    def record(self) -> dict[str, Any]:
        """The index's record of the source."""
        if self.photo is None:
            return {"example": self.example_size}
        depth = str(self.depth.resolve()) if self.depth is not None else None
        return {"photo": str(self.photo.resolve()), "depth": depth}


class _Frames:
    """One cell's display frames as they went to its encoder, in a file of the board's partial
    folder (frames x height x width x 3 uint8, memory-mapped), with the cell's timing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.array: np.ndarray | None = None
        self.fps = Fraction(24)
        self.first_frame = 0
        self.written = 0

    def opener(
        self,
        target: OutputTarget,
        width: int,
        height: int,
        fps: Fraction,
        first_frame: int,
        count: int,
        settings: OutputSettings,
        *,
        overwrite: bool,
    ) -> FrameSink:
        """:func:`~stillcam.output.sinks.open_sink`, teed into this store."""
        sink = open_sink(target, width, height, fps, first_frame, count, settings, overwrite=overwrite)
        self.array = np.lib.format.open_memmap(self.path, "w+", np.uint8, (count, height, width, 3))
        self.fps, self.first_frame = fps, first_frame
        return _TeeSink(sink, self)

    def add(self, item: np.ndarray) -> None:
        assert self.array is not None
        pixels = np.asarray(item)[..., :3]
        if pixels.dtype == np.uint16:
            pixels = (pixels >> 8).astype(np.uint8)
        self.array[self.written] = pixels
        self.written += 1

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based; past the last: the last, held)."""
        assert self.array is not None
        return self.array[min(index, self.written - 1)]


class _TeeSink(WrappedSink):
    """A main sink whose display items are also kept in a :class:`_Frames`; everything else
    is the wrapped sink's (the bytes it writes are the same)."""

    def __init__(self, sink: FrameSink, store: _Frames) -> None:
        super().__init__(sink)
        self._store = store

    def write(self, item: Any) -> None:
        if self._sink.accepts in ("display", "rgba"):
            self._store.add(item)
        self._sink.write(item)


def check_board_folder(folder: Path, overwrite: bool) -> None:
    """Refuse a board folder that cannot be written: its parent missing or read-only, a file
    in the way, a folder of other files, an earlier board (unless ``overwrite``), or a board
    another live process is writing (unless ``overwrite``). An empty folder is fine.

    Raises:
        OutputError: what is in the way, and what to do.
    """
    parent = folder.parent
    if not parent.is_dir():
        raise OutputError(f"{parent}: the board's parent folder does not exist; create it first")
    if os.path.lexists(folder) and (folder.is_symlink() or not folder.is_dir()):
        raise OutputError(f"{folder}: exists and is not a folder; -o names the board's folder (it is made)")
    if folder.is_dir():
        try:
            entries = os.listdir(folder)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot be read ({exc.strerror or exc})") from None
        if entries and BOARD_INDEX not in entries:
            raise OutputError(f"{folder}: holds other files, not a board; give a new or empty folder")
        if entries and not overwrite:
            raise OutputError(f"{folder}: a board is there already; pass --overwrite to replace it")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{parent}: folder is not writable; choose another board folder")
    if not overwrite:
        check_not_in_progress(folder)


def _publish_folder(partial: Path, folder: Path) -> None:
    """Move the finished ``partial`` folder to ``folder`` (an earlier board there set aside
    first, then removed), with the umask's usual permissions, signals held meanwhile."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o777 & ~umask)
    with deferred_signals():
        aside = None
        try:
            if folder.is_dir() and os.listdir(folder):  # an earlier board (checked): --overwrite
                aside = make_partial(folder)
                os.rename(folder, aside / "old")
            os.rename(partial, folder)  # an empty folder is replaced
        except OSError as exc:
            if aside is not None and (aside / "old").is_dir() and not os.path.lexists(folder):
                os.rename(aside / "old", folder)  # the earlier board back in place
            raise OutputError(f"{folder}: the board cannot be put in place ({exc.strerror or exc})") from None
        if aside is not None:  # the earlier board, replaced
            shutil.rmtree(aside, ignore_errors=True)


class _CellPrefix(logging.Filter):
    """Starts every record of the ``stillcam`` log with the cell it is about."""

    def __init__(self, cell: Cell) -> None:
        super().__init__()
        self.prefix = f"cell {cell.number} {cell.expression}: "

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.prefix + record.getMessage(), ()
        return True


@contextmanager
def _warnings_of(cell: Cell) -> Iterator[None]:
    """Within the block, the guard's warnings (``stillcam: warning: ...``) name ``cell``."""
    log, prefix = logging.getLogger("stillcam"), _CellPrefix(cell)
    log.addFilter(prefix)
    try:
        yield
    finally:
        log.removeFilter(prefix)


def _render_cell(
    source: BoardSource,
    output: Path,
    options: RenderOptions,
    store: _Frames,
    example: tuple[Any, Any, dict[str, Any]] | None,
) -> Recipe:
    """One cell through the normal pipeline, its main sink teed into ``store``."""
    if example is None:
        assert source.photo is not None
        return pipeline.render(source.photo, source.depth, output, options, sink_opener=store.opener)
    # pipeline.demo's steps (it takes no sink_opener): the example made once for every cell,
    # as each cell's options share what shapes it (--focal-mm/--fov, the fills).
    dest = pipeline.destination(output, options, overwrite=False)
    plan = pipeline.camera_plan(options, dest)
    picture, depth, inputs = example
    return pipeline.render_shot(picture, depth, dest, options, inputs, plan=plan, sink_opener=store.opener)


def _check_cells(plan: BoardPlan, source: BoardSource, cells_dir: Path) -> list[Path]:
    """Every cell's output checked as its render will check it (destination, shot, codec for
    the extension), before any cell renders; returns the cells' output paths."""
    outputs = []
    for cell, options in zip(plan.cells, plan.options, strict=True):
        output = cells_dir / f"{cell.name(len(plan.cells))}.mp4"
        dest = pipeline.destination(output, options, overwrite=False, inputs=source.inputs())
        pipeline.camera_plan(options, dest)
        outputs.append(output)
    return outputs


def render_board(
    plan: BoardPlan,
    source: BoardSource,
    output: str | Path,
    *,
    overwrite: bool = False,
    quiet: bool = True,
) -> dict[str, Any]:
    """Render ``plan``'s cells from ``source`` into the board folder ``output`` (module
    docstring), then its contact sheet, grid video and index; returns the index.

    Everything is checked before the photo is read: the folder (:func:`check_board_folder`),
    the photo's existence, every cell's output and shot. The folder appears complete or not
    at all.

    Raises:
        InputError, OutputError: as the renders do, before any cell is rendered.
    """
    folder = Path(output)
    check_board_folder(folder, overwrite)
    if source.photo is not None:
        check_image_file(source.photo)
    if source.example_size is not None:
        _check_example_size(source.example_size)
    remove_stale_partials(folder)
    partial = make_partial(folder)
    try:
        cells_dir = partial / "cells"
        scratch = partial / ".frames"
        cells_dir.mkdir()
        scratch.mkdir()
        outputs = _check_cells(plan, source, cells_dir)
        example = None
        if source.example_size is not None:
            example = pipeline.demo_inputs(source.example_size, plan.options[0])
        stores = []
        with DelayedProgress(len(plan.cells), "board: rendering cells", quiet=quiet) as bar:
            for index, (cell, options) in enumerate(zip(plan.cells, plan.options, strict=True)):
                store = _Frames(scratch / f"{index}.npy")
                with _warnings_of(cell):
                    _render_cell(source, outputs[index], options, store, example)
                stores.append(store)
                bar.advance()
        labels = [f"{cell.number}  {cell.label}" for cell in plan.cells]
        _write_grid_video(partial / "board.mp4", plan, labels, stores, quiet)
        _write_contact_sheet(partial, plan, source, labels, stores)
        index = _index(plan, source, outputs, partial, stores)
        write_text_atomic(partial / BOARD_INDEX, json.dumps(index, indent=2) + "\n", "board index")
        shutil.rmtree(scratch)
        _publish_folder(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return index


def _check_example_size(text: str) -> None:
    try:
        size = parse_size_text(text)
    except InputError:
        size = None
    if size is None:
        raise InputError(f"--example-size {text!r}: give WxH, e.g. 1920x1080")


def _write_grid_video(
    path: Path, plan: BoardPlan, labels: Sequence[str], stores: Sequence[_Frames], quiet: bool
) -> None:
    """Every cell's frames side by side, in sync (a shorter cell holds its last frame), the
    labels under them; h264 with the board's crf, preset and encoder threads."""
    layout, first = plan.layout, stores[0]
    count = max(store.written for store in stores)
    settings = plan.options[0].output
    grid = OutputSettings(crf=settings.crf, preset=settings.preset, encoder_threads=settings.encoder_threads)
    canvas = grid_canvas(layout, labels)
    sink = open_sink(
        parse_output(path),
        layout.width,
        layout.height,
        first.fps,
        first.first_frame,
        count,
        grid,
        overwrite=False,
    )
    try:
        with DelayedProgress(count, "board: grid video", quiet=quiet) as bar:
            for frame in range(count):
                sink.write(grid_frame(canvas, layout, [store.frame(frame) for store in stores]))
                bar.advance()
        sink.commit()
    except BaseException:
        sink.abort()
        raise


def sheet_frames(count: int) -> tuple[int, int, int]:
    """The frames (0-based) a contact sheet shows of a cell of ``count`` frames: first,
    middle, last.

    >>> sheet_frames(12), sheet_frames(1)
    ((0, 6, 11), (0, 0, 0))
    """
    return 0, count // 2, count - 1


def _write_contact_sheet(
    folder: Path, plan: BoardPlan, source: BoardSource, labels: Sequence[str], stores: Sequence[_Frames]
) -> None:
    """board.png (one page) and board.pdf (:data:`PAGE_ROWS` rows of cells a page)."""
    from PIL import Image

    factor = max(1, math.ceil(plan.layout.cell_width / MAX_THUMB_WIDTH))
    tiles = []
    for label, store in zip(labels, stores, strict=True):
        picks = sheet_frames(store.written)
        frames = [thumbnail(store.frame(i), factor) for i in picks]
        note = "frames " + " / ".join(str(store.first_frame + i) for i in picks)
        tiles.append(sheet_tile(frames, label, note))
    first = stores[0]
    options = plan.options[0].shot
    title = (
        f"stillcam board: {source.title}, {len(plan.cells)} cells, {first.written} frames at "
        f"{options.fps} fps, cells {plan.layout.cell_width}x{plan.layout.cell_height}"
    )
    (png,) = sheet_pages(tiles, title)
    pages = sheet_pages(tiles, title, rows=PAGE_ROWS)
    Image.fromarray(png).save(folder / "board.png", "PNG")
    images = [Image.fromarray(page) for page in pages]
    dpi = images[0].width / 11.69  # pages as wide as A4 landscape
    images[0].save(folder / "board.pdf", "PDF", resolution=dpi, save_all=True, append_images=images[1:])


def _index(
    plan: BoardPlan, source: BoardSource, outputs: Sequence[Path], folder: Path, stores: Sequence[_Frames]
) -> dict[str, Any]:
    """board.json: what made the board and, per cell, its number, expression, label and files
    (relative to the board folder)."""
    layout, first = plan.layout, stores[0]
    cells = []
    for cell, output in zip(plan.cells, outputs, strict=True):
        target = parse_output(output)
        cells.append(
            {
                "number": cell.number,
                "expression": cell.expression,
                "label": cell.label,
                "output": output.relative_to(folder).as_posix(),
                "recipe": target.recipe_path.relative_to(folder).as_posix(),
            }
        )
    return {
        "format": BOARD_FORMAT,
        "stillcam_version": __version__,
        "source": source.record(),
        "moves": plan.moves,
        "sweeps": list(plan.sweeps),
        "frames": first.written,
        "fps": f"{first.fps.numerator}/{first.fps.denominator}",
        "first_frame": first.first_frame,
        "grid": {
            "width": layout.width,
            "height": layout.height,
            "columns": layout.columns,
            "rows": layout.rows,
        },
        "cell_size": {"width": layout.cell_width, "height": layout.cell_height},
        "contact_sheet": ["board.png", "board.pdf"],
        "grid_video": "board.mp4",
        "cells": cells,
    }


# ----------------------------------------------------------------------------------------
# Picking a cell


def read_index(folder: str | Path) -> dict[str, Any]:
    """A board folder's index (``board.json``), its cells' numbers and recipe paths checked.

    Raises:
        InputError: not a board folder, or an index that is not one of stillcam's.
    """
    folder = Path(folder)
    path = folder / BOARD_INDEX if folder.is_dir() or not folder.suffix else folder
    if not path.is_file():
        raise InputError(
            f"{folder}: not a board (no {BOARD_INDEX}); give the folder `stillcam board -o` wrote"
        )
    data = read_structured(path, what="board index", syntax="json", max_bytes=4 * MiB)
    cells = data.get("cells") if isinstance(data, dict) else None
    valid = isinstance(cells, list) and all(
        isinstance(c, dict)
        and isinstance(c.get("number"), int)
        and isinstance(c.get("recipe"), str)
        and not Path(c["recipe"]).is_absolute()
        and ".." not in Path(c["recipe"]).parts
        for c in cells
    )
    if not valid or not cells:
        raise InputError(f"{path}: not a stillcam board index (its cells list is missing or damaged)")
    return {**data, "folder": str(path.parent)}


def pick_recipe(folder: str | Path, number: int) -> Path:
    """The recipe of cell ``number`` of the board in ``folder``.

    Raises:
        InputError: not a board, or no such cell (the valid numbers given).
    """
    index = read_index(folder)
    cells = {cell["number"]: cell for cell in index["cells"]}
    if isinstance(number, bool) or not isinstance(number, int) or number not in cells:
        raise InputError(f"--pick {number}: the board has cells {min(cells)}..{max(cells)}; give one of them")
    return Path(index["folder"]) / cells[number]["recipe"]


def _flat_fields(options: RenderOptions) -> dict[str, Any]:
    return {
        f.name: getattr(getattr(options, name), f.name) for name in SECTIONS for f in fields(SECTIONS[name])
    }


def _absolute_inputs(inputs: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """``inputs`` with the ``path`` of every file record made absolute (relative to ``folder``),
    so the recipe reads the same files from another folder."""
    out = {}
    for key, record in inputs.items():
        if (
            isinstance(record, dict)
            and isinstance(record.get("path"), str)
            and not Path(record["path"]).is_absolute()
        ):
            record = {**record, "path": str(folder / record["path"])}
        out[key] = record
    return out


def pick(
    folder: str | Path,
    number: int,
    output: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    overwrite: bool = False,
    quiet: bool = True,
) -> Recipe:
    """Render cell ``number`` of the board in ``folder`` again, to ``output``, from its recipe:
    without ``overrides`` exactly (:func:`stillcam.pipeline.rerender`: the cell's bytes);
    with them (flat option names, e.g. ``{"size": "UHD", "codec": "prores-422hq"}``) the
    recipe's options with those replaced, rendered the same way (inputs checked unchanged).

    Raises:
        InputError: not a board, no such cell, an override of the cell's camera (``--move``,
            ``--set``, ``--path``) or a bad override value: all before any file is decoded.
        RecipeError: the cell's recipe is damaged, or an input changed.
    """
    recipe_path = pick_recipe(folder, number)
    overrides = dict(overrides or {})
    for name, flag in _BOARD_OWNS.items():
        if name in overrides:
            raise InputError(
                f"--pick {number}: {flag} would change the cell's camera; pick the cell as it is"
            )
    if not overrides:
        return pipeline.rerender(recipe_path, output, overwrite=overwrite, quiet=quiet)
    recipe = read_recipe(recipe_path)
    try:
        options = RenderOptions.from_dict(recipe.options)
    except InputError as exc:
        raise RecipeError(f"{recipe_path}: recipe options: {exc}") from None
    changed = RenderOptions.from_fields({**_flat_fields(options), **overrides})
    derived = replace(
        recipe, options=changed.to_dict(), inputs=_absolute_inputs(recipe.inputs, recipe_path.parent)
    )
    with tempfile.TemporaryDirectory(prefix="stillcam-pick-") as scratch:
        copy = Path(scratch) / recipe_path.name
        write_recipe(copy, derived)
        return pipeline.rerender(copy, output, overwrite=overwrite, quiet=quiet)
