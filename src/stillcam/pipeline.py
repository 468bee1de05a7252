"""The whole flow, photo + depth -> shot: the one-call API and the pieces the CLI uses.

``photo -> Picture -> DepthMap -> Scene -> CameraPath -> Frames -> sink + Recipe``
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ._progress import DelayedProgress
from ._version import __version__
from .camera.camera import Camera, fit_output_camera
from .camera.moves import MoveContext, parse_move_params, subject_depth
from .camera.path import EASINGS, CameraPath
from .camera.shot import Shot, build_shot_path, check_shot, parse_move_expression, read_shot_file
from .camera.transforms import read_transforms
from .conventions import FIRST_FRAME, focal_mm_to_px, focal_px_to_mm, parse_fps
from .depth.convert import DepthMap, DepthSettings, depth_from_raw, resample_depth
from .errors import InputError, OutputError, RecipeError
from .example.procedural import example_inputs
from .export import check_exports, write_exports
from .io.depthfile import read_depth_file
from .io.hashing import sha256_file
from .io.image import Picture, load_image
from .output.colour import ocio_record
from .output.passes import coverage_scene, open_pass_sinks
from .output.recipe import Recipe, read_recipe, write_recipe
from .output.targets import OutputTarget, parse_output
from .output.writers import (
    OutputSettings,
    display_dtype,
    display_scale,
    open_sink,
    to_display,
    to_display_rgba,
)
from .render.frame import Frame, Renderer, RenderSettings, fill_holes
from .render.registry import get_renderer, renderer_name
from .safety import Safety, guard, proxy_for
from .scene.layers import Reach, magnification, reach_of, stride_at
from .scene.mesh import Scene, SceneSettings, auto_stride, build_scene

_LOG = logging.getLogger("stillcam")

#: Named output sizes (width, height) in pixels.
SIZES: dict[str, tuple[int, int]] = {"HD": (1920, 1080), "UHD": (3840, 2160), "DCI4K": (4096, 2160)}


@dataclass(frozen=True)
class ShotSettings:
    """The move, its timing and the output frame. Field docs become ``--help`` text."""

    move: str | None = field(
        default=None,
        metadata={
            "metavar": "MOVES",
            "help": "camera move (default: dolly-in): a name from `stillcam moves`, or a sequence "
            "and layers, e.g. 'dolly-in(fraction=0.2, duration=2) then pan(degrees=15) + "
            "handheld(seed=3)' (docs/moves.md)",
        },
    )
    path: str | None = field(
        default=None,
        metadata={
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


_SECTIONS = {
    "shot": ShotSettings,
    "depth": DepthSettings,
    "scene": SceneSettings,
    "render": RenderSettings,
    "output": OutputSettings,
}


@dataclass(frozen=True)
class RenderOptions:
    """All options of a render, grouped by stage; what a recipe stores."""

    shot: ShotSettings = field(default_factory=ShotSettings)
    depth: DepthSettings = field(default_factory=DepthSettings)
    scene: SceneSettings = field(default_factory=SceneSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    output: OutputSettings = field(default_factory=OutputSettings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_fields(cls, values: Mapping[str, Any]) -> RenderOptions:
        """Options from flat field names (``stride=1``, ``move="pan"``), each routed to its
        section; missing fields keep their defaults, lists become tuples.

        Raises:
            InputError: a name that is no option's, with the valid ones listed.
        """
        owners = {f.name: name for name, section in _SECTIONS.items() for f in fields(section)}
        unknown = sorted(set(values) - set(owners))
        if unknown:
            raise InputError(f"unknown option {unknown[0]!r}; valid options: {', '.join(sorted(owners))}")
        grouped: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
        for key, value in values.items():
            grouped[owners[key]][key] = tuple(value) if isinstance(value, list) else value
        return cls(**{name: _SECTIONS[name](**group) for name, group in grouped.items()})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderOptions:
        """Inverse of :meth:`to_dict`; JSON lists become tuples again."""
        try:
            sections = {}
            for name, section in _SECTIONS.items():
                values = dict(data.get(name, {}))
                for f in fields(section):
                    if isinstance(values.get(f.name), list):
                        values[f.name] = tuple(values[f.name])
                sections[name] = section(**values)
        except TypeError as exc:
            raise RecipeError(f"recipe options do not match this stillcam version ({exc})") from None
        return cls(**sections)


def parse_size(text: str, source_width: int, source_height: int) -> tuple[int, int]:
    """``HD``/``UHD``/``DCI4K``/``WxH``/``source`` -> (width, height) in pixels."""
    key = text.strip()
    if key.upper() in SIZES:
        return SIZES[key.upper()]
    if key.lower() == "source":
        return source_width, source_height
    match = re.fullmatch(r"(\d+)[xX](\d+)", key)
    if not match or min(int(match[1]), int(match[2])) < 2 or max(int(match[1]), int(match[2])) > 32768:
        raise InputError(f"--size {text!r}: use HD, UHD, DCI4K, source or WxH (2..32768 px)")
    return int(match[1]), int(match[2])


def _with_lens(picture: Picture, shot: ShotSettings) -> Picture:
    if shot.focal_mm is not None and shot.fov is not None:
        raise InputError("give either --focal-mm or --fov, not both")
    if shot.focal_mm is not None:
        if not 1.0 <= shot.focal_mm <= 5000.0:
            raise InputError(f"--focal-mm {shot.focal_mm}: use a 35 mm-equivalent focal in 1..5000 mm")
        return replace(picture, focal_mm=float(shot.focal_mm), focal_source="user")
    if shot.fov is not None:
        if not 0.1 <= shot.fov < 179.0:
            raise InputError(f"--fov {shot.fov}: use a horizontal field of view in 0.1..179 degrees")
        focal_px = picture.width / 2.0 / math.tan(math.radians(shot.fov) / 2.0)
        mm = focal_px_to_mm(focal_px, picture.width, picture.height)
        return replace(picture, focal_mm=mm, focal_source="user")
    return picture


def load_inputs(
    photo: str | Path, depth: str | Path | None, options: RenderOptions
) -> tuple[Picture, DepthMap]:
    """Load the photo and its depth: a depth file (interpreted and resampled to the photo), or,
    without one, the ``--depth-model``'s estimate (:mod:`stillcam.depth.estimate`)."""
    if depth is None:
        from .depth.estimate import estimate_depth, prepare_model

        settings = options.depth
        model = {"model_dir": settings.model_dir, "allow_noncommercial": settings.allow_noncommercial}
        prepare_model(settings.depth_model, upsample=settings.upsample, **model)  # before decoding
        picture = _with_lens(load_image(photo), options.shot)
        estimate = estimate_depth(picture, settings.depth_model, upsample=settings.upsample, **model)
        return _estimated(picture, estimate, options)
    picture = _with_lens(load_image(photo), options.shot)
    raw = read_depth_file(depth)
    raw_w = raw.values.shape[1]
    focal_px = focal_mm_to_px(picture.focal_mm, picture.width, picture.height) * raw_w / picture.width
    z = depth_from_raw(raw, options.depth, focal_px=focal_px)
    z = resample_depth(z, picture.width, picture.height, name=raw.name)
    settings = options.depth
    source = f"file:{raw.name} ({settings.depth_kind}"
    if settings.depth_kind == "inverse-depth" or (settings.near is not None and settings.far is not None):
        source += f", near {settings.near}, far {settings.far}"
    metric = settings.depth_kind != "inverse-depth" and (settings.near is None or settings.far is None)
    origin = {"path": str(Path(depth).resolve()), "sha256": raw.sha256}
    return picture, DepthMap(z, source + ")", raw.sha256, metric=metric, origin=origin)


def _estimated(picture: Picture, estimate: Any, options: RenderOptions) -> tuple[Picture, DepthMap]:
    """The depth map of a model's estimate, and the photo with the model's focal length when
    neither EXIF nor the user gave one (Depth Pro estimates it)."""
    from .depth.estimate import depth_map_of

    if picture.focal_source == "default" and estimate.fov_degrees is not None:
        focal_px = picture.width / 2.0 / math.tan(math.radians(estimate.fov_degrees) / 2.0)
        mm = focal_px_to_mm(focal_px, picture.width, picture.height)
        picture = replace(picture, focal_mm=mm, focal_source=f"model:{estimate.model}")
    return picture, depth_map_of(estimate, options.depth)


def plan_shot(picture: Picture, depth: DepthMap, options: RenderOptions) -> tuple[Scene, CameraPath, Safety]:
    """Build the per-frame cameras, check them with the motion-safety guard (clamped with
    ``--safe``), then build the scene they need. Cheap checks first, the mesh last."""
    source, path, safety = plan_cameras(picture, depth, options)
    return scene_for(picture, depth, source, path.cameras, options), path, safety


def plan_cameras(
    picture: Picture, depth: DepthMap, options: RenderOptions
) -> tuple[Camera, CameraPath, Safety]:
    """The photo's camera, the shot's per-frame cameras (checked and, with ``--safe``,
    clamped by the motion-safety guard) and the guard's findings: what :func:`plan_shot` and
    the web app's preview both use, so a preview frame N is the render's frame N."""
    shot = options.shot
    if not 0.0 < shot.max_reveal <= 1.0:
        raise InputError(f"--max-reveal {shot.max_reveal}: give a fraction of the frame in (0, 1]")
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    plan = shot_plan(shot)
    if shot.safe and isinstance(plan, CameraPath):
        raise InputError("--safe cannot shorten cameras read from a transforms.json; leave --safe out")
    path, safety = guard(
        camera_paths(source, depth.z, shot, plan),
        proxy_for(picture, depth),
        max_reveal=shot.max_reveal,
        clamp=shot.safe,
    )
    safety = replace(safety, warnings=safety.warnings + _metres_warning(plan, depth))
    return source, path, safety


def _metres_warning(plan: Shot | CameraPath, depth: DepthMap) -> tuple[str, ...]:
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


def shot_plan(shot: ShotSettings) -> Shot | CameraPath:
    """What the camera does: the ``--path`` file's shot or cameras, else ``--move``/``--set``."""
    if shot.path is not None:
        if shot.move is not None or shot.params:
            raise InputError("give --move/--set or --path, not both (the file holds the whole move)")
        if _is_transforms(Path(shot.path)):
            return read_transforms(shot.path, fps=parse_fps(shot.fps), first_frame=shot.first_frame)
        return read_shot_file(shot.path)
    segments = parse_move_expression(shot.move or "dolly-in")
    if shot.params:
        if len(segments) != 1:
            raise InputError(
                "--set applies to a single move; write parameters into --move, e.g. pan(degrees=20)"
            )
        segments = (replace(segments[0], params={**segments[0].params, **parse_move_params(shot.params)}),)
    return check_shot(Shot(segments=segments))


def _is_transforms(file: Path) -> bool:
    """A ``.json`` whose top level has ``frames`` (a shot file cannot have that key)."""
    if file.suffix.lower() != ".json" or not file.is_file():
        return False
    try:
        return "frames" in json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def camera_paths(
    source: Camera, z: np.ndarray, shot: ShotSettings, plan: Shot | CameraPath
) -> Callable[[float], CameraPath]:
    """The shot's per-frame cameras as a function of how much of the move is played.

    Checks, the output size and the subject are worked out once here; the function returned
    only samples the move (the motion-safety clamp calls it repeatedly).

    Args:
        source: the photo's camera (world origin).
        z: (H, W) float32 depth of the photo in metres (for the subject).
        shot: the move options.
        plan: :func:`shot_plan`'s result.

    Returns:
        amount in [0, 1] -> :class:`CameraPath` (imported cameras ignore the amount).
    """
    if shot.first_frame < 0:
        raise InputError(f"--first-frame must be >= 0, got {shot.first_frame}")
    width, height = parse_size(shot.size, source.width, source.height)
    if isinstance(plan, CameraPath):
        imported = _imported(plan, shot, width, height)
        return lambda amount: imported
    context = move_context(fit_output_camera(source, width, height), source, z, shot)
    fps = parse_fps(shot.fps)

    def sample(amount: float) -> CameraPath:
        return build_shot_path(
            plan,
            context,
            fps=fps,
            duration_s=shot.duration,
            easing=shot.easing,
            first_frame=shot.first_frame,
            amount=amount,
        )

    return sample


def _imported(path: CameraPath, shot: ShotSettings, width: int, height: int) -> CameraPath:
    """Cameras from a transforms.json at their own size, or resized to an explicit ``--size``."""
    first = path.cameras[0]
    if shot.size == "source" or (width, height) == (first.width, first.height):
        return path
    if abs(width / height - first.width / first.height) > 0.01 * first.width / first.height:
        raise InputError(
            f"--size {shot.size} has another aspect ratio than the camera file's "
            f"{first.width}x{first.height}; give a size with the same aspect, or leave --size out"
        )
    return replace(path, cameras=tuple(c.resized(width, height) for c in path.cameras))


def move_context(start: Camera, source: Camera, z: np.ndarray, shot: ShotSettings) -> MoveContext:
    """The moves' subject: ``--target`` / ``--target-depth``, else the central third's median."""
    if shot.target_depth is not None and not 0.0 < shot.target_depth < 1e6:
        raise InputError(f"--target-depth {shot.target_depth}: give a distance in metres > 0")
    if shot.target is None:
        depth = shot.target_depth if shot.target_depth is not None else subject_depth(z)
        return MoveContext(start, float(depth))
    try:
        x, y = (float(v) for v in shot.target.split(","))
    except ValueError:
        raise InputError(f"--target {shot.target!r}: expected X,Y, e.g. --target 0.5,0.4") from None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise InputError(f"--target {shot.target}: X and Y are fractions of the frame, 0..1")
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


#: The photo is box-filtered by up to this factor (powers of two) before it becomes the
#: scene's texture when every camera shows it at half its size or less.
MAX_TEXTURE_REDUCTION = 4


def texture_reduction(scale: float) -> int:
    """1, 2 or 4: the largest power of two f <= MAX_TEXTURE_REDUCTION with ``scale`` * f <= 1,
    ``scale`` being the largest output pixels per photo pixel any camera shows."""
    factor = 1
    while factor < MAX_TEXTURE_REDUCTION and scale * factor * 2 <= 1.0:
        factor *= 2
    return factor


def downscaled(
    picture: Picture, depth: DepthMap, source: Camera, width: int, height: int
) -> tuple[Picture, DepthMap, Camera]:
    """The photo box-filtered to ``width`` x ``height`` (OpenCV's area filter), its depth
    resampled in inverse depth, and its camera resized: the same view of the same metric
    world, fewer pixels."""
    import cv2

    pixels = cv2.resize(picture.pixels, (width, height), interpolation=cv2.INTER_AREA)
    small = replace(picture, pixels=np.ascontiguousarray(pixels, np.float32))
    return small, replace(depth, z=resample_depth(depth.z, width, height)), source.resized(width, height)


def scene_for(
    picture: Picture,
    depth: DepthMap,
    source: Camera,
    cameras: Sequence[Camera],
    options: RenderOptions,
    reach: Reach | None = None,
) -> Scene:
    """The scene for a set of viewing cameras (the one place the CLI and ``render_views`` share):
    its ring and background layer reach as far as these cameras will look (or as ``reach``
    says, when given), and with ``--stride 0`` (auto) its vertex spacing is the vertex
    budget's, or coarser when every camera shows the photo smaller than its own resolution
    (:func:`~stillcam.scene.layers.stride_for`).

    When every camera shows the photo at half its size or less, the scene is built from the
    photo box-filtered by 2 or 4 (:func:`texture_reduction`): bilinear sampling of the full
    photo would alias (fine detail shimmers as the camera moves), and the texture and the
    build get 4-16x smaller. A given ``reach`` is in the pixels of the photo as passed.
    """
    scale = magnification(source, cameras, depth.z)  # a median over the depth map: once
    settings = options.scene
    if settings.stride == 0:  # auto: the vertex budget, coarser where the output cannot show it
        budget = auto_stride(picture.width, picture.height)
        settings = replace(settings, stride=max(budget, stride_at(scale, settings.spacing)))
    factor = texture_reduction(scale)
    if factor > 1:
        width, height = max(2, round(picture.width / factor)), max(2, round(picture.height / factor))
        if reach is not None:
            reach = Reach(edge_px=reach.edge_px / factor, ring_px=reach.ring_px / factor)
        picture, depth, source = downscaled(picture, depth, source, width, height)
        # The same vertex spacing on screen as the full photo's stride (rounded up).
        settings = replace(settings, stride=max(1, math.ceil(settings.stride / factor)))
    if options.scene.fill == "none":
        reach = None
    elif reach is None:
        reach = reach_of(source, cameras, depth.z)
    return build_scene(picture, depth, source, settings, reach)


def shaded_frame(renderer: Renderer, scene: Scene, camera: Camera, options: RenderOptions) -> Frame:
    """Render one frame; with a fill, pixels that no layer covers take the background side's
    colour (:func:`~stillcam.render.frame.fill_holes`)."""
    frame = renderer.render(scene, camera)
    return fill_holes(frame) if options.scene.fill != "none" else frame


def display_frame(renderer: Renderer, scene: Scene, camera: Camera, options: RenderOptions) -> np.ndarray:
    """Render one frame and turn it into output pixels (shared by the CLI and ``render_views``).

    With a fill, pixels that no layer covers take the background side's colour; without, they
    show the matte.
    """
    fused = getattr(renderer, "render_display", None)  # the cpu backend's shortcut, same bytes
    if fused is not None:
        bits = options.output.bit_depth
        out = np.empty((camera.height, camera.width, 3), display_dtype(bits))
        fill = options.scene.fill != "none"
        if fused(scene, camera, fill, np.asarray(options.output.matte, np.float32), display_scale(bits), out):
            return out
    return to_display(
        shaded_frame(renderer, scene, camera, options), options.output.matte, options.output.bit_depth
    )


def sink_item(renderer: Renderer, scene: Scene, camera: Camera, options: RenderOptions, accepts: str) -> Any:
    """What a frame sink's ``write`` takes (its ``accepts``): display pixels ("display"),
    RGBA display pixels with straight colour ("rgba", alpha codecs) or the float frame with
    its camera ("frame", EXR)."""
    if accepts == "display":
        return display_frame(renderer, scene, camera, options)
    return item_from_frame(shaded_frame(renderer, scene, camera, options), camera, options, accepts)


def item_from_frame(frame: Frame, camera: Camera, options: RenderOptions, accepts: str) -> Any:
    """:func:`sink_item` from an already rendered (and filled) frame."""
    if accepts == "frame":
        return frame, camera
    if accepts == "rgba":
        return to_display_rgba(frame, options.output.bit_depth)
    return to_display(frame, options.output.matte, options.output.bit_depth)


class _ShotOutput:
    """The main frame sink and its passes (:mod:`stillcam.output.passes`): per camera, what
    each file's ``write`` gets; committed or aborted together."""

    def __init__(
        self, renderer: Renderer, scene: Scene, options: RenderOptions, sink: Any, passes: dict[str, Any]
    ) -> None:
        self.renderer = renderer
        self.scene = scene
        self.options = options
        self.sink = sink
        self.passes = passes
        self.accepts = getattr(sink, "accepts", "display")
        self.coverage = coverage_scene(scene) if "coverage" in passes else None
        # Its own renderer: one renderer per scene keeps the gl backend's texture uploaded.
        self.coverage_renderer = get_renderer(options.render) if "coverage" in passes else None

    def items(self, camera: Camera) -> list[tuple[Callable[[Any], None], Any]]:
        if not self.passes:  # the fast path (the cpu backend's fused display pixels)
            return [
                (self.sink.write, sink_item(self.renderer, self.scene, camera, self.options, self.accepts))
            ]
        frame = shaded_frame(self.renderer, self.scene, camera, self.options)
        items = [(self.sink.write, item_from_frame(frame, camera, self.options, self.accepts))]
        if "depth" in self.passes:
            items.append((self.passes["depth"].write, frame.depth))
        if self.coverage is not None and self.coverage_renderer is not None:
            coverage = self.coverage_renderer.render(self.coverage, camera).rgb[..., 0]
            items.append((self.passes["coverage"].write, coverage))
        return items

    def commit(self) -> None:
        self.sink.commit()
        for sink in self.passes.values():
            sink.commit()

    def abort(self) -> None:
        for sink in (self.sink, *self.passes.values()):
            sink.abort()


def frame_range(path: CameraPath, frames: str | None) -> CameraPath:
    """The part of ``path`` that ``--frames A-B`` asks for (all of it for None)."""
    if frames is None:
        return path
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", frames)
    last = path.first_frame + len(path) - 1
    if not match:
        raise InputError(f"--frames {frames!r}: write A-B, e.g. {path.first_frame}-{last}")
    a, b = int(match[1]), int(match[2])
    if not path.first_frame <= a <= b <= last:
        raise InputError(
            f"--frames {frames}: the shot has frames {path.first_frame}-{last}; pick A <= B inside it"
        )
    return CameraPath(path.cameras[a - path.first_frame : b - path.first_frame + 1], path.fps, a)


def _drain(pending: deque[Future[None]], keep: int) -> None:
    while len(pending) > keep:
        pending.popleft().result()


def render_shot(
    picture: Picture,
    depth: DepthMap,
    output: str | Path,
    options: RenderOptions,
    inputs: dict[str, Any],
    *,
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
    on_frame: Callable[[int, int], None] | None = None,
) -> Recipe:
    """Render the shot to ``output`` (video or PNG sequence) and write its recipe beside it.

    ``on_frame(done, total)`` is called after each frame is handed to the encoder (progress
    for callers without a terminal, e.g. the web app).

    ``exports`` are written after the frames: the scene and camera as ``.glb``, ``.chan``,
    ``transforms.json`` (``.json``) or ``.ply`` (:mod:`stillcam.export`).

    Rendering of frame n+1 overlaps the encoding of frame n (the encoder runs in a thread).
    Nothing appears under a final name unless the whole output is complete.
    """
    target = parse_output(output)
    if target.recipe_path.exists() and not overwrite:
        raise OutputError(f"{target.recipe_path}: already exists; pass --overwrite to replace it")
    exports = check_exports(exports, overwrite)
    render_settings = options.render
    if render_settings.renderer == "auto" and options.scene.soft_edge > 0:  # gl draws no soft edges
        render_settings = replace(render_settings, renderer="cpu")
    renderer = get_renderer(render_settings)
    if options.render.renderer == "auto":  # the recipe names the backend used, for exact re-renders
        options = replace(options, render=replace(options.render, renderer=renderer_name(renderer)))
    scene, full_path, safety = plan_shot(picture, depth, options)
    path = frame_range(full_path, options.shot.frames)
    first = path.cameras[0]
    sink = open_sink(
        target,
        first.width,
        first.height,
        path.fps,
        path.first_frame,
        len(path),
        options.output,
        overwrite=overwrite,
    )
    try:
        passes = open_pass_sinks(
            target, options.output.passes, path.first_frame, len(path), overwrite=overwrite
        )
    except BaseException:
        sink.abort()
        raise
    shot_output = _ShotOutput(renderer, scene, options, sink, passes)
    for line in safety.warnings:  # after the sink has checked the output: errors come first
        _LOG.warning(line)
    try:
        with (
            DelayedProgress(len(path), f"rendering {target.path.name}", quiet=quiet) as bar,
            ThreadPoolExecutor(1, thread_name_prefix="stillcam-encode") as pool,
        ):
            pending: deque[Future[None]] = deque()
            for index, camera in enumerate(path.cameras):
                for write, item in shot_output.items(camera):
                    pending.append(pool.submit(write, item))
                _drain(pending, 2 * (1 + len(passes)))
                bar.advance()
                if on_frame is not None:
                    on_frame(index + 1, len(path))
            _drain(pending, 0)
        shot_output.commit()
    except BaseException:
        shot_output.abort()
        raise
    recipe = Recipe(
        stillcam_version=__version__,
        inputs=inputs,
        options=options.to_dict(),
        depth_source=depth.source,
        focal={"mm": picture.focal_mm, "source": picture.focal_source},
        output=_output_record(target, path, options.output),
        safety=safety.to_dict(),
    )
    write_recipe(target.recipe_path, recipe)
    write_exports(exports, scene, full_path, file_pattern=target.frame_pattern)
    return recipe


def _output_record(target: OutputTarget, path: CameraPath, output: OutputSettings) -> dict[str, Any]:
    first = path.cameras[0]
    if target.path.suffix.lower() == ".exr":
        colour = ocio_record(output.output_colorspace)
    else:
        colour = {"space": "sRGB-encoded Rec.709" + (", BT.709-tagged" if target.kind == "video" else "")}
    return {
        "colour": colour,
        "path": target.path.name,
        "kind": target.kind,
        "frames": len(path),
        "first_frame": path.first_frame,
        "width": first.width,
        "height": first.height,
        "fps": f"{path.fps.numerator}/{path.fps.denominator}",
    }


def render(
    photo: str | Path,
    depth: str | Path | None,
    output: str | Path,
    options: RenderOptions | None = None,
    *,
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
    on_frame: Callable[[int, int], None] | None = None,
) -> Recipe:
    """One call: render ``photo`` with its ``depth`` file (None: estimated by the
    ``--depth-model``) to ``output``; returns the recipe.

    ``output`` is ``shot.mp4``/``shot.mov`` (H.264) or ``shot.####.png`` (numbered frames from
    1001); ``shot.recipe.json`` is written beside it.
    """
    options = options or RenderOptions()
    picture, depth_map = load_inputs(photo, depth, options)
    inputs = {
        "photo": {"path": str(Path(photo).resolve()), "sha256": picture.sha256, "colour": picture.colour},
        "depth": depth_map.origin,
        **_path_input(options.shot),
    }
    return render_shot(
        picture,
        depth_map,
        output,
        options,
        inputs,
        overwrite=overwrite,
        quiet=quiet,
        exports=exports,
        on_frame=on_frame,
    )


def export(
    photo: str | Path,
    depth: str | Path | None,
    files: Sequence[str | Path],
    options: RenderOptions | None = None,
    *,
    overwrite: bool = False,
) -> None:
    """Write the scene and the shot's camera to ``files`` (``.glb``, ``.chan``, ``.json``,
    ``.ply``; :mod:`stillcam.export`) without rendering frames."""
    options = options or RenderOptions()
    if not files:
        raise InputError("stillcam export: name at least one file with -o (e.g. -o shot.glb)")
    files = check_exports(files, overwrite)
    picture, depth_map = load_inputs(photo, depth, options)
    scene, path, safety = plan_shot(picture, depth_map, options)
    for line in safety.warnings:
        _LOG.warning(line)
    write_exports(files, scene, path)


def demo_inputs(size: str, options: RenderOptions) -> tuple[Picture, DepthMap, dict[str, Any]]:
    """The bundled procedural example at ``size`` (WxH), with its recipe input record."""
    width, height = parse_size(size, 1920, 1080)
    picture, depth = example_inputs(width, height)
    picture = _with_lens(picture, options.shot)
    example = {"width": width, "height": height, "sha256": picture.sha256}
    return picture, depth, {"example": example, **_path_input(options.shot)}


def _path_input(shot: ShotSettings) -> dict[str, Any]:
    """The recipe's record of the ``--path`` camera file (re-renders check it is unchanged)."""
    if shot.path is None:
        return {}
    file = Path(shot.path)
    if not file.is_file():
        raise InputError(f"--path {shot.path}: no such file; give a shot file or a transforms.json")
    return {"path": {"path": str(file.resolve()), "sha256": sha256_file(file)}}


def demo(
    output: str | Path,
    options: RenderOptions | None = None,
    *,
    example_size: str = "1920x1080",
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
) -> Recipe:
    """Render the bundled example (no files, no network, no model) to ``output``."""
    options = options or RenderOptions()
    picture, depth, inputs = demo_inputs(example_size, options)
    return render_shot(
        picture,
        depth,
        output,
        options,
        inputs,
        overwrite=overwrite,
        quiet=quiet,
        exports=exports,
    )


def _checked_file(record: dict[str, Any], role: str, recipe_dir: Path) -> Path:
    path = Path(record["path"])
    if not path.is_absolute():
        path = recipe_dir / path
    if not path.is_file():
        raise RecipeError(f"recipe's {role} {path} is missing; restore it to re-render")
    if sha256_file(path) != record["sha256"]:
        raise RecipeError(f"recipe's {role} {path} has changed since the render (SHA-256 differs)")
    return path


def rerender(
    recipe_path: str | Path,
    output: str | Path,
    *,
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
) -> Recipe:
    """Render again exactly what ``recipe_path`` describes, to ``output``.

    Raises:
        RecipeError: the recipe is unreadable, or an input is missing or changed.
    """
    recipe_path = Path(recipe_path)
    recipe = read_recipe(recipe_path)
    options = RenderOptions.from_dict(recipe.options)
    if "path" in recipe.inputs:
        camera_file = _checked_file(recipe.inputs["path"], "camera file", recipe_path.parent)
        options = replace(options, shot=replace(options.shot, path=str(camera_file)))
    if "example" in recipe.inputs:
        record = recipe.inputs["example"]
        picture, depth, inputs = demo_inputs(f"{record['width']}x{record['height']}", options)
        if picture.sha256 != record["sha256"]:
            raise RecipeError("the bundled example differs from the recipe's (another stillcam version?)")
    else:
        photo = _checked_file(recipe.inputs["photo"], "photo", recipe_path.parent)
        record = recipe.inputs["depth"]
        if "model" in record:  # the cached estimate: the model is not run again
            from .depth.estimate import estimate_from_cache

            try:
                estimate = estimate_from_cache(record)
            except InputError as exc:
                raise RecipeError(str(exc)) from None
            picture, depth = _estimated(_with_lens(load_image(photo), options.shot), estimate, options)
        else:
            depth_file = _checked_file(record, "depth", recipe_path.parent)
            picture, depth = load_inputs(photo, depth_file, options)
        inputs = recipe.inputs
    return render_shot(
        picture,
        depth,
        output,
        options,
        inputs,
        overwrite=overwrite,
        quiet=quiet,
        exports=exports,
    )
