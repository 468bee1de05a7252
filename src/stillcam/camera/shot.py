"""Shots: sequences and layers of moves, keyframes, and the shot file (YAML or JSON).

A :class:`Shot` is either a sequence of move :class:`Segment` s (each with optional layered
moves, its own easing and duration) or a list of :class:`Keyframe` s, plus layers over the
whole shot. The same types are the shot file's schema (docs/moves.md, "Shot files"): pydantic
checks a file's structure, :func:`check_shot` its meaning, :func:`build_shot_path` samples it.

Composition rules (docs/moves.md):

* Sequence - segment k starts where segment k-1 ended (pose and focal). Its move is relative
  to that camera; fractions are of the distance to the subject from there, and framing moves
  keep the same world target. Segment 0's first frame is the start camera; every later segment
  adds its frames after the previous one's last, so frames add up and none is repeated.
* Layer - a layered move is applied in the camera's own frame on top of the base move
  (``pose = base @ layer``, focal multiplied), over the same span.
* Command line: ``dolly-in(fraction=0.2, duration=2) then pan(degrees=15) + handheld(seed=3)``
  - ``then`` separates segments, ``+`` layers a move on the segment it follows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import field, replace
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass

from ..conventions import FIRST_FRAME, focal_mm_to_px, parse_fps
from ..errors import InputError, MoveError
from ..io.files import write_text_atomic
from ..io.structured import MiB, read_structured, schema_message
from .camera import Camera, look_at, pose_from
from .focus import MAX_FOCUS_M, MAX_FSTOP, MIN_FOCUS_M, MIN_FSTOP, key_lens_values, with_key_lens
from .keyframes import (
    eased_times,
    interpolate_keys,
    rotation_from_angles,
    rotation_from_quaternion,
)
from .moves import MoveContext, MoveFunction, get_move, parse_param_value
from .path import CameraPath, check_easing, ease, frame_count

SHOT_FORMAT = 1
#: The most frames a shot may have, and the most seconds (at its frame rate).
MAX_FRAMES = 100_000
MAX_SECONDS = 3600.0
#: The largest first frame number.
MAX_FIRST_FRAME = 10_000_000
#: The largest shot file read (a YAML file this size parses in a few seconds).
MAX_SHOT_FILE_BYTES = 4 * MiB
#: Positions and points of keys: metres from the photo's camera.
MAX_METRES = 1e6
#: Every float of a shot is finite; unknown fields are refused.
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

_Name = Annotated[str, Field(min_length=1, max_length=64)]
_Easing = Annotated[str, Field(min_length=1, max_length=200)]
_Frames = Annotated[int, Field(ge=1, le=MAX_FRAMES)]
_Seconds = Annotated[float, Field(gt=0.0, le=MAX_SECONDS)]
_Metres = Annotated[float, Field(ge=-MAX_METRES, le=MAX_METRES)]
_Point = tuple[_Metres, _Metres, _Metres]
_Degrees = Annotated[float, Field(ge=-1e6, le=1e6)]
_FocalMm = Annotated[float, Field(ge=1.0, le=5000.0)]
_FrameNumber = Annotated[int, Field(ge=0, le=MAX_FIRST_FRAME + MAX_FRAMES)]
_Unit = Annotated[float, Field(ge=-1e6, le=1e6)]


def _label(text: str) -> str:
    """``text`` for a one-line message: characters that do not print (a newline in a damaged
    shot file's move name) escaped as in Python's repr."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _easing_text(value: Any) -> Any:
    """A shot file may give a Bézier as four numbers; keep it as ``bezier(x1,y1,x2,y2)``
    (anything else is left for the schema to refuse)."""
    if (
        isinstance(value, (list, tuple))
        and len(value) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return "bezier(" + ",".join(repr(float(v)) for v in value) + ")"
    return value


@dataclass(frozen=True, config=_STRICT)
class MoveStep:
    """A move of the library with its parameters (units per ``stillcam moves``).

    Attributes:
        move: move name (``stillcam moves``).
        params: parameter name -> value in the parameter's unit (None = unset).
        easing: speed curve; None = the segment's (for layers) or the shot's.
    """

    move: _Name
    params: dict[str, float | None] = field(default_factory=dict)
    easing: _Easing | None = None

    _easing = field_validator("easing", mode="before")(_easing_text)


@dataclass(frozen=True, config=_STRICT)
class Segment(MoveStep):
    """One move of a sequence, with its own length and layered moves.

    Attributes:
        frames: length in frames; or
        duration: length in seconds (``round(duration * fps)`` frames). Neither: the shot's
            remaining length is shared equally by the segments that give none.
        layers: moves applied on top of this one, over the same frames.
    """

    frames: _Frames | None = None
    duration: _Seconds | None = None
    layers: Annotated[tuple[MoveStep, ...], Field(max_length=64)] = ()


@dataclass(frozen=True, config=_STRICT)
class Keyframe:
    """A camera key. Position in metres in the world frame (the photo's camera: x right,
    y down, z forward; docs/conventions.md). At most one of ``look_at``, ``rotation``,
    ``quaternion``; none = looking like the photo.

    Attributes:
        frame: absolute frame number (the shot's first frame is 1001 unless set); or
        time: seconds after the first frame.
        position: (x, y, z) metres.
        look_at: (x, y, z) world point to look at, world up (-y) kept up.
        rotation: (pan, tilt, roll) degrees, the moves' signs: ``Ry(pan) Rx(tilt) Rz(roll)``.
        quaternion: (w, x, y, z) camera-to-world rotation in OpenCV axes.
        focal_mm: focal length (35 mm-equivalent, or on the lens filmback when the shot gives
            one); None = the previous key's (the first key: the shot's lens).
        focus_m: focus distance in metres (camera z) for depth of field; None = the previous
            key's (keys before the first one given hold it; no key: the render's ``--focus``).
            Pulled linearly in dioptres between keys, through the keys' easings.
        fstop: f-number; None = the previous key's (no key: the render's ``--fstop``); a key's
            f-stop turns depth of field on. Changed linearly in stops between keys.
        easing: speed curve of the interval from this key to the next.
    """

    position: _Point = (0.0, 0.0, 0.0)
    frame: _FrameNumber | None = None
    time: Annotated[float, Field(ge=0.0, le=MAX_SECONDS)] | None = None
    look_at: _Point | None = None
    rotation: tuple[_Degrees, _Degrees, _Degrees] | None = None
    quaternion: tuple[_Unit, _Unit, _Unit, _Unit] | None = None
    focal_mm: _FocalMm | None = None
    focus_m: Annotated[float, Field(ge=MIN_FOCUS_M, le=MAX_FOCUS_M)] | None = None
    fstop: Annotated[float, Field(ge=MIN_FSTOP, le=MAX_FSTOP)] | None = None
    easing: _Easing = "linear"

    _easing = field_validator("easing", mode="before")(_easing_text)


@dataclass(frozen=True, config=_STRICT)
class Lens:
    """The shot camera's lens at the first frame (default: the photo's, fitted to the frame).

    Attributes:
        focal_mm: focal length in mm: 35 mm-equivalent (diagonal rule), or the real focal on
            ``filmback_mm`` when that is given.
        filmback_mm: (width, height) of the film back in mm; the frame's width spans its width.
    """

    focal_mm: _FocalMm | None = None
    filmback_mm: (
        tuple[Annotated[float, Field(gt=0.0, le=1e4)], Annotated[float, Field(gt=0.0, le=1e4)]] | None
    ) = None


@dataclass(frozen=True, config=_STRICT)
class Interpolation:
    """How keyframes are joined: ``position`` catmull-rom (a smooth curve through every key)
    or linear; ``rotation`` is always slerp (constant angular speed between keys)."""

    position: Literal["catmull-rom", "linear"] = "catmull-rom"
    rotation: Literal["slerp"] = "slerp"


@dataclass(frozen=True, config=_STRICT)
class Shot:
    """A whole shot: the shot file's top level.

    Attributes:
        segments: moves played one after the other; or
        keyframes: camera keys (at least one).
        layers: moves applied over the whole shot (e.g. a handheld shake).
        lens: the lens at the first frame.
        interpolation: how keyframes are joined.
        fps: exact frame rate (``"24000/1001"``); None = the command line's.
        first_frame: number of the first frame; None = the command line's.
        duration: total seconds; None = the command line's (segments), or up to the last key.
        easing: default speed curve of the segments; None = the command line's.
        stillcam_shot: format version of the file (1).
    """

    segments: Annotated[tuple[Segment, ...], Field(max_length=10_000)] = ()
    keyframes: Annotated[tuple[Keyframe, ...], Field(max_length=MAX_FRAMES)] = ()
    layers: Annotated[tuple[MoveStep, ...], Field(max_length=64)] = ()
    lens: Lens = field(default_factory=Lens)
    interpolation: Interpolation = field(default_factory=Interpolation)
    fps: Annotated[str, Field(max_length=32)] | None = None
    first_frame: Annotated[int, Field(ge=0, le=MAX_FIRST_FRAME)] | None = None
    duration: _Seconds | None = None
    easing: _Easing | None = None
    stillcam_shot: int = SHOT_FORMAT

    _easing = field_validator("easing", mode="before")(_easing_text)

    @field_validator("fps", mode="before")
    @classmethod
    def _fps_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value


_ADAPTER = TypeAdapter(Shot)


# ----------------------------------------------------------------------------------------
# Checks


def _check_step(step: MoveStep, where: str) -> None:
    try:
        spec = get_move(step.move)
        spec.resolve(step.params)
        if step.easing is not None:
            check_easing(step.easing)
    except InputError as exc:
        raise MoveError(f"{where}: {exc}") from None
    optional = [p.name for p in spec.params if p.default is None]
    for param in spec.params:
        if param.default is not None and param.name in step.params and step.params[param.name] is None:
            unset = f" (only {', '.join(optional)} may be none)" if optional else ""
            raise MoveError(
                f"{where}: parameter {param.name} has no value; give a number in {param.unit}{unset}"
            )


def check_shot(shot: Shot) -> Shot:
    """Check what the schema cannot: move and parameter names, easings, keys and lengths
    (types and ranges are checked when a :class:`Shot` is made).

    Raises:
        MoveError: naming the segment, layer or key and what to change.
    """
    if shot.stillcam_shot != SHOT_FORMAT:
        raise MoveError(f"shot format {shot.stillcam_shot} is not supported; this stillcam reads format 1")
    if bool(shot.segments) == bool(shot.keyframes):
        raise MoveError("a shot has either segments or keyframes (exactly one of the two)")
    for name, value in (("fps", shot.fps), ("easing", shot.easing)):
        if value is not None:
            try:
                parse_fps(value) if name == "fps" else check_easing(value)
            except InputError as exc:
                raise MoveError(f"shot {name}: {exc}") from None
    _check_segments(shot)
    _check_keys(shot)
    return shot


def _check_segments(shot: Shot) -> None:
    frames = seconds = 0.0
    for i, segment in enumerate(shot.segments):
        _check_step(segment, f"segment {i + 1} ({_label(segment.move)})")
        if segment.frames is not None and segment.duration is not None:
            raise MoveError(f"segment {i + 1}: give frames or duration, not both")
        frames += segment.frames or 0
        seconds += segment.duration or 0.0
        for j, layer in enumerate(segment.layers):
            _check_step(layer, f"segment {i + 1}, layer {j + 1} ({_label(layer.move)})")
    if frames > MAX_FRAMES or seconds > MAX_SECONDS:
        raise MoveError(
            f"the segments take {frames:.0f} frames and {seconds:g} s; a shot has at most "
            f"{MAX_FRAMES} frames and {MAX_SECONDS:g} s"
        )
    for j, layer in enumerate(shot.layers):
        _check_step(layer, f"shot layer {j + 1} ({layer.move})")


def _check_keys(shot: Shot) -> None:
    previous: float | None = None
    for i, key in enumerate(shot.keyframes):
        where = f"keyframe {i + 1}"
        if (key.frame is None) == (key.time is None):
            raise MoveError(f"{where}: give its frame (a frame number) or its time (seconds), one of them")
        if sum(v is not None for v in (key.look_at, key.rotation, key.quaternion)) > 1:
            raise MoveError(f"{where}: give at most one of look_at, rotation, quaternion")
        if key.quaternion is not None and math.hypot(*key.quaternion) < 1e-9:
            raise MoveError(f"{where}: quaternion must not be zero")
        if key.look_at is not None:
            forward = np.subtract(key.look_at, key.position, dtype=np.float64)
            if np.allclose(key.look_at, key.position) or not np.linalg.norm(forward) > 0:
                raise MoveError(f"{where}: look_at must differ from position")
            if math.hypot(forward[0], forward[2]) < 1e-9 * np.linalg.norm(forward):
                raise MoveError(
                    f"{where}: look_at is straight above or below position (which way is up?); "
                    "give a rotation instead"
                )
        try:
            check_easing(key.easing)
        except InputError as exc:
            raise MoveError(f"{where}: {exc}") from None
        at = float(key.frame if key.frame is not None else key.time)  # type: ignore[arg-type]
        if (
            previous is not None
            and at <= previous
            and (key.frame is None) == (shot.keyframes[i - 1].frame is None)
        ):
            raise MoveError(f"{where}: keys must be in increasing order of frame/time")
        previous = at


# ----------------------------------------------------------------------------------------
# Files


def shot_from_dict(data: Any, name: str = "shot") -> Shot:
    """Validate a shot file's parsed content.

    Raises:
        MoveError: the first problem, located (``segments.1.params``) and explained.
    """
    try:
        shot = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise MoveError(f"{name}: {schema_message(exc)} (see docs/moves.md, 'Shot files')") from None
    try:
        return check_shot(shot)
    except MoveError as exc:
        raise MoveError(f"{name}: {exc}") from None


def shot_to_dict(shot: Shot) -> dict[str, Any]:
    """The shot file content of ``shot`` (unset fields left out); inverse of :func:`shot_from_dict`."""
    return _prune(_ADAPTER.dump_python(shot, mode="json"))


def _prune(value: Any) -> Any:
    """Unset fields left out; a move's parameters kept as they are (``none`` unsets one)."""
    if isinstance(value, dict):
        return {
            k: v if k == "params" else _prune(v)
            for k, v in value.items()
            if v is not None and v != () and v != [] and v != {}
        }
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def read_shot_file(path: str | Path) -> Shot:
    """Read a shot file: YAML (``.yaml``/``.yml``) or JSON (anything else), a regular file of
    at most :data:`MAX_SHOT_FILE_BYTES` (:func:`~stillcam.io.structured.read_structured`).

    Raises:
        MoveError: one line: unreadable file, bad syntax (saying which syntax was tried and
            why), or content (located: ``segments.0.frames: must be >= 1``).
    """
    path = Path(path)
    yaml_file = path.suffix.lower() in (".yaml", ".yml")
    data = read_structured(
        path,
        what="shot file",
        syntax="yaml" if yaml_file else "json",
        max_bytes=MAX_SHOT_FILE_BYTES,
        error=MoveError,
        why=""
        if yaml_file or path.suffix.lower() == ".json"
        else "; read as JSON as the name ends in neither .yaml nor .yml",
    )
    return shot_from_dict(data, str(path))


def shot_text(shot: Shot, suffix: str) -> str:
    """The shot file text of ``shot``: YAML for ``.yaml``/``.yml``, else JSON."""
    import yaml

    data = shot_to_dict(shot)
    if suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_dump(data, sort_keys=False)
    return json.dumps(data, indent=1) + "\n"


def write_shot_file(shot: Shot, path: str | Path) -> None:
    """Write ``shot`` to ``path`` (temporary file, then rename); YAML or JSON by suffix."""
    path = Path(path)
    write_text_atomic(path, shot_text(shot, path.suffix), "shot file")


# ----------------------------------------------------------------------------------------
# The command line's move expression


_TERM = re.compile(r"\s*([A-Za-z][\w-]*)\s*(?:\((.*)\))?\s*", re.DOTALL)
#: The longest ``--move`` expression read.
MAX_EXPRESSION = 10_000


def _shown(expression: str) -> str:
    """``expression`` quoted for a message, shortened when long."""
    return repr(expression if len(expression) <= 80 else expression[:77] + "...")


def _split_top(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside parentheses."""
    parts, depth, current = [], 0, ""
    i = 0
    while i < len(text):
        char = text[i]
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(separator, i):
            parts.append(current)
            current, i = "", i + len(separator)
            continue
        current += char
        i += 1
    parts.append(current)
    return parts


def _term(text: str, where: str, *, layer: bool) -> dict[str, Any]:
    match = _TERM.fullmatch(text)
    if match is None or not text.strip():
        raise MoveError(
            f"{where}: cannot read {_shown(text.strip())}; write NAME or NAME(key=value, ...), "
            "e.g. 'dolly-in(fraction=0.2, duration=2) then pan(degrees=15) + handheld(seed=3)'"
        )
    term: dict[str, Any] = {"move": match[1], "params": {}}
    inside = match[2] or ""
    seen: set[str] = set()
    for item in _split_top(inside, ",") if inside.strip() else []:
        key, sep, value = item.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not item.strip():
            raise MoveError(f"{where}: an empty item in {match[1]}(...); remove the extra comma")
        if not sep or not key:
            raise MoveError(f"{where}: {_shown(item.strip())} is not KEY=VALUE")
        if key in seen:
            raise MoveError(f"{where}: {key} is given twice in {match[1]}(...); give it once")
        seen.add(key)
        if not value:
            raise MoveError(f"{where}: {key}= has no value; give a number (or none)")
        if key == "easing":
            term["easing"] = value
        elif key in ("frames", "duration"):
            if layer:
                raise MoveError(
                    f"{where}: a layered move ({match[1]}) runs over its segment; "
                    f"give {key} to the segment instead"
                )
            try:
                term[key] = int(value) if key == "frames" else float(value.removesuffix("s"))
            except ValueError:
                raise MoveError(f"{where}: {key}={_shown(value)} is not a number") from None
        else:
            try:
                term["params"][key] = parse_param_value(value)
            except ValueError as exc:
                raise MoveError(f"{where}: {key}: {exc}") from None
    return term


def parse_move_expression(expression: str) -> tuple[Segment, ...]:
    """Segments of ``"dolly-in(fraction=0.2) then pan(degrees=15, easing=ease-out) + handheld"``.

    ``then`` separates segments; ``+`` layers a move on its segment. Inside parentheses: move
    parameters in their units, and for segments ``duration`` (seconds), ``frames`` and
    ``easing`` (a name or ``bezier(x1,y1,x2,y2)``).

    Raises:
        MoveError: unreadable expression, unknown move or parameter.
    """
    where = f"--move {_shown(expression)}"
    if len(expression) > MAX_EXPRESSION:
        raise MoveError(
            f"{where}: {len(expression)} characters; a move expression has at most {MAX_EXPRESSION}"
        )
    segments = []
    for part in _split_top(expression, " then "):
        base, *layers = _split_top(part, "+")
        term = _term(base, where, layer=False)
        term["layers"] = [_term(layer, where, layer=True) for layer in layers]
        segments.append(term)
    shot = shot_from_dict({"segments": segments}, where)
    return shot.segments


# ----------------------------------------------------------------------------------------
# Sampling


def _allot(segments: tuple[Segment, ...], total: int | None, fps: Fraction) -> list[int]:
    """Frames of each segment: its own frames/duration, the rest of ``total`` shared equally."""
    own = [
        s.frames if s.frames is not None else (frame_count(s.duration, fps) if s.duration else None)
        for s in segments
    ]
    free = [i for i, n in enumerate(own) if n is None]
    if not free:
        return [int(n) for n in own]  # type: ignore[arg-type]
    left = (total or 0) - sum(n for n in own if n is not None)
    if left < len(free):
        raise MoveError(
            f"the segments with their own length take {sum(n for n in own if n is not None)} frames of the "
            f"shot's {total}; {len(free)} segment(s) without one need at least one each - lengthen "
            "--duration or give every segment its frames/duration"
        )
    for k, i in enumerate(free):
        own[i] = left // len(free) + (1 if k < left % len(free) else 0)
    return [int(n) for n in own]  # type: ignore[arg-type]


class _Resolved(NamedTuple):
    """A step's move function and its parameters with defaults, looked up once per shot."""

    function: MoveFunction
    params: dict[str, float | None]


def _resolved(step: MoveStep) -> _Resolved:
    spec = get_move(step.move)
    return _Resolved(spec.function, spec.resolve(step.params))


def _apply(camera: Camera, step: _Resolved, s: float, t: float, ctx: MoveContext) -> Camera:
    pose, zoom = step.function(s, t, ctx, step.params)
    return camera.zoomed(zoom).with_pose(camera.pose @ pose)


def _context_from(camera: Camera, target_world: np.ndarray, where: str) -> MoveContext:
    """The moves' context for a segment starting at ``camera``: the same world target, seen
    from here."""
    local = (np.linalg.inv(camera.pose) @ np.append(target_world, 1.0))[:3]
    if local[2] <= 1e-9:
        raise MoveError(f"{where} starts with the subject behind the camera; shorten the previous move")
    return MoveContext(camera, float(local[2]), local)


def _lens_camera(start: Camera, lens: Lens) -> Camera:
    if lens.focal_mm is None:
        return start
    return replace(start, fx=_focal_px(lens, lens.focal_mm, start), fy=_focal_px(lens, lens.focal_mm, start))


def _focal_px(lens: Lens, focal_mm: float, camera: Camera) -> float:
    if lens.filmback_mm is not None:
        return focal_mm / lens.filmback_mm[0] * camera.width
    return focal_mm_to_px(focal_mm, camera.width, camera.height)


def _segments_path(
    shot: Shot, context: MoveContext, counts: list[int], fps: Fraction, easing: str, amount: float
) -> list[Camera]:
    current = _lens_camera(context.camera, shot.lens)
    target = context.camera.pose[:3, :3] @ context.target + context.camera.pose[:3, 3]
    cameras: list[Camera] = []
    for k, (segment, n) in enumerate(zip(shot.segments, counts, strict=True)):
        ctx = _context_from(current, target, f"segment {k + 1} ({_label(segment.move)})")
        steps = np.arange(n) if k == 0 else np.arange(1, n + 1)
        linear = steps / max(n - 1 if k == 0 else n, 1)
        own = segment.easing or easing
        base = ease(linear, own) * amount
        layered = [ease(linear, layer.easing or own) * amount for layer in segment.layers]
        move, layers = _resolved(segment), [_resolved(layer) for layer in segment.layers]
        for i, step in enumerate(steps):
            t = float(step / fps)
            camera = _apply(current, move, float(base[i]), t, ctx)
            for layer, progress in zip(layers, layered, strict=True):
                camera = _apply(camera, layer, float(progress[i]), t, ctx)
            cameras.append(camera)
        current = cameras[-1]
    return cameras


def _key_times(shot: Shot, fps: Fraction, first: int) -> np.ndarray:
    """Seconds after the first frame of each keyframe."""
    keys = shot.keyframes
    times = np.array([k.time if k.time is not None else float((k.frame - first) / fps) for k in keys])  # type: ignore[operator]
    if np.any(np.diff(times) <= 0) or times[0] < 0:
        raise MoveError("keyframes must be at increasing times, at or after the first frame")
    return times


def _keys_path(
    shot: Shot, context: MoveContext, fps: Fraction, first: int, n: int, amount: float
) -> list[Camera]:
    start = _lens_camera(context.camera, shot.lens)
    keys = shot.keyframes
    times = _key_times(shot, fps, first)
    positions = np.array([k.position for k in keys], dtype=np.float64)
    rotations = np.stack([_key_rotation(k) for k in keys])
    focals, focal = [], start.fx
    for key in keys:
        focal = _focal_px(shot.lens, key.focal_mm, start) if key.focal_mm is not None else focal
        focals.append(focal)
    at = np.arange(n) / float(fps) * amount
    at = eased_times(times, [k.easing for k in keys[:-1]], at)
    p, r, f = interpolate_keys(
        times, positions, rotations, np.array(focals), at, spline=shot.interpolation.position == "catmull-rom"
    )
    cameras = [
        replace(start, fx=float(f[i]), fy=float(f[i]) * start.fy / start.fx, pose=pose_from(r[i], p[i]))
        for i in range(n)
    ]
    focus = key_lens_values([k.focus_m for k in keys], times, at, stops=False)
    return with_key_lens(cameras, focus, key_lens_values([k.fstop for k in keys], times, at, stops=True))


def _key_rotation(key: Keyframe) -> np.ndarray:
    if key.look_at is not None:
        return look_at(np.array(key.position), np.array(key.look_at))[:3, :3]
    if key.rotation is not None:
        return rotation_from_angles(*key.rotation)
    if key.quaternion is not None:
        return rotation_from_quaternion(key.quaternion)
    return np.eye(3)


class ShotTiming(NamedTuple):
    """When a shot's frames are, worked out without sampling a camera.

    Attributes:
        fps: exact frame rate.
        first_frame: number of the first frame.
        counts: frames of each segment (one entry, the whole shot, for keyframes).
    """

    fps: Fraction
    first_frame: int
    counts: tuple[int, ...]

    @property
    def frames(self) -> int:
        """Frames of the whole shot."""
        return sum(self.counts)


def shot_timing(
    shot: Shot, *, fps: Fraction, duration_s: float | None = None, first_frame: int = FIRST_FRAME
) -> ShotTiming:
    """The fps, first frame and frame counts :func:`build_shot_path` samples ``shot`` at (its
    own fps, first frame and duration win over the command line's values given here).

    Raises:
        MoveError: segments that do not fit the duration, keyframes out of order, more than
            :data:`MAX_FRAMES` frames or :data:`MAX_SECONDS` seconds.
    """
    fps = parse_fps(shot.fps) if shot.fps is not None else fps
    first = shot.first_frame if shot.first_frame is not None else first_frame
    total = shot.duration if shot.duration is not None else duration_s
    if shot.segments:
        counts = tuple(_allot(shot.segments, frame_count(total, fps) if total else None, fps))
    else:
        times = _key_times(shot, fps, first)
        n = frame_count(shot.duration, fps) if shot.duration is not None else round(times[-1] * fps) + 1
        counts = (int(n),)
    frames = sum(counts)
    if frames > MAX_FRAMES or frames > MAX_SECONDS * fps:
        raise MoveError(
            f"the shot has {frames} frames ({float(frames / fps):g} s at {float(fps):g} fps); a shot has at "
            f"most {MAX_FRAMES} frames and {MAX_SECONDS:g} s"
        )
    return ShotTiming(fps, first, counts)


def build_shot_path(
    shot: Shot,
    context: MoveContext,
    *,
    fps: Fraction,
    duration_s: float | None = None,
    easing: str = "ease-in-out",
    first_frame: int = FIRST_FRAME,
    amount: float = 1.0,
) -> CameraPath:
    """Sample ``shot`` at every frame into a :class:`CameraPath`.

    Args:
        shot: a shot checked by :func:`check_shot` (shot files, :func:`single_move` and
            ``ShotSettings.move_shot`` are; it is not checked again here, as the
            motion-safety clamp samples a shot many times); its own fps, first frame,
            duration and easing win over these.
        context: the start camera and subject (world frame).
        fps, duration_s, easing, first_frame: the command line's values.
        amount: in (0, 1]: how much of every move to play (the motion-safety clamp); progress
            is multiplied by it, keyframe paths stop at that fraction of their length.
    """
    timing = shot_timing(shot, fps=fps, duration_s=duration_s, first_frame=first_frame)
    fps, first = timing.fps, timing.first_frame
    easing = shot.easing or easing
    if shot.segments:
        cameras = _segments_path(shot, context, list(timing.counts), fps, easing, amount)
    else:
        cameras = _keys_path(shot, context, fps, first, timing.frames, amount)
    if shot.layers:
        linear = np.arange(len(cameras)) / max(len(cameras) - 1, 1)
        for layer in shot.layers:
            progress = ease(linear, layer.easing or easing) * amount
            move = _resolved(layer)
            cameras = [
                _apply(camera, move, float(progress[i]), float(i / fps), context)
                for i, camera in enumerate(cameras)
            ]
    return CameraPath(tuple(cameras), fps, first)


def single_move(move: str, params: Mapping[str, float | None], easing: str | None = None) -> Shot:
    """The one-segment shot of ``move`` (what ``--move NAME --set ...`` means).

    Raises:
        MoveError: an unknown move or parameter, a value out of range.
    """
    try:
        shot = Shot(segments=(Segment(move=move, params=dict(params), easing=easing),))
    except ValidationError as exc:
        raise MoveError(f"--move {move!r}: {schema_message(exc)}") from None
    return check_shot(shot)


def build_path(
    move: str,
    params: Mapping[str, float | None],
    context: MoveContext,
    *,
    duration_s: float,
    fps: Fraction,
    easing: str = "ease-in-out",
    first_frame: int = FIRST_FRAME,
) -> CameraPath:
    """Sample one ``move`` at every frame of a ``duration_s`` shot into a :class:`CameraPath`.

    Frame i of n has linear progress i / (n - 1), eased by ``easing``.
    """
    shot = single_move(move, params)
    return build_shot_path(
        shot, context, fps=fps, duration_s=duration_s, easing=easing, first_frame=first_frame
    )
