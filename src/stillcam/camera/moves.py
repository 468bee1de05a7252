"""The move library: each move is a pure function of eased progress -> (pose, zoom).

A move is described by a :class:`MoveSpec` (name, summary, parameters with units and
defaults) and registered in :data:`MOVES`. :func:`stillcam.camera.shot.build_path` turns a move, its
parameters and the shot's timing into a :class:`~stillcam.camera.path.CameraPath`.

Direction conventions (docs/moves.md): pan + = look right, tilt + = look up, roll + = clockwise,
orbit + = the camera travels to the right around the target, dolly-in = towards the subject,
truck + = right, pedestal/crane + = up, dolly-zoom + = in (while widening the lens).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import MoveError
from .camera import Camera, look_at, pose_from, rotation_x, rotation_y, rotation_z

#: How the error messages say a unit: "give degrees in -3600..3600".
_UNIT_WORDS = {
    "deg": "degrees",
    "m": "metres",
    "x": "a factor",
    "x subject distance": "subject distances",
    "mm (35 mm eq.)": "a 35 mm-equivalent focal in mm",
}


@dataclass(frozen=True)
class MoveParam:
    """One parameter of a move: name, default (None = unset), unit, help, and the range a
    value must lie in (``low`` to ``high``, both included; ``integer``: whole numbers only).

    The ranges are physical: a focal length is positive, an amplitude is not negative, a
    seed is a whole number; the outer bounds (ten turns, a hundred times the subject's
    distance, a thousand kilometres) are far past any shot and keep every camera finite.
    """

    name: str
    default: float | None
    unit: str
    help: str
    low: float = -1e6
    high: float = 1e6
    integer: bool = False

    @property
    def range_text(self) -> str:
        """The range as ``stillcam moves`` and the error messages show it: ``-3600..3600``."""

        def bound(value: float) -> str:
            return str(int(value)) if self.integer else f"{value:g}"

        return f"{bound(self.low)}..{bound(self.high)}"

    def check(self, value: float, move: str) -> None:
        """Refuse a value outside the parameter's range (or not whole, for integers).

        Raises:
            MoveError: naming the move, the parameter, its unit and its range.
        """
        number = float(value)
        inside = math.isfinite(number) and self.low <= number <= self.high
        if not inside or (self.integer and not number.is_integer()):
            what = "a whole number" if self.integer else _UNIT_WORDS.get(self.unit, self.unit)
            raise MoveError(
                f"move {move!r}: {self.name}={number:g} is out of range; give {what} in {self.range_text}"
            )


@dataclass(frozen=True)
class MoveContext:
    """What a move needs to know about the shot.

    Attributes:
        camera: the starting camera (the output camera at the photo's viewpoint).
        subject_depth: metres along the optical axis to the subject (fractions of moves are
            fractions of this distance).
        target_point: (3,) world point the framing moves keep on its starting pixel; None =
            on the optical axis at ``subject_depth``.
    """

    camera: Camera
    subject_depth: float
    target_point: np.ndarray | None = None

    @property
    def target(self) -> np.ndarray:
        """(3,) world point the framing moves (orbit, arc, swing, crane, lemniscate) keep framed."""
        if self.target_point is None:
            return np.array([0.0, 0.0, self.subject_depth])
        return np.asarray(self.target_point, dtype=np.float64)


def _framing(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pose at ``position`` that keeps ``target`` on the pixel where the start camera (identity
    pose) sees it, with the world's up kept up: look_at(position) times look_at(origin)^T."""
    pose = look_at(position, target)
    pose[:3, :3] = pose[:3, :3] @ look_at(np.zeros(3), target)[:3, :3].T
    return pose


#: (eased progress s in [0, 1], time t in seconds since the first frame, context, resolved
#: params) -> (camera-to-world pose relative to the start camera, focal multiplier)
MoveFunction = Callable[[float, float, MoveContext, Mapping[str, float | None]], tuple[np.ndarray, float]]


@dataclass(frozen=True)
class MoveSpec:
    name: str
    summary: str
    params: tuple[MoveParam, ...]
    function: MoveFunction

    def resolve(self, given: Mapping[str, float | None]) -> dict[str, float | None]:
        """Defaults overlaid with ``given``; unknown names and values out of their parameter's
        range (:meth:`MoveParam.check`) raise :class:`MoveError`."""
        known = {p.name: p.default for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            valid = ", ".join(known) or "(none)"
            raise MoveError(f"move {self.name!r} has no parameter {unknown[0]!r}; valid parameters: {valid}")
        for param in self.params:
            value = given.get(param.name)
            if value is not None:
                param.check(value, self.name)
        return {**known, **given}


def _travel(ctx: MoveContext, p: Mapping[str, float | None]) -> float:
    """Metres travelled: ``distance`` when set, else ``fraction`` of the subject distance."""
    if p.get("distance") is not None:
        return float(p["distance"])
    return float(p["fraction"]) * ctx.subject_depth


def _dolly(sign: float) -> MoveFunction:
    def move(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
        return pose_from(np.eye(3), np.array([0.0, 0.0, sign * s * _travel(ctx, p)])), 1.0

    return move


def _zoom(direction: float) -> MoveFunction:
    def move(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
        if p.get("to_mm") is not None:
            total = float(p["to_mm"]) / ctx.camera.focal_mm
        else:
            total = float(p["factor"]) ** direction
        return np.eye(4), total**s

    return move


def _pan(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    return pose_from(rotation_y(s * float(p["degrees"])), np.zeros(3)), 1.0


def _tilt(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    return pose_from(rotation_x(s * float(p["degrees"])), np.zeros(3)), 1.0


def _orbit(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    # Travel right around the target = rotate the camera (and its offset) by -angle about y.
    return _around(ctx, s * float(p["degrees"])), 1.0


def _spiral(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    angle = 2.0 * math.pi * float(p["turns"]) * s
    radius = float(p["radius"]) * ctx.subject_depth
    position = np.array(
        [
            radius * math.sin(angle),
            -radius * (1.0 - math.cos(angle)),
            float(p["push"]) * ctx.subject_depth * s,
        ]
    )
    return pose_from(np.eye(3), position), 1.0


def _roll(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    return pose_from(rotation_z(s * float(p["degrees"])), np.zeros(3)), 1.0


def _slide(axis: np.ndarray) -> MoveFunction:
    def move(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
        return pose_from(np.eye(3), axis * s * _travel(ctx, p)), 1.0

    return move


def _crane(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    position = np.array([0.0, -s * _travel(ctx, p), 0.0])
    return _framing(position, ctx.target), 1.0


def _dolly_zoom(
    s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]
) -> tuple[np.ndarray, float]:
    # Forward travel t_z keeps the subject's size when the focal scales by (d - t_z) / d.
    travel = s * _travel(ctx, p)
    travel = min(travel, 0.95 * ctx.subject_depth)
    return pose_from(np.eye(3), np.array([0.0, 0.0, travel])), (
        ctx.subject_depth - travel
    ) / ctx.subject_depth


def _around(ctx: MoveContext, degrees: float) -> np.ndarray:
    """Pose on the circle around the target, ``degrees`` to the right, looking at it."""
    rotation = rotation_y(-degrees)  # about the vertical through the target
    return pose_from(rotation, ctx.target - rotation @ ctx.target)


def _swing(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    return _around(ctx, 0.5 * float(p["degrees"]) * math.sin(2.0 * math.pi * s)), 1.0


def _lemniscate(
    s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]
) -> tuple[np.ndarray, float]:
    # Bernoulli's lemniscate, started at its crossing point (the photo's viewpoint).
    a = float(p["radius"]) * ctx.subject_depth
    angle = math.pi / 2.0 + 2.0 * math.pi * float(p["turns"]) * s
    denominator = 1.0 + math.sin(angle) ** 2
    position = np.array(
        [a * math.cos(angle) / denominator, -a * math.sin(angle) * math.cos(angle) / denominator, 0.0]
    )
    return _framing(position, ctx.target), 1.0


def _shake(seed: int, t: float, frequency: float) -> np.ndarray:
    """Six smooth, seeded noise channels in [-1, 1] at time ``t`` (seconds), zero at t = 0.

    Each is a sum of three sines (frequency x 1, 2.3, 4.7; amplitudes 1, 0.5, 0.25) with
    phases drawn from ``seed``: a deterministic, band-limited shake.
    """
    phases = np.random.default_rng(seed).uniform(0.0, 2.0 * math.pi, (6, 3))
    multiples = np.array([1.0, 2.3, 4.7])
    weights = np.array([1.0, 0.5, 0.25]) / 1.75
    value = np.sin(2.0 * math.pi * frequency * multiples * t + phases) - np.sin(phases)
    return (value * weights).sum(axis=1) / 2.0


def _handheld(
    s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]
) -> tuple[np.ndarray, float]:
    noise = _shake(int(p["seed"]), t, float(p["frequency"]))
    degrees, metres = float(p["degrees"]), float(p["mm"]) / 1000.0
    rotation = (
        rotation_y(noise[0] * degrees) @ rotation_x(noise[1] * degrees) @ rotation_z(noise[2] * degrees)
    )
    return pose_from(rotation, noise[3:] * metres), 1.0


def _static(s: float, t: float, ctx: MoveContext, p: Mapping[str, float | None]) -> tuple[np.ndarray, float]:
    return np.eye(4), 1.0


#: Bounds shared by the moves' parameters (see :class:`MoveParam`).
_TURN_DEGREES = 3600.0  # ten turns
_SUBJECT_MULTIPLE = 100.0  # travel and radii: a hundred times the subject's distance
_METRES = 1e6  # a thousand kilometres

_DISTANCE = MoveParam(
    "distance", None, "m", "metres travelled; overrides fraction when set", -_METRES, _METRES
)
_ROLL_DEGREES = MoveParam(
    "degrees", 10.0, "deg", "rotation; positive rolls clockwise", -_TURN_DEGREES, _TURN_DEGREES
)
_ORBIT_DEGREES = MoveParam(
    "degrees", 20.0, "deg", "arc travelled; positive moves right", -_TURN_DEGREES, _TURN_DEGREES
)


def _fraction(default: float, help: str) -> MoveParam:
    """A move's ``fraction``: travel in subject distances."""
    return MoveParam("fraction", default, "x subject distance", help, -_SUBJECT_MULTIPLE, _SUBJECT_MULTIPLE)


_FRACTION = _fraction(0.25, "travel as a fraction of the subject distance")


def _zoom_params(help: str) -> tuple[MoveParam, ...]:
    """A zoom's ``factor`` (of the start focal) and ``to_mm`` (a focal length: positive)."""
    return (
        MoveParam("factor", 1.5, "x", help, 0.01, 100.0),
        MoveParam("to_mm", None, "mm (35 mm eq.)", "final focal length; overrides factor", 1.0, 5000.0),
    )


def _subject_multiple(name: str, default: float, help: str) -> MoveParam:
    """A length in subject distances (radii, pushes)."""
    return MoveParam(name, default, "x subject distance", help, -_SUBJECT_MULTIPLE, _SUBJECT_MULTIPLE)


def _turns(help: str) -> MoveParam:
    """Whole or partial turns over the shot."""
    return MoveParam("turns", 1.0, "turns", help, -100.0, 100.0)


MOVES: dict[str, MoveSpec] = {
    spec.name: spec
    for spec in (
        MoveSpec("dolly-in", "moves forward along the view axis", (_DISTANCE, _FRACTION), _dolly(1.0)),
        MoveSpec("dolly-out", "moves backward along the view axis", (_DISTANCE, _FRACTION), _dolly(-1.0)),
        MoveSpec(
            "zoom-in",
            "narrows the lens (focal length grows), camera fixed",
            _zoom_params("final focal = start focal x factor"),
            _zoom(1.0),
        ),
        MoveSpec(
            "zoom-out",
            "widens the lens (focal length shrinks), camera fixed",
            _zoom_params("final focal = start focal / factor"),
            _zoom(-1.0),
        ),
        MoveSpec(
            "pan",
            "rotates about the vertical axis, position fixed",
            (
                MoveParam(
                    "degrees", 15.0, "deg", "rotation; positive looks right", -_TURN_DEGREES, _TURN_DEGREES
                ),
            ),
            _pan,
        ),
        MoveSpec(
            "tilt",
            "rotates about the horizontal axis, position fixed",
            (
                MoveParam(
                    "degrees", 10.0, "deg", "rotation; positive looks up", -_TURN_DEGREES, _TURN_DEGREES
                ),
            ),
            _tilt,
        ),
        MoveSpec(
            "orbit",
            "circles around the subject, keeping it framed",
            (_ORBIT_DEGREES,),
            _orbit,
        ),
        MoveSpec(
            "roll",
            "rotates about the view axis, position fixed",
            (_ROLL_DEGREES,),
            _roll,
        ),
        MoveSpec(
            "dutch",
            "a roll held as a canted angle (alias of roll)",
            (_ROLL_DEGREES,),
            _roll,
        ),
        MoveSpec(
            "truck",
            "moves sideways, no rotation",
            (_DISTANCE, _fraction(0.1, "travel; positive moves right")),
            _slide(np.array([1.0, 0.0, 0.0])),
        ),
        MoveSpec(
            "pedestal",
            "moves straight up, no rotation",
            (_DISTANCE, _fraction(0.1, "travel; positive moves up")),
            _slide(np.array([0.0, -1.0, 0.0])),
        ),
        MoveSpec(
            "crane",
            "rises while tilting to keep the subject centred",
            (_DISTANCE, _fraction(0.15, "rise; negative lowers")),
            _crane,
        ),
        MoveSpec(
            "dolly-zoom",
            "moves along the view axis while zooming so the subject keeps its size (Vertigo)",
            (_DISTANCE, _fraction(0.3, "travel; positive in, negative out")),
            _dolly_zoom,
        ),
        MoveSpec(
            "arc",
            "circles around the subject, keeping it framed (alias of orbit)",
            (_ORBIT_DEGREES,),
            _orbit,
        ),
        MoveSpec(
            "swing",
            "arcs to one side, across, and back to the start (3D-photo classic)",
            (
                MoveParam(
                    "degrees",
                    10.0,
                    "deg",
                    "full width of the swing around the subject",
                    -_TURN_DEGREES,
                    _TURN_DEGREES,
                ),
            ),
            _swing,
        ),
        MoveSpec(
            "lemniscate",
            "figure-eight path in the image plane, looking at the subject",
            (
                _turns("figure-eights over the shot"),
                _subject_multiple("radius", 0.08, "half width of the figure"),
            ),
            _lemniscate,
        ),
        MoveSpec(
            "handheld",
            "seeded procedural shake (same seed, same shake)",
            (
                MoveParam("degrees", 0.4, "deg", "rotation amplitude", 0.0, 90.0),
                MoveParam("mm", 8.0, "mm", "translation amplitude", 0.0, 10_000.0),
                MoveParam("frequency", 1.2, "Hz", "base frequency of the shake", 0.0, 500.0),
                MoveParam("seed", 0.0, "integer", "noise seed", 0.0, 2.0**32 - 1, integer=True),
            ),
            _handheld,
        ),
        MoveSpec("static", "holds the frame", (), _static),
        MoveSpec(
            "spiral",
            "circles in the image plane while pushing in",
            (
                _turns("full circles over the shot"),
                _subject_multiple("radius", 0.05, "circle radius"),
                _subject_multiple("push", 0.2, "forward travel over the shot"),
            ),
            _spiral,
        ),
    )
}


def get_move(name: str) -> MoveSpec:
    """The :class:`MoveSpec` called ``name``; unknown names list the known ones."""
    if name not in MOVES:
        raise MoveError(f"unknown move {name!r}; choose one of: {', '.join(MOVES)}")
    return MOVES[name]


def parse_param_value(text: str) -> float | None:
    """A move parameter's value from text: a finite number, or None for ``none``/empty.

    Raises:
        ValueError: not a number, or not finite (the message says which).
    """
    text = text.strip().lower()
    if text in ("none", ""):
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError("value must be finite")
    return number


def parse_move_params(items: list[str] | tuple[str, ...]) -> dict[str, float | None]:
    """Parse ``["degrees=20", "to_mm=none"]`` into ``{"degrees": 20.0, "to_mm": None}``."""
    params: dict[str, float | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise MoveError(f"--set {item!r}: expected KEY=VALUE, e.g. --set degrees=20")
        try:
            params[key] = parse_param_value(value)
        except ValueError as exc:
            raise MoveError(f"--set {item!r}: {exc}") from None
    return params


def subject_depth(z: np.ndarray) -> float:
    """Median depth (metres) of the central third of an (H, W) depth map: the default subject."""
    h, w = z.shape
    centre = z[h // 3 : max(h // 3 + 1, 2 * h // 3), w // 3 : max(w // 3 + 1, 2 * w // 3)]
    return float(np.median(centre))
