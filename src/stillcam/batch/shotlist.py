"""Shot lists: a YAML or JSON file (``defaults:`` and ``shots:``), a CSV table or an
OpenTimelineIO timeline (:mod:`.editorial`), read into one :class:`ShotSpec` per shot, every
shot checked and every problem collected.

A shot's fields (:data:`LIST_FIELDS` and the option aliases below; ``stillcam batch --help``
and docs/batch.md list them):

- ``name`` (required, unique, letters, digits, ``.``, ``_``, ``-``: it names files), ``seq``
  (for the ``{seq}`` of a template), ``photo``, ``depth`` (a file; without one the depth is
  estimated by ``depth_model``), ``move`` with ``set``/``params`` (as ``--set``) or
  ``shot_file`` (a camera file, as ``--path``), ``duration`` (s) or ``frames`` (a frame count),
  ``fps``, ``size``, ``codec``, ``output`` (a name template, :mod:`.naming`), ``exports``
  (templates), ``version``;
- any other render option by its field name (``stride``, ``fill``, ``supersample``: those of
  :class:`~stillcam.options.RenderOptions`), beside them or under ``options:`` in YAML, as a
  column in CSV. (``frames`` is the frame count; only under ``options:`` is it the render
  option ``--frames A-B``.)

Precedence, lowest first: the built-in defaults, the file's ``defaults:``, the command
line's options, the shot's own fields. A level that sets one of two alternatives drops what
the levels below it gave of the other (``move``/``shot_file``, ``duration``/``frames``,
``depth``/``depth_model``), and one that sets ``move`` or ``shot_file`` without ``set`` drops
the ``set`` below it (move parameters belong to their move).

Paths in the file (photo, depth, shot file, model folders) are relative to the file's
folder; those on the command line to the working folder; output templates to ``-o DIR``. A
photo, depth file or shot file may be a URL on storage (``s3://bucket/a.jpg``, :mod:`.storage`):
checked to exist here, fetched by the process that renders it.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..camera.path import frame_count
from ..camera.plan import ShotSettings, parse_frame_rate
from ..camera.shot import MAX_FRAMES
from ..errors import InputError, StillcamError
from ..io.structured import MiB, read_bytes_bounded, read_structured, schema_message
from ..options import SECTIONS, RenderOptions
from . import storage

#: The most shots one list may hold.
MAX_SHOTS = 100_000
#: The largest shot list file (about 600 bytes a shot at the most shots).
MAX_LIST_BYTES = 64 * MiB
#: The highest version number.
MAX_VERSION = 99_999
#: The output template of a shot that names none.
DEFAULT_OUTPUT = "{shot}_v{version:03d}.mp4"
#: What a shot name may be: it is part of file names.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Shot-list fields that are not render options.
LIST_FIELDS = ("name", "seq", "photo", "depth", "frames", "output", "exports", "version", "options")
#: Shot-list names of render options: list name -> option field.
ALIASES = {"shot_file": "camera_file", "set": "params"}
#: Option fields that are paths (relative to the list's folder in the list).
PATH_OPTIONS = ("camera_file", "model_dir", "fill_model_dir")
#: Alternatives: a level that sets one drops the others given below it (the keys used inside).
_ALTERNATIVES = (
    frozenset({"move", "camera_file"}),
    frozenset({"duration", "frame_count"}),
    frozenset({"depth", "depth_model"}),
)
_OPTION_FIELDS = {f.name: section for section in SECTIONS.values() for f in fields(section)}
_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".csv": "csv",
    ".otio": "otio",
    ".otiod": "otio",
    ".otioz": "otio",
}
_LIST_SEPARATORS = re.compile(r"[;\s]+")


@dataclass(frozen=True)
class ShotSpec:
    """One shot of a list, every default applied; its output names are still templates.

    Attributes:
        name: the shot's name.
        where: where it stands in the list, for messages (``shots.yaml: shots[3] (SH040)``).
        photo: the still (an absolute path, or a file on storage).
        depth: its depth file (the same), or None (estimated by ``options.depth.depth_model``).
        options: all its render options.
        output: the output's name template (:mod:`.naming`), relative to ``-o DIR``.
        exports: export templates.
        version: the version asked for (the first one tried).
        seq: the shot's sequence, for ``{seq}``; None when not given.
        shot_file: its shot file (``options.shot.camera_file``) when that is a URL on storage.
    """

    name: str
    where: str
    photo: Path | storage.Remote
    depth: Path | storage.Remote | None
    options: RenderOptions
    output: str = DEFAULT_OUTPUT
    exports: tuple[str, ...] = ()
    version: int = 1
    seq: str | None = None
    shot_file: storage.Remote | None = None


@dataclass(frozen=True)
class RawList:
    """A shot list as read, before any check of its values: what each format's reader gives
    (:func:`read_raw`; an editorial timeline reader can give the same).

    Attributes:
        label: the list's name in messages (the path as given).
        base: the folder its relative paths start from.
        defaults: the ``defaults:`` mapping (empty for CSV).
        shots: ``(where, fields)`` of each shot, ``where`` as messages show it
            (``shots.csv row 5``).
        errors: problems found while reading (a bad CSV row), one line each.
    """

    label: str
    base: Path
    defaults: Mapping[str, Any]
    shots: tuple[tuple[str, Mapping[str, Any]], ...]
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShotList:
    """A checked shot list: its shots, or every problem found in it."""

    label: str
    specs: tuple[ShotSpec, ...]
    errors: tuple[str, ...]


class ShotListErrors(InputError):
    """Problems of a shot list (exit 2); ``lines`` holds them all, one line each."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = tuple(lines)
        more = f" (and {len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
        super().__init__(f"{self.lines[0]}{more}")


_Text = Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^[^\x00]*$")]
_Short = Annotated[str, Field(min_length=1, max_length=100)]


class _Level(BaseModel):
    """The fields of one shot, or of the defaults (``name`` only in a shot)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: _Short | None = None
    seq: _Short | None = None
    photo: _Text | None = None
    depth: _Text | None = None
    depth_model: _Text | None = None
    move: _Text | None = None
    params: Annotated[list[_Text], Field(max_length=256)] | None = None
    shot_file: _Text | None = None
    duration: float | None = None
    frames: Annotated[int, Field(ge=1, le=MAX_FRAMES)] | None = None
    fps: int | float | _Text | None = None
    size: _Text | None = None
    codec: _Text | None = None
    output: _Text | None = None
    exports: Annotated[list[_Text], Field(max_length=64)] | None = None
    version: Annotated[int, Field(ge=1, le=MAX_VERSION)] | None = None
    options: dict[Annotated[str, Field(max_length=100)], Any] | None = None


class _ListFile(BaseModel):
    """The top level of a YAML or JSON shot list."""

    model_config = ConfigDict(extra="forbid")
    defaults: dict[str, Any] | None = None
    shots: list[Any]


def list_kind(path: Path) -> str:
    """``yaml``, ``json``, ``csv`` or ``otio``, by the list's extension.

    Raises:
        InputError: another extension, with those accepted.
    """
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"{path}: a shot list is a .yaml/.yml, .json or .csv file, or an OpenTimelineIO timeline "
            f"(.otio, .otiod, .otioz; docs/batch.md); got {path.suffix!r}"
        )
    return kind


def read_raw(path: str | Path) -> RawList:
    """The shot list at ``path`` as read (:class:`RawList`), by its extension.

    Raises:
        InputError: one line: the file cannot be read, is too large, is not valid YAML, JSON
            or CSV, or has no shots or more than :data:`MAX_SHOTS`.
    """
    path = Path(path)
    kind = list_kind(path)
    base = path.absolute().parent
    if kind == "csv":
        return _read_csv(path, base)
    if kind == "otio":
        return _read_timeline(path, base)
    data = read_structured(path, what="shot list", syntax=kind, max_bytes=MAX_LIST_BYTES)  # type: ignore[arg-type]
    if isinstance(data, list):
        data = {"shots": data}
    if not isinstance(data, dict):
        raise InputError(f"{path}: a shot list is a mapping with `shots:` (and `defaults:`), docs/batch.md")
    try:
        top = _ListFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: {schema_message(exc)}") from None
    _check_count(path, len(top.shots))
    shots = tuple((f"{path}: shots[{i}]", shot) for i, shot in enumerate(top.shots))
    return RawList(str(path), base, top.defaults or {}, shots)


def _read_timeline(path: Path, base: Path) -> RawList:
    """An editorial timeline's clips as shots (:func:`stillcam.batch.editorial.read_timeline`):
    the good clips are checked like any shot and reported with the bad clips' lines."""
    from .editorial import read_timeline

    shots, errors = read_timeline(path)
    _check_count(path, len(shots) + len(errors))
    return RawList(str(path), base, {}, shots, errors)


def _check_count(path: Path, count: int) -> None:
    if count == 0:
        raise InputError(f"{path}: the shot list has no shots")
    if count > MAX_SHOTS:
        raise InputError(f"{path}: {count:,} shots; a list holds at most {MAX_SHOTS:,} (split it)")


def csv_columns() -> list[str]:
    """The column names a CSV shot list may have."""
    names = [n for n in _Level.model_fields if n != "options"] + [*ALIASES, *_OPTION_FIELDS]
    return list(dict.fromkeys(names))


def _read_csv(path: Path, base: Path) -> RawList:
    """A CSV shot list: a header row of field names, then one shot a row (empty cell: default)."""
    data = read_bytes_bounded(path, what="shot list", max_bytes=MAX_LIST_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); a CSV shot list is UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(f"{path}: empty; a CSV shot list starts with a header row (name,photo,...)")
        columns = [c.strip() for c in header]
        known = set(csv_columns())
        errors = []
        unknown = [c for c in columns if c not in known]
        if unknown:
            errors.append(
                f"{path} row 1: unknown column{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; columns are shot fields and render options "
                "(docs/batch.md)"
            )
        doubled = sorted({c for c in columns if columns.count(c) > 1})
        if doubled:
            errors.append(f"{path} row 1: column {', '.join(map(repr, doubled))} given twice")
        if "name" not in columns:
            errors.append(f"{path} row 1: no `name` column; every shot needs a name")
        shots = []
        rows = 0
        for cells in reader:
            row = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            rows += 1
            if rows > MAX_SHOTS:
                _check_count(path, rows)
            where = f"{path} row {row}"
            if len(cells) != len(columns):
                errors.append(f"{where}: {len(cells)} cells, the header has {len(columns)}")
                continue
            shots.append((where, _csv_fields(columns, cells, known)))
    except csv.Error as exc:
        raise InputError(f"{path}: not valid CSV (line {reader.line_num}: {exc})") from None
    _check_count(path, rows)
    return RawList(str(path), base, {}, tuple(shots), tuple(errors))


def _csv_fields(columns: list[str], cells: list[str], known: set[str]) -> dict[str, Any]:
    """One CSV row as shot fields: shot-list columns as they are, option columns under
    ``options``; list cells (``set``, ``exports``, ``passes``) split at ``;``."""
    shot: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=True):
        value = cell.strip()
        if not value or column not in known:
            continue
        if column in ("set", "params", "exports"):
            shot[column] = [v for v in _LIST_SEPARATORS.split(value) if v]
        elif column in _Level.model_fields or column in ALIASES:
            shot[column] = value
        else:
            options[column] = value
    if options:
        shot["options"] = options
    return shot


@functools.cache
def _hints(section: type) -> dict[str, Any]:
    return typing.get_type_hints(section)


def coerce_option(name: str, value: Any) -> Any:
    """``value`` (typed in YAML, text in CSV) as option ``name``'s type: text read as a
    number, a flag or a list where the option is one, numbers written as text where it is
    text (``fps: 25``). What cannot be converted is left for the option's own check.

    Raises:
        InputError: text that is not a number or a flag where one is needed.
    """
    hint = _hints(_OPTION_FIELDS[name])[name]
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        hint = type(args[0])
    if isinstance(value, str) and hint is not str:
        return _from_text(name, value.strip(), hint, origin, args)
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    return value


def _from_text(name: str, text: str, hint: Any, origin: Any, args: tuple[Any, ...]) -> Any:
    """Option ``name``'s value from text (a CSV cell)."""
    try:
        if hint is bool:
            lowered = text.lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
            raise ValueError
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
        if origin is tuple and args[-1] is Ellipsis:
            return tuple(v for v in _LIST_SEPARATORS.split(text) if v)
        if origin is tuple:
            return tuple(float(v) for v in text.split(","))
    except ValueError:
        kinds = {bool: "true or false", int: "a whole number", float: "a number"}
        what = kinds.get(hint, "R,G,B numbers")
        raise InputError(f"{name} {text[:40]!r}: expected {what}") from None
    return text


def _paths_of(level: dict[str, Any], base: Path) -> dict[str, Any]:
    """``level`` with its paths made absolute from ``base`` (the photo and depth as Paths; URLs
    kept as they are)."""
    for key in ("photo", "depth"):
        if level.get(key) is not None:
            given = level[key]
            level[key] = (given if storage.is_url(given) else base / given, given)
    for key in PATH_OPTIONS:
        if level.get(key) is not None and not storage.is_url(str(level[key])):
            level[key] = str(base / str(level[key]))
    return level


def _prepared(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``raw`` with ``set`` read as ``params``, a lone text or a mapping of move parameters
    (``set: {degrees: 8}``) as a list, and render options given beside the shot's fields moved
    under ``options``."""
    values = dict(raw)
    if "set" in values:
        if "params" in values:
            raise InputError(f"{where}: give `set` or `params`, not both")
        values["params"] = values.pop("set")
    for key in ("params", "exports"):
        if isinstance(values.get(key), str):
            values[key] = [values[key]]
    if isinstance(values.get("params"), Mapping):
        values["params"] = [f"{k}={v}" for k, v in values["params"].items()]
    loose = [k for k in values if k in _OPTION_FIELDS and k not in _Level.model_fields]
    if loose:  # render options beside the shot's fields, as CSV columns are: as under options:
        options = values.get("options")
        options = dict(options) if isinstance(options, Mapping) else {}
        for key in loose:
            if key in options:
                raise InputError(f"{where}: {key} is given twice (also under options)")
            options[key] = values.pop(key)
        values["options"] = options
    return values


def _inside(given: Mapping[str, Any], options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A level's checked fields and ``options:`` under the keys used inside (option names,
    ``frame_count``), option values coerced (:func:`coerce_option`)."""
    out: dict[str, Any] = {}
    valid = ", ".join(sorted(_OPTION_FIELDS))
    for key, value in options.items():
        if key not in _OPTION_FIELDS:
            raise InputError(f"{where}: options.{key}: not a render option; valid ones: {valid}")
        out[key] = coerce_option(key, value)
    for key, value in given.items():
        key = "frame_count" if key == "frames" else ALIASES.get(key, key)
        if key in _OPTION_FIELDS:
            if key in out:
                raise InputError(f"{where}: {key} is given twice (also under options)")
            value = coerce_option(key, value)
        elif key == "exports":
            value = tuple(value)
        out[key] = value
    return out


def _level(raw: Any, where: str, base: Path, *, shot: bool) -> dict[str, Any]:
    """One level's fields under the keys used inside (:func:`_inside`), checked by
    :class:`_Level`, paths absolute.

    Raises:
        InputError: the first problem, located (``where: field: problem``).
    """
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: must be a mapping of shot fields, got {type(raw).__name__}")
    try:
        checked = _Level.model_validate(_prepared(raw, where))
    except ValidationError as exc:
        raise InputError(f"{where}: {schema_message(exc)}") from None
    given = {  # null: not given, but for depth (null: estimate it, whatever the defaults say)
        k: v for k, v in checked.model_dump(exclude_unset=True).items() if v is not None or k == "depth"
    }
    if not shot and "name" in given:
        raise InputError(f"{where}: name: defaults cannot name a shot")
    options = given.pop("options", None) or {}
    try:
        out = _inside(given, options, where)
    except InputError as exc:
        text = str(exc)
        raise InputError(text if text.startswith(where) else f"{where}: {text}") from None
    return _paths_of(out, base)


def merge(levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The fields of ``levels``, lowest first, each overriding those below it; alternatives
    replace each other and a new move drops the move parameters below it (module docstring)."""
    merged: dict[str, Any] = {}
    for level in levels:
        for group in _ALTERNATIVES:
            if group & level.keys():
                for other in group - level.keys():
                    merged.pop(other, None)
        if {"move", "camera_file"} & level.keys() and "params" not in level:
            merged.pop("params", None)
        merged.update(level)
    return merged


def cli_level(values: Mapping[str, Any], cwd: Path) -> dict[str, Any]:
    """The command line's defaults as a level: option fields (typed, as argparse gives them),
    ``output`` and ``exports`` templates; paths absolute from ``cwd``."""
    level = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
    for key in PATH_OPTIONS:
        if level.get(key) is not None and not storage.is_url(str(level[key])):
            level[key] = str(cwd / str(level[key]))
    return level


#: Inputs on storage already looked up while checking one list: "ROLE URL" -> (the file, its
#: problem or None).
_Looked = dict[str, tuple["storage.Remote | None", "str | None"]]


def _remote_input(role: str, url: str, looked: _Looked) -> tuple[storage.Remote | None, str | None]:
    """(the file on storage at ``url``, what is wrong with it), each looked up once a list (its
    existence only: nothing is downloaded here)."""
    key = f"{role} {url}"
    if key not in looked:
        try:
            found = storage.remote(url)
        except InputError as exc:
            looked[key] = (None, f"{role} {exc}")
        else:
            looked[key] = (found, storage.file_problem(role, found))
    return looked[key]


def _file_problem(role: str, file: tuple[Path, str]) -> str | None:
    """What is wrong with an input file (``photo missing.jpg: no such file``), or None."""
    path, given = file
    if path.is_dir():
        return f"{role} {given}: is a folder, not a file"
    if not path.exists():
        return f"{role} {given}: no such file"
    if not path.is_file():
        return f"{role} {given}: not a regular file"
    return None


def _input(
    role: str, file: tuple[Path | str, str] | None, looked: _Looked, problems: list[str]
) -> Path | storage.Remote | None:
    """The input ``file`` (a path, or a URL's file on storage), its problem added to
    ``problems``; None when there is none or it has a problem."""
    if file is None:
        return None
    if isinstance(file[0], str):
        found, problem = _remote_input(role, file[0], looked)
    else:
        found, problem = file[0], _file_problem(role, file)  # type: ignore[arg-type]
    if problem:
        problems.append(problem)
        return None
    return found


def _shot_file(merged: dict[str, Any], looked: _Looked, problems: list[str]) -> storage.Remote | None:
    """The shot file on storage when ``camera_file`` is a URL; model folders must be local."""
    for key in ("model_dir", "fill_model_dir"):
        if storage.is_url(str(merged.get(key) or "")):
            problems.append(f"{key} {merged[key]}: a folder on storage is not read; give a local folder")
    camera = merged.get("camera_file")
    if camera is None or not storage.is_url(str(camera)):
        return None
    found = _input("shot file", (str(camera), str(camera)), looked, problems)
    return found if isinstance(found, storage.Remote) else None


def _spec(
    merged: dict[str, Any], where: str, looked: _Looked | None = None
) -> tuple[ShotSpec | None, list[str]]:
    """The :class:`ShotSpec` of a shot's merged fields, or every problem found in them
    (``looked``: the inputs on storage already looked up)."""
    looked = {} if looked is None else looked
    problems: list[str] = []
    name = merged.get("name")
    if name is None:
        problems.append("name: is required")
    elif not NAME.fullmatch(name):
        problems.append(
            f"name {name[:40]!r}: use letters, digits, '.', '_' and '-' (starting with a letter or digit; "
            "at most 100): it names files"
        )
    if merged.get("photo") is None:
        problems.append("photo: is required (in the shot or the defaults)")
    photo = _input("photo", merged.get("photo"), looked, problems)
    depth = _input("depth", merged.get("depth"), looked, problems)
    shot_file = _shot_file(merged, looked, problems)
    option_values = {k: v for k, v in merged.items() if k in _OPTION_FIELDS}
    options = None
    try:
        count = merged.get("frame_count")
        if count is not None:
            option_values["duration"] = _duration_of(count, option_values.get("fps", ShotSettings.fps))
        options = _options(option_values)
    except StillcamError as exc:
        problems.append(str(exc))
    if problems or options is None or photo is None:
        return None, problems
    spec = ShotSpec(
        name=name,  # type: ignore[arg-type]
        where=where,
        photo=photo,
        depth=depth,
        options=options,
        output=merged.get("output", DEFAULT_OUTPUT),
        exports=tuple(merged.get("exports", ())),
        version=merged.get("version", 1),
        seq=merged.get("seq"),
        shot_file=shot_file,
    )
    return spec, []


@functools.lru_cache(maxsize=4096)
def _cached_options(key: tuple[Any, ...], items: tuple[tuple[str, Any], ...]) -> RenderOptions:
    return RenderOptions.from_fields(dict(items))


def _typed_key(value: Any) -> Any:
    """``value`` with its type, so that equal values of other types (``1``, ``1.0``, ``True``)
    are not one cache entry: each type is checked on its own."""
    if isinstance(value, tuple):
        return ("tuple", tuple(_typed_key(v) for v in value))
    return (type(value).__name__, value)


def _options(values: dict[str, Any]) -> RenderOptions:
    """``RenderOptions.from_fields(values)``, made once for the many shots of a list that share
    their options (frozen: one object may serve them all)."""
    items = tuple(sorted(values.items()))
    try:
        key = tuple((k, _typed_key(v)) for k, v in items)
        hash(key)
    except TypeError:  # a value no option takes (a mapping): its own check says so
        return RenderOptions.from_fields(values)
    return _cached_options(key, items)


def _duration_of(count: int, fps_text: Any) -> float:
    """The duration in seconds of ``count`` frames at ``fps_text``, exactly as many frames.

    Raises:
        InputError: a bad frame rate, or a count no duration gives at that rate.
    """
    fps = parse_frame_rate(str(fps_text))
    duration = float(Fraction(count) / fps)
    if frame_count(duration, fps) != count:
        raise InputError(f"frames {count} at fps {fps_text}: no duration gives exactly {count} frames")
    return duration


def _label(where: str, raw: Any) -> str:
    """``where`` with the shot's name when it has a readable one: ``shots[3] (SH040)``."""
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return f"{where} ({name})" if isinstance(name, str) and 0 < len(name) <= 100 else where


def check_shots(raw: RawList, cli: Mapping[str, Any] | None = None) -> ShotList:
    """Check every shot of ``raw`` with the defaults and the command line's ``cli`` level
    (:func:`cli_level`); collect every problem, each located (``shots.csv row 5 (SH040):
    unknown move 'orbt'``), with duplicate shot names (compared ignoring case: they name files).
    """
    errors = list(raw.errors)
    try:
        defaults = _level(raw.defaults, f"{raw.label}: defaults", raw.base, shot=False)
    except InputError as exc:
        errors.append(str(exc))
        defaults = {}
    cli_values = dict(cli or {})
    specs: list[ShotSpec] = []
    seen: dict[str, str] = {}
    looked: _Looked = {}
    for where, fields_ in raw.shots:
        label = _label(where, fields_)
        try:
            level = _level(fields_, label, raw.base, shot=True)
        except InputError as exc:
            errors.append(str(exc))
            continue
        if level.get("commercial_only") is False and cli_values.get(
            "commercial_only", defaults.get("commercial_only")
        ):  # set once for the whole batch (docs/delivery.md, Provenance)
            errors.append(
                f"{label}: commercial_only: the batch is commercial-only; a shot cannot turn it off"
            )
            continue
        spec, problems = _spec(merge([defaults, cli_values, level]), label, looked)
        errors.extend(f"{label}: {p}" for p in problems)
        name = level.get("name")
        if isinstance(name, str):
            key = name.casefold()
            if key in seen:
                errors.append(f"{label}: duplicate shot name {name!r} (also {seen[key]})")
                continue
            seen[key] = label
        if spec is not None:
            specs.append(spec)
    return ShotList(raw.label, tuple(specs), tuple(errors))


def load_shot_list(path: str | Path, cli: Mapping[str, Any] | None = None) -> ShotList:
    """:func:`read_raw` then :func:`check_shots`.

    Raises:
        InputError: the file as a whole cannot be read (problems of shots are in the result's
            ``errors``).
    """
    return check_shots(read_raw(path), cli)
