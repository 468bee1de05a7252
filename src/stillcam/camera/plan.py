"""Camera planning: the shot's options (:class:`ShotSettings`), parsed into typed values when
they are made, and the per-frame cameras they ask for.

Every value a user types (``--size``, ``--fps``, ``--frames``, ``--target``, ``--move`` and
``--set``) is parsed and checked in :meth:`ShotSettings.__post_init__`, so a bad option fails
before any file is decoded; the rest of the stage reads the typed values
(:attr:`ShotSettings.frame_rate`, :meth:`ShotSettings.output_size`, ...). The move expression
is resolved into a checked :class:`~stillcam.camera.shot.Shot` once; sampling it (the
motion-safety clamp samples it several times) never parses or checks it again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from ..conventions import FIRST_FRAME, focal_px_from_fov, focal_px_to_mm, parse_fps
from ..depth.convert import DepthMap
from ..errors import InputError
from ..io.hashing import sha256_file
from ..io.image import Picture
from .camera import Camera, fit_output_camera
from .moves import MoveContext, parse_move_params, subject_depth
from .path import EASINGS, CameraPath, check_easing
from .shot import (
    Shot,
    ShotTiming,
    build_shot_path,
    check_shot,
    parse_move_expression,
    read_shot_file,
    shot_timing,
)
from .transforms import read_transforms

#: Named output sizes (width, height) in pixels.
SIZES: dict[str, tuple[int, int]] = {"HD": (1920, 1080), "UHD": (3840, 2160), "DCI4K": (4096, 2160)}
#: The move when neither ``--move`` nor ``--path`` gives one.
DEFAULT_MOVE = "dolly-in"
FramingName = Literal["free", "inside"]
#: ``--framing`` choices.
FRAMINGS: tuple[str, ...] = get_args(FramingName)


def parse_size_text(text: str) -> tuple[int, int] | None:
    """``HD``/``UHD``/``DCI4K``/``WxH`` -> (width, height) in pixels; ``source`` -> None.

    >>> parse_size_text("UHD"), parse_size_text("640x360"), parse_size_text("source")
    ((3840, 2160), (640, 360), None)
    """
    key = str(text).strip()
    if key.upper() in SIZES:
        return SIZES[key.upper()]
    if key.lower() == "source":
        return None
    match = re.fullmatch(r"(\d+)[xX](\d+)", key)
    if not match or min(int(match[1]), int(match[2])) < 2 or max(int(match[1]), int(match[2])) > 32768:
        raise InputError(f"--size {text!r}: use HD, UHD, DCI4K, source or WxH (2..32768 px)")
    return int(match[1]), int(match[2])


def parse_size(text: str, source_width: int, source_height: int) -> tuple[int, int]:
    """:func:`parse_size_text`, with ``source`` meaning ``source_width`` x ``source_height``."""
    return parse_size_text(text) or (source_width, source_height)


def parse_frame_span(text: str) -> tuple[int, int]:
    """``A-B`` -> (A, B), frame numbers with A <= B (whether the shot has them is checked by
    :func:`frame_range`)."""
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(text))
    if not match:
        raise InputError(f"--frames {text!r}: write A-B, e.g. 1001-1048")
    a, b = int(match[1]), int(match[2])
    if a > b:
        raise InputError(f"--frames {text}: the first frame must not come after the last (A <= B)")
    return a, b


def parse_target(text: str) -> tuple[float, float]:
    """``X,Y`` -> normalised frame coordinates, each in [0, 1] (0,0 top left)."""
    try:
        x, y = (float(v) for v in str(text).split(","))
    except ValueError:
        raise InputError(f"--target {text!r}: expected X,Y, e.g. --target 0.5,0.4") from None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise InputError(f"--target {text}: X and Y are fractions of the frame, 0..1")
    return x, y


@dataclass(frozen=True)
class _Parsed:
    """The typed values of a :class:`ShotSettings` (made once, in ``__post_init__``)."""

    fps: Fraction
    size: tuple[int, int] | None
    frames: tuple[int, int] | None
    target: tuple[float, float] | None
    shot: Shot | None


@dataclass(frozen=True)
class ShotSettings:
    """The move, its timing and the output frame. Field docs become ``--help`` text.

    Raises:
        InputError: (on construction) any value that cannot be parsed or is out of range,
            with what to give instead.
    """

    move: str | None = field(
        default=None,
        metadata={
            "metavar": "MOVES",
            "help": "camera move (default: dolly-in): a name from `stillcam moves`, or a sequence "
            "and layers, e.g. 'dolly-in(fraction=0.2, duration=2) then pan(degrees=15) + "
            "handheld(seed=3)' (docs/moves.md)",
        },
    )
    camera_file: str | None = field(
        default=None,
        metadata={
            "flag": "--path",
            "metavar": "FILE",
            "help": "take the camera from a file instead of --move: a shot file (.yaml/.json: "
            "segments or keyframes, docs/moves.md) or a nerfstudio-style transforms.json; "
            "its fps, first frame and length win over the options",
        },
    )
    params: tuple[str, ...] = field(
        default=(),
        metadata={
            "flag": "--set",
            "metavar": "KEY=VALUE",
            "help": "move parameter in its unit, repeatable (e.g. --set degrees=20)",
        },
    )
    duration: float = field(default=4.0, metadata={"help": "shot length in seconds"})
    fps: str = field(default="24", metadata={"help": "frame rate, exact: 24, 25, 24000/1001 or 23.976"})
    easing: str = field(
        default="ease-in-out",
        metadata={
            "help": f"speed curve of the moves that set none: {', '.join(EASINGS)}, or "
            "bezier(x1,y1,x2,y2) handles"
        },
    )
    size: str = field(
        default="source",
        metadata={
            "help": "output size: HD (1920x1080), UHD (3840x2160), DCI4K (4096x2160), "
            "WxH, or source (the photo's size). A different aspect than the photo's is "
            "fitted by cropping the photo's centre, never by stretching"
        },
    )
    framing: FramingName = field(
        default="free",
        metadata={
            "help": "free: frames may look past the photo's border (the outpainted ring shows "
            "there); inside: every frame is zoomed by the same smallest factor that keeps it "
            "inside the photo, so no frame-edge reveal needs a fill (the factor goes to stderr "
            "and the recipe; not with a transforms.json)"
        },
    )
    focal_mm: float | None = field(
        default=None,
        metadata={
            "help": "the photo's focal length, 35 mm-equivalent mm (overrides EXIF; "
            "default: EXIF, else 50 mm)"
        },
    )
    fov: float | None = field(
        default=None,
        metadata={"help": "the photo's horizontal field of view in degrees (alternative to --focal-mm)"},
    )
    first_frame: int = field(default=FIRST_FRAME, metadata={"help": "number of the first frame"})
    frames: str | None = field(
        default=None,
        metadata={
            "metavar": "A-B",
            "help": "render only frames A to B of the shot (its frame numbers, e.g. 1001-1048): "
            "the same frames, bit for bit, as in a full render",
        },
    )
    target: str | None = field(
        default=None,
        metadata={
            "metavar": "X,Y",
            "help": "the subject, in normalised frame coordinates (0,0 top left, 1,1 bottom "
            "right); framing moves keep it on its pixel, fractions are of its distance "
            "(default: the median depth of the frame's central third, on the axis)",
        },
    )
    target_depth: float | None = field(
        default=None,
        metadata={"help": "metres to the subject along the optical axis (default: from the depth map)"},
    )
    safe: bool = field(
        default=False,
        metadata={
            "help": "clamp the move (play less of it) so that no frame shows more than "
            "--max-reveal of invented area and the camera stays in front of every surface; "
            "without it the motion-safety guard only warns"
        },
    )
    max_reveal: float = field(
        default=0.4,
        metadata={
            "help": "largest fraction of a frame (0..1] that may show what the photo does not "
            "(disocclusions, beyond its border) before the guard warns or --safe clamps"
        },
    )

    def __post_init__(self) -> None:
        _check_numbers(self)
        check_easing(self.easing)
        parsed = _Parsed(
            fps=parse_fps(self.fps),
            size=parse_size_text(self.size),
            frames=parse_frame_span(self.frames) if self.frames is not None else None,
            target=parse_target(self.target) if self.target is not None else None,
            shot=_move_shot(self),
        )
        object.__setattr__(self, "_parsed", parsed)  # not a field: recipes store the text

    @property
    def frame_rate(self) -> Fraction:
        """``fps`` as an exact fraction."""
        return self._parsed.fps

    @property
    def frame_span(self) -> tuple[int, int] | None:
        """``frames`` as (first, last) frame numbers, or None for the whole shot."""
        return self._parsed.frames

    @property
    def target_point(self) -> tuple[float, float] | None:
        """``target`` as normalised (x, y), or None for the default subject."""
        return self._parsed.target

    @property
    def move_shot(self) -> Shot | None:
        """The checked shot of ``move`` and ``params``; None when ``camera_file`` gives the camera."""
        return self._parsed.shot

    def output_size(self, source_width: int, source_height: int) -> tuple[int, int]:
        """(width, height) of the output for a photo of ``source_width`` x ``source_height``."""
        return self._parsed.size or (source_width, source_height)


def _check_numbers(shot: ShotSettings) -> None:
    if not 0.0 < shot.duration < 1e6:  # also refuses NaN
        raise InputError(f"--duration {shot.duration}: give seconds > 0")
    if shot.first_frame < 0:
        raise InputError(f"--first-frame must be >= 0, got {shot.first_frame}")
    if not 0.0 < shot.max_reveal <= 1.0:
        raise InputError(f"--max-reveal {shot.max_reveal}: give a fraction of the frame in (0, 1]")
    if shot.target_depth is not None and not 0.0 < shot.target_depth < 1e6:
        raise InputError(f"--target-depth {shot.target_depth}: give a distance in metres > 0")
    if shot.framing not in FRAMINGS:
        raise InputError(f"--framing {shot.framing!r}: choose {' or '.join(FRAMINGS)}")
    if shot.focal_mm is not None and shot.fov is not None:
        raise InputError("give either --focal-mm or --fov, not both")
    if shot.focal_mm is not None and not 1.0 <= shot.focal_mm <= 5000.0:
        raise InputError(f"--focal-mm {shot.focal_mm}: use a 35 mm-equivalent focal in 1..5000 mm")
    if shot.fov is not None and not 0.1 <= shot.fov < 179.0:
        raise InputError(f"--fov {shot.fov}: use a horizontal field of view in 0.1..179 degrees")


def _move_shot(shot: ShotSettings) -> Shot | None:
    """The shot that ``--move`` and ``--set`` describe (None with a camera file)."""
    if shot.camera_file is not None:
        if shot.move is not None or shot.params:
            raise InputError("give --move/--set or --path, not both (the file holds the whole move)")
        return None
    segments = parse_move_expression(shot.move or DEFAULT_MOVE)
    if shot.params:
        if len(segments) != 1:
            raise InputError(
                "--set applies to a single move; write parameters into --move, e.g. pan(degrees=20)"
            )
        segments = (replace(segments[0], params={**segments[0].params, **parse_move_params(shot.params)}),)
    return check_shot(Shot(segments=segments))


def with_lens(picture: Picture, shot: ShotSettings) -> Picture:
    """The photo with the focal length ``--focal-mm`` or ``--fov`` gives (unchanged without)."""
    if shot.focal_mm is not None:
        return replace(picture, focal_mm=float(shot.focal_mm), focal_source="user")
    if shot.fov is not None:
        mm = focal_px_to_mm(focal_px_from_fov(shot.fov, picture.width), picture.width, picture.height)
        return replace(picture, focal_mm=mm, focal_source="user")
    return picture


def shot_plan(shot: ShotSettings) -> Shot | CameraPath:
    """What the camera does: the ``--path`` file's shot, or its cameras (at ``--size`` when
    one is given), else ``--move``/``--set``. Reads the camera file, not the photo.

    Raises:
        InputError: an unreadable camera file, ``--safe``, ``--framing inside`` or another
            aspect ratio with imported cameras.
    """
    if shot.move_shot is not None:
        return shot.move_shot
    assert shot.camera_file is not None
    if not Path(shot.camera_file).is_file():
        raise InputError(f"--path {shot.camera_file}: no such file; give a shot file or a transforms.json")
    if not is_transforms(Path(shot.camera_file)):
        return read_shot_file(shot.camera_file)
    if shot.safe:
        raise InputError("--safe cannot shorten cameras read from a transforms.json; leave --safe out")
    if shot.framing == "inside":
        raise InputError(
            "--framing inside cannot zoom cameras read from a transforms.json (they are exact); "
            "leave --framing out"
        )
    cameras = read_transforms(shot.camera_file, fps=shot.frame_rate, first_frame=shot.first_frame)
    return _imported(cameras, shot)


def plan_timing(plan: Shot | CameraPath, shot: ShotSettings) -> ShotTiming:
    """The fps, first frame and frame counts of :func:`shot_plan`'s result, before any camera
    is sampled (the photo is not needed)."""
    if isinstance(plan, CameraPath):
        return ShotTiming(plan.fps, plan.first_frame, (len(plan),))
    return shot_timing(plan, fps=shot.frame_rate, duration_s=shot.duration, first_frame=shot.first_frame)


def check_frame_span(span: tuple[int, int] | None, timing: ShotTiming) -> None:
    """Refuse a ``--frames`` span the shot does not have."""
    if span is None:
        return
    a, b = span
    first, last = timing.first_frame, timing.first_frame + timing.frames - 1
    if not first <= a <= b <= last:
        raise InputError(f"--frames {a}-{b}: the shot has frames {first}-{last}; pick A <= B inside it")


def is_transforms(file: Path) -> bool:
    """A ``.json`` whose top level has ``frames`` (a shot file cannot have that key)."""
    if file.suffix.lower() != ".json" or not file.is_file():
        return False
    try:
        return "frames" in json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def camera_file_record(shot: ShotSettings) -> dict[str, Any]:
    """The recipe's record of the ``--path`` camera file (re-renders check it is unchanged)."""
    if shot.camera_file is None:
        return {}
    file = Path(shot.camera_file)
    if not file.is_file():
        raise InputError(f"--path {shot.camera_file}: no such file; give a shot file or a transforms.json")
    return {"camera_file": {"path": str(file.resolve()), "sha256": sha256_file(file)}}


def metres_warning(plan: Shot | CameraPath, depth: DepthMap) -> tuple[str, ...]:
    """A warning when a move is given in metres but the depth's scale is a guess."""
    if depth.metric:
        return ()
    if isinstance(plan, Shot) and not plan.keyframes:
        steps = [*plan.layers, *plan.segments, *(layer for s in plan.segments for layer in s.layers)]
        if all(step.params.get("distance") is None for step in steps):
            return ()
    return (
        f"the move is given in metres but the depth is relative ({depth.source}), so metres are a "
        "guess; give fractions of the subject distance (fraction=...) or metric depth",
    )


def camera_paths(
    source: Camera, z: np.ndarray, shot: ShotSettings, plan: Shot | CameraPath
) -> Callable[[float], CameraPath]:
    """The shot's per-frame cameras as a function of how much of the move is played.

    The output size and the subject are worked out once here; the function returned only
    samples the move (the motion-safety clamp calls it repeatedly).

    Args:
        source: the photo's camera (world origin).
        z: (H, W) float32 depth of the photo in metres (for the subject).
        shot: the move options.
        plan: :func:`shot_plan`'s result.

    Returns:
        amount in [0, 1] -> :class:`CameraPath` (imported cameras ignore the amount).
    """
    if isinstance(plan, CameraPath):  # already at --size (shot_plan)
        return lambda amount: plan
    width, height = shot.output_size(source.width, source.height)
    context = move_context(fit_output_camera(source, width, height), source, z, shot)

    def sample(amount: float) -> CameraPath:
        return build_shot_path(
            plan,
            context,
            fps=shot.frame_rate,
            duration_s=shot.duration,
            easing=shot.easing,
            first_frame=shot.first_frame,
            amount=amount,
        )

    return sample


def _imported(camera_path: CameraPath, shot: ShotSettings) -> CameraPath:
    """Cameras from a transforms.json at their own size, or resized to an explicit ``--size``."""
    first = camera_path.cameras[0]
    width, height = shot.output_size(first.width, first.height)
    if (width, height) == (first.width, first.height):
        return camera_path
    if abs(width / height - first.width / first.height) > 0.01 * first.width / first.height:
        raise InputError(
            f"--size {shot.size} has another aspect ratio than the camera file's "
            f"{first.width}x{first.height}; give a size with the same aspect, or leave --size out"
        )
    return replace(camera_path, cameras=tuple(c.resized(width, height) for c in camera_path.cameras))


def move_context(start: Camera, source: Camera, z: np.ndarray, shot: ShotSettings) -> MoveContext:
    """The moves' subject: ``--target`` / ``--target-depth``, else the central third's median.

    Args:
        start: the output's first camera.
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.
        shot: the move options.
    """
    if shot.target_point is None:
        depth = shot.target_depth if shot.target_depth is not None else subject_depth(z)
        return MoveContext(start, float(depth))
    x, y = shot.target_point
    ray = np.array(
        [(x * start.width - 0.5 - start.cx) / start.fx, (y * start.height - 0.5 - start.cy) / start.fy, 1.0]
    )
    if shot.target_depth is not None:
        depth = float(shot.target_depth)
    else:  # the depth map's median in a 5 x 5 window at the target's pixel of the photo
        u = int(np.clip(round(ray[0] * source.fx + source.cx), 0, source.width - 1))
        v = int(np.clip(round(ray[1] * source.fy + source.cy), 0, source.height - 1))
        depth = float(np.median(z[max(v - 2, 0) : v + 3, max(u - 2, 0) : u + 3]))
    return MoveContext(start, depth, ray * depth)


def frame_range(camera_path: CameraPath, span: tuple[int, int] | None) -> CameraPath:
    """The part of ``camera_path`` from frame ``span[0]`` to ``span[1]`` (all of it for None)."""
    if span is None:
        return camera_path
    check_frame_span(span, ShotTiming(camera_path.fps, camera_path.first_frame, (len(camera_path),)))
    a, b = span
    return CameraPath(
        camera_path.cameras[a - camera_path.first_frame : b - camera_path.first_frame + 1], camera_path.fps, a
    )
