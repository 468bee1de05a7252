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

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from ..bounds import (
    MAX_SAMPLES,
    MAX_SIDE,
    MIN_SIDE,
    check_fields,
    check_frame_size,
    check_integer,
    check_number,
)
from ..conventions import FIRST_FRAME, focal_px_from_fov, focal_px_to_mm, parse_fps
from ..depth.convert import DepthMap
from ..errors import InputError
from ..io.hashing import sha256_file
from ..io.image import Picture
from .camera import Camera, fit_output_camera
from .moves import MoveContext, parse_move_params, subject_depth
from .path import EASINGS, CameraPath, bezier_handles, check_easing, frame_count
from .shot import (
    MAX_FIRST_FRAME,
    MAX_FRAMES,
    MAX_SECONDS,
    Shot,
    ShotTiming,
    build_shot_path,
    check_shot,
    parse_move_expression,
    read_shot_file,
    shot_timing,
)
from .transforms import looks_like_transforms, read_transforms

#: Named output sizes (width, height) in pixels.
SIZES: dict[str, tuple[int, int]] = {"HD": (1920, 1080), "UHD": (3840, 2160), "DCI4K": (4096, 2160)}
#: The move when neither ``--move`` nor ``--path`` gives one.
DEFAULT_MOVE = "dolly-in"
FramingName = Literal["free", "inside"]
#: ``--framing`` choices.
FRAMINGS: tuple[str, ...] = get_args(FramingName)
#: Slowest frame rate: a frame an hour (the longest shot is an hour of at least one frame).
MIN_FPS = Fraction(1, 3600)
#: Fastest frame rate.
MAX_FPS = Fraction(1000)
#: Largest denominator of an exact frame rate: a video's time base must fit in 32 bits.
MAX_FPS_DENOMINATOR = 1_000_000
#: How far a Bézier easing's y handles may reach: a curve past them overshoots the move tenfold.
MAX_EASING_Y = 10.0
#: The nearest and farthest subject, in metres (``--target-depth``): a micrometre (the
#: nearest depth a scene may have) to a thousand kilometres.
MIN_TARGET_DEPTH_M = 1e-6
MAX_TARGET_DEPTH_M = 1e6


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
    match = re.fullmatch(r"(\d{1,9})\s*[xX]\s*(\d{1,9})", key)
    if not match:
        if re.fullmatch(r"[-+]?[\d.]*\s*[xX]\s*[-+]?[\d.]*", key[:40]):
            raise InputError(
                f"--size {text!r}: width and height must be positive whole numbers of pixels, "
                f"{MIN_SIDE}..{MAX_SIDE} each (e.g. 1280x720)"
            )
        raise InputError(
            f"--size {text!r}: use WxH, {MIN_SIDE}..{MAX_SIDE} px a side (e.g. 1280x720), "
            "or HD, UHD, DCI4K, source"
        )
    width, height = int(match[1]), int(match[2])
    check_frame_size(width, height, f"--size {key}")
    return width, height


def parse_size(text: str, source_width: int, source_height: int) -> tuple[int, int]:
    """:func:`parse_size_text`, with ``source`` meaning ``source_width`` x ``source_height``."""
    return parse_size_text(text) or (source_width, source_height)


def parse_frame_span(text: str, option: str = "--frames") -> tuple[int, int]:
    """``A-B`` -> (A, B), frame numbers with A <= B (whether the shot has them is checked by
    :func:`frame_range`); ``option`` names the flag in errors."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*-\s*(\d{1,9})\s*", str(text))
    if not match:
        raise InputError(f"{option} {text!r}: write A-B with frame numbers A <= B, e.g. 1001-1048")
    a, b = int(match[1]), int(match[2])
    if a > b:
        raise InputError(f"{option} {text}: the first frame must not come after the last (A <= B)")
    return a, b


def parse_target(text: str) -> tuple[float, float]:
    """``X,Y`` -> normalised frame coordinates, each in [0, 1] (0,0 top left)."""
    try:
        x, y = (float(v) for v in str(text)[:100].split(","))
    except ValueError:
        raise InputError(f"--target {text!r}: expected X,Y, e.g. --target 0.5,0.4") from None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):  # also refuses NaN
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
            "help": "move parameter in its unit and range (`stillcam moves` lists both), repeatable "
            "(e.g. --set degrees=20)",
        },
    )
    duration: float = field(
        default=4.0,
        metadata={
            "help": f"shot length in seconds, (0, {MAX_SECONDS:g}]; a shot has at most {MAX_FRAMES} frames"
        },
    )
    fps: str = field(
        default="24",
        metadata={
            "help": "frame rate, exact: 24, 25, 24000/1001 or 23.976; from 1/3600 to 1000, at most 6 decimals"
        },
    )
    easing: str = field(
        default="ease-in-out",
        metadata={
            "help": f"speed curve of the moves that set none: {', '.join(EASINGS)}, or "
            f"bezier(x1,y1,x2,y2) handles (x1, x2 in [0, 1]; y1, y2 in [-{MAX_EASING_Y:g}, {MAX_EASING_Y:g}])"
        },
    )
    size: str = field(
        default="source",
        metadata={
            "help": "output size: HD (1920x1080), UHD (3840x2160), DCI4K (4096x2160), "
            f"WxH ({MIN_SIDE}..{MAX_SIDE} px a side), or source (the photo's size). A different "
            "aspect than the photo's is fitted by cropping the photo's centre, never by "
            f"stretching. A frame has at most {MAX_SAMPLES / 1e6:.0f} MP of samples (width x "
            "height x --supersample squared)"
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
            "help": "the photo's focal length, 35 mm-equivalent mm, 1..5000 (overrides EXIF; "
            "default: EXIF, else 50 mm)"
        },
    )
    fov: float | None = field(
        default=None,
        metadata={
            "help": "the photo's horizontal field of view in degrees, [0.1, 179) (alternative to --focal-mm)"
        },
    )
    first_frame: int = field(
        default=FIRST_FRAME, metadata={"help": f"number of the first frame, 0..{MAX_FIRST_FRAME}"}
    )
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
        metadata={
            "help": "metres to the subject along the optical axis, 1e-6..1e6 (default: from the depth map)"
        },
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
        check_fields(self)
        _check_numbers(self)
        _check_easing_option(self.easing)
        fps = parse_frame_rate(self.fps)
        parsed = _Parsed(
            fps=fps,
            size=parse_size_text(self.size),
            frames=parse_frame_span(self.frames) if self.frames is not None else None,
            target=parse_target(self.target) if self.target is not None else None,
            shot=_move_shot(self),
        )
        if parsed.shot is not None:  # the move's length is known now: check it before any work
            _check_move_timing(parsed.shot, self, fps, parsed.frames)
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
    def size_px(self) -> tuple[int, int] | None:
        """``size`` as (width, height) in pixels, or None for ``source`` (the photo's size)."""
        return self._parsed.size

    @property
    def move_shot(self) -> Shot | None:
        """The checked shot of ``move`` and ``params``; None when ``camera_file`` gives the camera."""
        return self._parsed.shot

    def output_size(self, source_width: int, source_height: int) -> tuple[int, int]:
        """(width, height) of the output for a photo of ``source_width`` x ``source_height``.

        Raises:
            InputError: ``--size source`` of a photo larger than an output frame may be
                (:func:`~stillcam.bounds.check_frame_size`).
        """
        if self._parsed.size is not None:
            return self._parsed.size
        _check_large(
            source_width, source_height, f"--size source (the photo is {source_width}x{source_height})"
        )
        return source_width, source_height


def _check_large(width: int, height: int, option: str) -> None:
    """A frame size that comes from a file (the photo's, a transforms.json's) within the
    largest an output may have (small ones are the loaders' to refuse)."""
    if max(width, height) > MAX_SIDE or width * height > MAX_SAMPLES:
        check_frame_size(width, height, option)


def _check_numbers(shot: ShotSettings) -> None:
    """The numeric options' ranges (NaN and infinities are out of every range)."""
    check_number("--duration", shot.duration, 0.0, MAX_SECONDS, what="seconds", open_low=True)
    check_integer("--first-frame", shot.first_frame, 0, MAX_FIRST_FRAME, what="a frame number")
    check_number("--max-reveal", shot.max_reveal, 0.0, 1.0, what="a fraction of the frame", open_low=True)
    if shot.target_depth is not None:
        check_number(
            "--target-depth", shot.target_depth, MIN_TARGET_DEPTH_M, MAX_TARGET_DEPTH_M, what="metres"
        )
    if shot.framing not in FRAMINGS:
        raise InputError(f"--framing {shot.framing!r}: choose {' or '.join(FRAMINGS)}")
    if shot.focal_mm is not None and shot.fov is not None:
        raise InputError("give either --focal-mm or --fov, not both")
    if shot.focal_mm is not None:
        check_number("--focal-mm", shot.focal_mm, 1.0, 5000.0, what="a 35 mm-equivalent focal in mm")
    if shot.fov is not None:
        check_number(
            "--fov", shot.fov, 0.1, 179.0, what="a horizontal field of view in degrees", open_high=True
        )
    if shot.move is not None and not shot.move.strip():
        raise InputError(
            "--move '': give a move (`stillcam moves` lists them), or leave --move out for the default"
        )


def parse_frame_rate(text: str) -> Fraction:
    """``--fps`` as an exact fraction (:func:`~stillcam.conventions.parse_fps`), checked for
    what a shot and its video can have: from :data:`MIN_FPS` to :data:`MAX_FPS`, with a
    denominator of at most :data:`MAX_FPS_DENOMINATOR`.

    Raises:
        InputError: naming ``--fps``: not a number, out of range, or too many digits.
    """
    raw = str(text).strip()
    if len(raw) > 40:
        raise InputError(f"--fps {raw[:20]!r}...: {len(raw)} characters; write e.g. 24, 25, 24000/1001")
    try:
        fps = parse_fps(raw)
    except InputError:
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            raise InputError(
                f"--fps {raw} is out of range; give frames per second in (0, {MAX_FPS}]"
            ) from None
        raise InputError(
            f"--fps {raw[:40]!r} is not a finite number; use e.g. 24, 25, 24000/1001 or 23.976"
        ) from None
    check_frame_rate(fps, f"--fps {raw}")
    return fps


def check_frame_rate(fps: Fraction, what: str) -> None:
    """Refuse a frame rate (``--fps``, a shot file's or a transforms.json's) slower than
    :data:`MIN_FPS` or with a denominator over :data:`MAX_FPS_DENOMINATOR` (parse_fps has
    checked it is in (0, 1000]); ``what`` names it (``--fps 1e-9``).

    Raises:
        InputError: saying which limit, and what to give instead.
    """
    if fps < MIN_FPS:
        raise InputError(
            f"{what} is out of range; give frames per second from 1/3600 (a frame an hour, "
            f"the longest shot) to {MAX_FPS}"
        )
    if fps.denominator > MAX_FPS_DENOMINATOR:
        raise InputError(
            f"{what}: too many digits for a video's time base; give at most 6 decimals or a "
            "fraction such as 24000/1001"
        )


def _check_easing_option(easing: str) -> None:
    """``--easing``: a named easing or a Bézier whose y handles stay within :data:`MAX_EASING_Y`."""
    try:
        check_easing(easing)
        handles = bezier_handles(easing)
    except InputError as exc:
        raise InputError(f"--easing: {exc}") from None
    if handles is not None and not all(abs(y) <= MAX_EASING_Y for y in handles[1::2]):
        raise InputError(
            f"--easing {easing!r}: y1 and y2 must lie in [-{MAX_EASING_Y:g}, {MAX_EASING_Y:g}] (past "
            "that the camera overshoots the move tenfold)"
        )


def _check_move_timing(
    move_shot: Shot, shot: ShotSettings, fps: Fraction, span: tuple[int, int] | None
) -> None:
    """The ``--move`` shot's length (at most :data:`~stillcam.camera.shot.MAX_FRAMES` frames
    and an hour) and the ``--frames`` span in it, from the timing alone (no camera sampled)."""
    if all(s.frames is None and s.duration is None for s in move_shot.segments):
        frames = frame_count(shot.duration, fps)
        if frames > MAX_FRAMES:
            raise InputError(
                f"--duration {shot.duration:g} at --fps {shot.fps} is {frames} frames; a shot has at "
                f"most {MAX_FRAMES} frames (shorten --duration or lower --fps)"
            )
    timing = shot_timing(move_shot, fps=fps, duration_s=shot.duration, first_frame=shot.first_frame)
    check_frame_span(span, timing)


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
    _check_camera_file(Path(shot.camera_file))
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
    is sampled (the photo is not needed); a camera file's own frame rate is held to the
    bounds of ``--fps`` here (:func:`check_frame_rate`).

    Raises:
        InputError: more than :data:`~stillcam.camera.shot.MAX_FRAMES` frames, a frame rate
            out of bounds, or (MoveError) segments that do not fit the shot.
    """
    if isinstance(plan, CameraPath):
        if len(plan) > MAX_FRAMES:
            raise InputError(f"--path: {len(plan)} cameras; a shot has at most {MAX_FRAMES} frames")
        timing = ShotTiming(plan.fps, plan.first_frame, (len(plan),))
    else:
        if plan.fps is not None:  # before the frames are counted at it
            check_frame_rate(parse_fps(plan.fps), f"--path {shot.camera_file}: its fps {plan.fps}")
        timing = shot_timing(
            plan, fps=shot.frame_rate, duration_s=shot.duration, first_frame=shot.first_frame
        )
    if timing.fps != shot.frame_rate:
        check_frame_rate(timing.fps, f"--path {shot.camera_file}: its fps {float(timing.fps):g}")
    return timing


def check_frame_span(span: tuple[int, int] | None, timing: ShotTiming) -> None:
    """Refuse a ``--frames`` span the shot does not have."""
    if span is None:
        return
    a, b = span
    first, last = timing.first_frame, timing.first_frame + timing.frames - 1
    if not first <= a <= b <= last:
        raise InputError(f"--frames {a}-{b}: the shot has frames {first}-{last}; pick A <= B inside it")


def is_transforms(file: Path) -> bool:
    """A ``.json`` whose top level is an object with ``frames`` (a shot file cannot have that
    key), read within the transforms reader's bounds; a file that cannot be read so is not
    one (the shot file reader then says what is wrong with it)."""
    return file.is_file() and looks_like_transforms(file)


def _check_camera_file(file: Path) -> None:
    """Refuse a ``--path`` that is missing or not a regular file (a folder, a FIFO, a device
    such as /dev/zero), without opening it."""
    hint = "give a shot file or a transforms.json"
    if not file.exists():
        raise InputError(f"--path {file}: no such file; {hint}")
    if not file.is_file():
        kind = "a folder" if file.is_dir() else "not a regular file (a FIFO or a device?)"
        raise InputError(f"--path {file}: is {kind}; {hint}")


def camera_file_record(shot: ShotSettings) -> dict[str, Any]:
    """The recipe's record of the ``--path`` camera file (re-renders check it is unchanged)."""
    if shot.camera_file is None:
        return {}
    file = Path(shot.camera_file)
    _check_camera_file(file)
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
        _check_large(width, height, f"--path {shot.camera_file} (its cameras are {width}x{height})")
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
