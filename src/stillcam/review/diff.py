"""What differs between two recipes, in units: ``stillcam diff a.recipe.json b.recipe.json``.

Pure functions over two recipes as :func:`~stillcam.output.recipe.recipe_from_dict` reads them
(a bad one is a :class:`~stillcam.errors.RecipeError`): :func:`diff_recipes` gives a tuple of
:class:`Change` records, :func:`format_changes` their lines::

    orbit.degrees 8 deg -> 12 deg
    shot.duration 4 s -> 3 s
    inputs.photo changed (sha256 a223a6e35e42 -> 5b1c0d2e9f31)

What is compared (docs/review.md, "Diff"):

* **inputs**: the photo, depth, camera file and example by content (SHA-256; a path is shown
  only when the content changed too), every other field of their records (``colour``, a depth
  model's ``model`` and ``revision``), the fill models; the stillcam version; the ``models``
  list (by role and name).
* **options**, field by field in each section, with the unit of :data:`OPTION_UNITS`; fields a
  recipe lacks (written before the option existed) count as their default, or as the value
  such a recipe was rendered with where the default changed since (``RECIPE_ABSENT``). The move
  (``--move`` with ``--set``) is compared by what it means: when both shots have the same
  segments and layers (the same moves in the same order) each move parameter is compared with
  its default filled in, in the unit the move registry gives it (``orbit.degrees``; a move
  named twice is ``pan#2``), with each segment's ``duration``, ``frames`` and ``easing``;
  otherwise the whole expression (``shot.move``). ``shot.camera_file`` is compared as the
  camera file's content (``inputs.camera_file``); frame rates as exact fractions (``23.976`` is
  ``24000/1001``).
* **focal**, **depth_source**, **output** (the extension, kind, frames, size, fps, colour,
  stereo, content credentials) and **safety** (the guard's findings).

Ignored, because they never mean another picture or other bytes: the output's own file name
(``hero_v001.mp4`` and ``hero_v002.mp4`` are two versions of one shot; its extension is
compared), the paths of input files whose content is unchanged, the depth cache entry's path
(its content is compared), the depth file's name inside ``depth_source``, and the guard's
``safety.warnings`` (sentences made of the findings that are compared).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields, replace
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

from ..camera.moves import MOVES
from ..camera.plan import DEFAULT_MOVE
from ..camera.shot import Segment, parse_move_expression
from ..errors import InputError
from ..options import RECIPE_ABSENT, SECTIONS
from ..output.recipe import Recipe, read_recipe, recipe_from_dict
from ..output.targets import parse_output

#: Characters of a SHA-256 shown in a change.
SHORT_SHA = 12

#: The unit of each option field, ``section.field`` -> unit (the fields not named have none:
#: names, choices, counts without a unit, fractions). A test checks every key is an option.
OPTION_UNITS: dict[str, str] = {
    "shot.duration": "s",
    "shot.fps": "fps",
    "shot.focal_mm": "mm",
    "shot.fov": "deg",
    "shot.target_depth": "m",
    "depth.near": "m",
    "depth.far": "m",
    "depth.baseline": "m",
    "depth.depth_scale": "x",
    "scene.stride": "px",
    "scene.spacing": "px",
    "scene.soft_edge": "px",
    "scene.mesh_error": "px",
    "render.supersample": "x",
    "render.shutter": "deg",
    "render.shutter_samples": "samples",
    "render.fstop": "f-number",
    "render.vignette": "stops",
    "render.interaxial": "mm",
    "render.focus": "m",
    "render.convergence": "m",
    "output.bit_depth": "bits",
    "output.encoder_threads": "threads",
}
#: Units of the recipe's other blocks (``focal``, ``output``, ``safety``), by path.
RECORD_UNITS: dict[str, str] = {
    "focal.mm": "mm",
    "inputs.example.width": "px",
    "inputs.example.height": "px",
    "output.frames": "frames",
    "output.width": "px",
    "output.height": "px",
    "output.fps": "fps",
    "safety.upscale": "x",
}
#: Segment fields of a move expression: name -> unit.
_SEGMENT_UNITS = {"duration": "s", "frames": "frames", "easing": None}
#: Input records compared by content (their ``path`` shown only when the content changed).
_FILES = ("photo", "depth", "example", "camera_file", "path")
#: Fields of an input record not compared: the depth cache entry's location on this machine.
_NOT_COMPARED = {"path", "cache", "sha256"}


@dataclass(frozen=True)
class Change:
    """One difference between two recipes.

    Attributes:
        path: what changed: ``shot.duration``, ``orbit.degrees`` (a move parameter),
            ``inputs.photo``, ``models.depth:depth-pro.revision``.
        old: the first recipe's value (JSON: None = unset or absent).
        new: the second recipe's value.
        unit: the values' unit (``s``, ``deg``, ``m``, ``mm``, ``frames``, ``fps``, ``px``,
            ``stops``, ``f-number``, ``sha256``: a file's content, ...), or None.
    """

    path: str
    old: Any
    new: Any
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new, "unit": self.unit}


def _number(value: float) -> str:
    """A number as typed: ``4``, ``0.25``, ``1e-06``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _fps_text(value: Any) -> str:
    try:
        fps = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return str(value)
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"


def format_value(value: Any, unit: str | None = None) -> str:
    """``value`` as a change shows it, in ``unit``: ``8 deg``, ``f/2.8``, ``1.5x``, ``on``,
    ``unset`` (None).

    >>> format_value(8.0, "deg"), format_value(2.8, "f-number"), format_value(None, "s")
    ('8 deg', 'f/2.8', 'unset')
    """
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if unit == "sha256" and isinstance(value, str):
        return value[:SHORT_SHA]
    if unit == "fps":
        return f"{_fps_text(value)} fps"
    text = _number(value) if isinstance(value, (int, float)) else str(value)
    if text == "":
        return '""'
    if unit is None or unit == "integer" or not _is_number(value):
        return text
    if unit == "f-number":
        return f"f/{text}"
    return f"{text}{unit}" if unit.startswith("x") else f"{text} {unit}"


def format_change(change: Change) -> str:
    """One line: ``orbit.degrees 8 deg -> 12 deg``; a file's ``inputs.photo changed (sha256
    a223a6e35e42 -> 5b1c0d2e9f31)``."""
    old, new = format_value(change.old, change.unit), format_value(change.new, change.unit)
    if change.unit == "sha256":
        return f"{change.path} changed (sha256 {old} -> {new})"
    return f"{change.path} {old} -> {new}"


def format_changes(changes: Sequence[Change]) -> str:
    """One line per change (:func:`format_change`), ending in a newline; "" for none."""
    return "".join(format_change(c) + "\n" for c in changes)


def _json(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists)."""
    return json.loads(json.dumps(value))


def _as_recipe(data: Recipe | Mapping[str, Any], name: str) -> Recipe:
    if isinstance(data, Recipe):
        return data
    return recipe_from_dict(_json(dict(data)) if isinstance(data, Mapping) else data, name)


def diff_recipes(
    a: Recipe | Mapping[str, Any], b: Recipe | Mapping[str, Any], *, names: tuple[str, str] = ("a", "b")
) -> tuple[Change, ...]:
    """Every difference from recipe ``a`` to recipe ``b`` (module docstring), in the order
    inputs, version, models, options by section, focal, depth source, output, safety.

    ``a`` and ``b`` are parsed recipe files (dicts) or :class:`Recipe` s; ``names`` name them
    in errors.

    Raises:
        RecipeError: either is not a stillcam recipe (the file and the field named).
    """
    old, new = _as_recipe(a, names[0]), _as_recipe(b, names[1])
    return (
        *_input_changes(old.inputs, new.inputs),
        *_values("stillcam_version", old.stillcam_version, new.stillcam_version),
        *_model_changes(old.models, new.models),
        *_option_changes(old.options, new.options),
        *_flat_changes("focal", old.focal, new.focal),
        *_values("depth_source", _depth_source(old), _depth_source(new)),
        *_output_changes(old.output, new.output),
        *_flat_changes("safety", _without(old.safety, "warnings"), _without(new.safety, "warnings")),
    )


def _values(path: str, old: Any, new: Any, unit: str | None = None) -> Iterator[Change]:
    if _json(old) != _json(new):
        yield Change(path, _json(old), _json(new), unit)


def _without(record: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


def _flat_changes(prefix: str, old: Any, new: Any) -> Iterator[Change]:
    """Changes of two JSON values, dicts compared key by key (``output.stereo.mode``)."""
    if (isinstance(old, Mapping) and new is None) or (old is None and isinstance(new, Mapping)):
        old, new = old or {}, new or {}  # a block added or removed: field by field
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new)):
            yield from _flat_changes(f"{prefix}.{key}", old.get(key), new.get(key))
        return
    yield from _values(prefix, old, new, RECORD_UNITS.get(prefix))


# ----------------------------------------------------------------------------------------
# Inputs and models


def _input_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    for key in (*_FILES, *sorted((set(old) | set(new)) - {*_FILES, "fill_models"})):
        if key in _FILES:
            yield from _file_changes(f"inputs.{key}", old.get(key), new.get(key))
        else:
            yield from _flat_changes(f"inputs.{key}", old.get(key), new.get(key))
    yield from _keyed_changes(
        "inputs.fill_models", old.get("fill_models") or [], new.get("fill_models") or [], ("name",)
    )


def _file_changes(
    path: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> Iterator[Change]:
    """An input file: its content (SHA-256), its path when the content changed, its other fields."""
    old, new = old or {}, new or {}
    if old.get("sha256") != new.get("sha256"):
        yield Change(path, old.get("sha256"), new.get("sha256"), "sha256")
        yield from _values(f"{path}.path", old.get("path"), new.get("path"))
    for key in sorted((set(old) | set(new)) - _NOT_COMPARED):
        yield from _flat_changes(f"{path}.{key}", old.get(key), new.get(key))


def _keyed_changes(
    prefix: str, old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], keys: tuple[str, ...]
) -> Iterator[Change]:
    """Two lists of records matched by ``keys`` (``models.depth:depth-pro``): each record
    added, removed, or changed field by field (its SHA-256 as a file's content)."""

    def index(records: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        for record in records:
            label = ":".join(str(record.get(k)) for k in keys)
            at, n = label, 1
            while at in found:  # the same model twice (two roles of one name are two keys)
                n += 1
                at = f"{label}#{n}"
            found[at] = record
        return found

    before, after = index(old), index(new)
    for label in [*before, *(k for k in after if k not in before)]:
        path = f"{prefix}.{label}"
        if label not in before or label not in after:
            yield Change(path, _summary(before.get(label)), _summary(after.get(label)))
            continue
        yield from _file_changes(path, before[label], after[label])


def _summary(record: Mapping[str, Any] | None) -> str | None:
    """A model record in one word: ``depth-pro@<revision>``; None for none."""
    if record is None:
        return None
    revision = record.get("revision")
    return f"{record.get('name')}@{revision}" if revision else str(record.get("name"))


def _model_changes(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> Iterator[Change]:
    yield from _keyed_changes("models", old, new, ("role", "name"))


def _depth_source(recipe: Recipe) -> str:
    """``depth_source`` without the depth file's name (compared by content in the inputs)."""
    path = (recipe.inputs.get("depth") or {}).get("path")
    name = PurePath(path).name if isinstance(path, str) else None
    if name and recipe.depth_source.startswith(f"file:{name} "):
        return "file:" + recipe.depth_source[len(f"file:{name}") :]
    return recipe.depth_source


def _output_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    """The output block: the output's extension (not its name), then every other field."""
    yield from _values("output.extension", _extension(old), _extension(new))
    rest = ("camera_path", "path")
    yield from _flat_changes("output", _without(old, *rest), _without(new, *rest))


def _extension(output: Mapping[str, Any]) -> str | None:
    name = output.get("camera_path", output.get("path"))
    return PurePath(name).suffix.lower() if isinstance(name, str) else None


# ----------------------------------------------------------------------------------------
# Options


def _default(f: Any) -> Any:
    if f.default is not MISSING:
        return _json(f.default)
    if f.default_factory is not MISSING:
        return _json(f.default_factory())
    return None


def _section_values(section: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """A recipe's option section with the defaults of the fields it lacks (older recipes), or
    the value such a recipe was rendered with where the default changed since."""
    known = SECTIONS.get(section)
    values = {f.name: _default(f) for f in fields(known)} if known is not None else {}
    values.update(RECIPE_ABSENT.get(section, {}))
    values.update(given)
    return values


def _option_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    for section in [*SECTIONS, *sorted((set(old) | set(new)) - set(SECTIONS))]:
        before = _section_values(section, old.get(section) or {})
        after = _section_values(section, new.get(section) or {})
        if section == "shot":
            yield from _shot_changes(before, after)
            continue
        for key in [*before, *(k for k in after if k not in before)]:
            yield from _option(section, key, before.get(key), after.get(key))


def _option(section: str, key: str, old: Any, new: Any) -> Iterator[Change]:
    path = f"{section}.{key}"
    unit = OPTION_UNITS.get(path)
    if unit == "fps" and _same_fps(old, new):
        return
    yield from _values(path, old, new, unit)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        return isinstance(value, str) and math.isfinite(float(value))
    except ValueError:
        return False


def _same_fps(old: Any, new: Any) -> bool:
    from ..conventions import parse_fps

    try:
        return parse_fps(old) == parse_fps(new)
    except InputError:
        return old == new


def _shot_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> Iterator[Change]:
    """The shot section: the move by its meaning (:func:`move_changes`), the camera file by
    its content (in the inputs), every other field as it is."""
    for key in [*before, *(k for k in after if k not in before)]:
        if key == "move":
            yield from move_changes(before, after)
        elif key not in ("params", "camera_file"):
            yield from _option("shot", key, before.get(key), after.get(key))


# ----------------------------------------------------------------------------------------
# Moves


def _segments(shot: Mapping[str, Any]) -> tuple[Segment, ...] | None:
    """The segments ``--move`` and ``--set`` of a recipe's shot section give (the planner's
    reading: ``--set`` on the one move), or None: a camera file, or what this version cannot
    read."""
    if shot.get("camera_file") is not None:
        return None
    try:
        segments = parse_move_expression(str(shot.get("move") or DEFAULT_MOVE))
        params = shot.get("params") or []
        if params:
            from ..camera.moves import parse_move_params

            if len(segments) != 1:
                return None
            merged = {**segments[0].params, **parse_move_params(list(params))}
            segments = (replace(segments[0], params=merged),)
        for segment in segments:
            for step in (segment, *segment.layers):
                MOVES[step.move].resolve(step.params)
    except (InputError, KeyError, TypeError):
        return None
    return segments


def _structure(segments: tuple[Segment, ...]) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.move, tuple(layer.move for layer in s.layers)) for s in segments]


def _labels(segments: tuple[Segment, ...]) -> list[str]:
    """Each step's name in the changes, segments and their layers in order: the move's
    name, ``pan#2`` for its second appearance when it appears more than once."""
    moves = [step.move for s in segments for step in (s, *s.layers)]
    seen: dict[str, int] = {}
    labels = []
    for move in moves:
        seen[move] = seen.get(move, 0) + 1
        labels.append(move if moves.count(move) == 1 else f"{move}#{seen[move]}")
    return labels


def move_changes(old_shot: Mapping[str, Any], new_shot: Mapping[str, Any]) -> tuple[Change, ...]:
    """The changes of the move between two recipes' shot sections: per parameter when both
    moves have the same structure (module docstring), else the whole ``shot.move`` (and
    ``shot.params``) as written.

    >>> old, new = {"move": "orbit(degrees=8)"}, {"move": "orbit", "params": ["degrees=12"]}
    >>> [format_change(c) for c in move_changes(old, new)]
    ['orbit.degrees 8 deg -> 12 deg']
    """
    old, new = _segments(old_shot), _segments(new_shot)
    if old is None or new is None or _structure(old) != _structure(new):
        return (
            *_values("shot.move", old_shot.get("move"), new_shot.get("move")),
            *_values("shot.params", old_shot.get("params") or [], new_shot.get("params") or []),
        )
    changes: list[Change] = []
    labels = iter(_labels(old))
    for before, after in zip(old, new, strict=True):
        for step_before, step_after in zip((before, *before.layers), (after, *after.layers), strict=True):
            label = next(labels)
            changes += _step_changes(label, step_before, step_after)
            if step_before is before:
                for key, unit in _SEGMENT_UNITS.items():
                    changes += _values(f"{label}.{key}", getattr(before, key), getattr(after, key), unit)
    return tuple(changes)


def _step_changes(label: str, old: Any, new: Any) -> list[Change]:
    """One move's parameters, defaults filled in, in the registry's units; its easing (layers)."""
    spec = MOVES[old.move]
    before, after = spec.resolve(old.params), spec.resolve(new.params)
    changes = [
        Change(f"{label}.{p.name}", before[p.name], after[p.name], p.unit)
        for p in spec.params
        if before[p.name] != after[p.name]
    ]
    if not isinstance(old, Segment):  # a layer's easing (a segment's is with its timing)
        changes += _values(f"{label}.easing", old.easing, new.easing)
    return changes


def recipe_path_of(path: str | PurePath) -> Path:
    """The recipe of ``path``: itself when it is a ``.json`` file, else the recipe beside the
    output it names (``shot.recipe.json`` for ``shot.mp4``, ``shot.png.recipe.json`` for
    ``shot.####.png``).

    Raises:
        InputError: ``path`` is neither a recipe nor an output's name (its extension).
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        return path
    return parse_output(path).recipe_path


def diff_files(a: str | PurePath, b: str | PurePath) -> tuple[Change, ...]:
    """:func:`diff_recipes` of two recipe files (or of the recipes of two outputs, :func:`recipe_path_of`).

    Raises:
        RecipeError: a file that is missing, unreadable or not a stillcam recipe (one line).
    """
    return diff_recipes(read_recipe(recipe_path_of(a)), read_recipe(recipe_path_of(b)))
