"""The whole flow, photo + depth -> shot: orchestration only, no stage logic.

``check outputs -> plan the camera -> load inputs -> plan cameras (+ safety) -> plan the scene
-> render -> write (sinks, recipe, exports)``

Options are checked when they are made (:mod:`stillcam.options`) and the outputs before any
file is decoded (:func:`destination`); each stage plans its own part (``camera.plan``,
``scene.plan``, ``output.frames``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._progress import DelayedProgress
from ._version import __version__
from .bounds import MAX_SAMPLES, check_frame_size
from .camera.camera import Camera
from .camera.focus import check_rack_span
from .camera.framing import InsideFraming
from .camera.path import CameraPath
from .camera.plan import (
    camera_file_record,
    camera_paths,
    check_frame_span,
    frame_range,
    metres_warning,
    parse_size_text,
    plan_timing,
    shot_plan,
    with_lens,
)
from .camera.shot import Shot
from .camera.shutter import subframe_cameras
from .camera.stereo import EYES, StereoRig, eye_camera, packed_size
from .camera.upscale import shot_upscale
from .depth.convert import DepthMap, depth_map_of_file
from .depth.estimate import (
    depth_map_of,
    estimate_depth,
    estimate_from_cache,
    prepare_model,
    with_model_lens,
)
from .errors import InputError, RecipeError
from .example.procedural import example_inputs
from .export import check_exports, export_outputs, write_exports
from .io.depthfile import read_depth_file
from .io.files import check_destination, remove_stale_partials
from .io.hashing import sha256_file
from .io.image import Picture, check_image_file, load_image
from .options import RenderOptions
from .output.burnin import BurnedSink, BurnIn, move_label, plan_burn_in
from .output.frames import ShotOutput
from .output.passes import open_pass_sinks, pass_target, stmap_paths, write_stmap
from .output.provenance import (
    ContentCredential,
    SignedSink,
    Signing,
    check_recipe_models,
    check_signable,
    model_records,
)
from .output.recipe import Recipe, output_record, read_recipe, write_recipe
from .output.sinks import SinkOpener, check_output, check_target, open_sink
from .output.stereo import (
    PackedBurnIn,
    StereoOutput,
    check_stereo_output,
    eye_path,
    eye_targets,
    stereo_record,
    stmap_targets,
)
from .output.targets import OutputTarget, check_distinct, check_recipe_path, parse_output
from .render.distortion import st_map, with_distortion
from .render.dof import LensRenderer, focus_pulled, with_depth_of_field
from .render.frame import Renderer
from .render.lens import parse_distortion, parse_rack
from .render.registry import get_renderer, renderer_name
from .render.stereo import check_packed_size, stereo_rig, with_stereo
from .render.vignette import with_vignette
from .safety import Safety, guard, proxy_for
from .scene.fills import fill_model_records, pinned_fill_models, prepare_fill_models
from .scene.mesh import Scene
from .scene.plan import scene_for

_LOG = logging.getLogger("stillcam")


@dataclass(frozen=True)
class Destination:
    """Where a render goes, checked before any work: the main output, its exports, and
    whether existing files may be replaced."""

    target: OutputTarget
    exports: tuple[Path, ...]
    overwrite: bool


def _input_files(
    options: RenderOptions, inputs: Mapping[str, str | Path | None] | None
) -> list[tuple[str, Path]]:
    """(role, file) of every file a command reads: ``inputs`` and the ``--path`` file."""
    files = {**(inputs or {}), "--path file": options.shot.camera_file}
    return [(role, Path(file)) for role, file in files.items() if file is not None]


def destination(
    output: str | Path,
    options: RenderOptions,
    *,
    overwrite: bool,
    exports: Sequence[str | Path] = (),
    inputs: Mapping[str, str | Path | None] | None = None,
) -> Destination:
    """Check the output path, its passes', its recipe's and the exports', before any file is
    read (the output options that depend on the shot's fps are checked by :func:`camera_plan`),
    then remove what killed renders left of these outputs (partials whose process is gone,
    each with a warning).

    ``inputs`` names the files the command reads besides the ``--path`` file (role -> path,
    e.g. ``{"photo": ..., "--depth file": ...}``): no output may be one of them, nor another
    of the outputs (:func:`~stillcam.output.targets.check_distinct`).

    Raises:
        InputError: an unknown extension; outputs that overlap the inputs or each other.
        OutputError: a destination that exists (without ``overwrite``), that another live
            render is writing (without ``overwrite``), that holds another output's recipe, or
            that cannot be written.
    """
    target = parse_output(output)
    stereo = options.render.stereo
    check_stereo_output(target, stereo)
    # --stereo separate: one output per eye (output/stereo.py), each with its own passes
    mains = [(f"{eye}-eye output", eye_output) for eye, eye_output in eye_targets(target, stereo)]
    mains = mains or [("output", target)]
    names = dict.fromkeys(options.output.passes)
    passes = [(f"--pass {name} sequence", pass_target(main, name)) for _, main in mains for name in names]
    stmaps = (
        [("ST-map", path) for _, named in stmap_targets(target, stereo) for path in stmap_paths(named)]
        if options.render.lens_distortion
        else []
    )
    exported = export_outputs(exports, stereo=stereo is not None)
    outputs = [*mains, *passes, ("recipe", target.recipe_path), *stmaps, *exported]
    check_distinct(outputs, _input_files(options, inputs))
    check_recipe_path(target, overwrite)
    for _, stmap in stmaps:
        check_destination(stmap, overwrite, "ST-map")
    for _, main in mains:
        check_target(main, overwrite)
    for _, pass_sequence in passes:
        check_target(pass_sequence, overwrite, "pass")
    checked = tuple(check_exports(exports, overwrite, stereo=stereo is not None))
    for _, item in outputs:
        remove_stale_partials(item.path if isinstance(item, OutputTarget) else item)
    return Destination(target, checked, overwrite)


def camera_plan(options: RenderOptions, dest: Destination | None = None) -> Shot | CameraPath:
    """What the camera does (:func:`~stillcam.camera.plan.shot_plan`: reads the camera file,
    not the photo), with every check that needs the shot but not the photo: the ``--frames``
    span, and the output options for the shot's frame rate (codec for the extension, bit
    depth, timecode, colour space).
    """
    plan = shot_plan(options.shot)
    timing = plan_timing(plan, options.shot)
    check_frame_span(options.shot.frame_span, timing)
    if options.render.rack is not None:  # --rack: inside the shot, before any file is decoded
        span = parse_rack(options.render.rack, options.render.focus)
        check_rack_span(span, timing.first_frame, timing.first_frame + timing.frames - 1)
    if dest is not None:
        check_output(dest.target, options.output, timing.fps)
    return plan


def load_inputs(
    photo: str | Path, depth: str | Path | None, options: RenderOptions
) -> tuple[Picture, DepthMap]:
    """Load the photo and its depth: a depth file (interpreted and resampled to the photo), or,
    without one, the ``--depth-model``'s estimate (:mod:`stillcam.depth.estimate`)."""
    settings = options.depth
    check_image_file(photo)  # a missing photo is said before any model is looked for
    prepare_fill_models(options.scene, allow_noncommercial=settings.allow_noncommercial)  # before decoding
    if depth is None:
        model = {"model_dir": settings.model_dir, "allow_noncommercial": settings.allow_noncommercial}
        prepare_model(settings.depth_model, upsample=settings.upsample, **model)  # before decoding
        picture = with_lens(load_image(photo), options.shot)
        estimate = estimate_depth(picture, settings.depth_model, upsample=settings.upsample, **model)
        return with_model_lens(picture, estimate), depth_map_of(estimate, settings)
    picture = with_lens(load_image(photo), options.shot)
    return picture, depth_map_of_file(read_depth_file(depth), depth, picture, settings)


def plan_cameras(
    picture: Picture, depth: DepthMap, options: RenderOptions, plan: Shot | CameraPath | None = None
) -> tuple[Camera, CameraPath, Safety]:
    """The photo's camera, the shot's per-frame cameras (checked and, with ``--safe``,
    clamped by the motion-safety guard) and the guard's findings: what :func:`plan_shot` and
    the web app's preview both use, so a preview frame N is the render's frame N.

    ``plan`` is :func:`~stillcam.camera.plan.shot_plan`'s result when the caller has it
    already (it reads the camera file); default: made here. With ``--framing inside`` every
    path the guard samples is zoomed to stay inside the photo (``camera.framing``), so the
    guard checks the zoomed cameras, and ``--safe`` also clamps a move that no zoom up to
    ``MAX_ZOOM`` keeps inside. The shot's upscale factor (``camera.upscale``: output pixels
    per photo pixel at its most magnified frame) goes into the findings, with a warning above 1.
    """
    shot = options.shot
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    supersample = options.render.supersample
    if shot.size_px is None and supersample > 1:  # --size source: its samples are known only now
        width, height = shot.output_size(source.width, source.height)  # (its sides checked there)
        if width * height * supersample**2 > MAX_SAMPLES:
            check_frame_size(width, height, f"--size source ({width}x{height})", supersample=supersample)
    plan = shot_plan(shot) if plan is None else plan
    paths = camera_paths(source, depth.z, shot, plan)
    framed = InsideFraming(source, depth.z, paths) if shot.framing == "inside" else None
    path, safety = guard(
        framed or paths,
        proxy_for(picture, depth),
        max_reveal=shot.max_reveal,
        clamp=shot.safe,
        condition=framed.inside if framed else None,
    )
    path = focus_pulled(path, options.render, source, depth.z, shot)  # --focus A..B: per-frame focus
    framing = framed.framing(safety.amount) if framed else None
    upscale = shot_upscale(source, depth.z, path.cameras, path.first_frame)  # before any rendering
    warnings = safety.warnings + (framing.warnings if framing else ()) + metres_warning(plan, depth)
    warnings += upscale.warnings
    return (
        source,
        path,
        replace(
            safety, warnings=warnings, framing=framing, upscale=upscale.factor, upscale_frame=upscale.frame
        ),
    )


def plan_shot(
    picture: Picture, depth: DepthMap, options: RenderOptions, plan: Shot | CameraPath | None = None
) -> tuple[Scene, CameraPath, Safety]:
    """Build the per-frame cameras, check them with the motion-safety guard (clamped with
    ``--safe``), then build the scene they need (with ``--stereo``, as wide as the eyes see
    too). Cheap checks first, the mesh last."""
    source, path, safety = plan_cameras(picture, depth, options, plan)
    rig = stereo_rig(options.render, source, depth.z, options.shot)
    cameras = path.cameras
    if rig is not None:  # the eyes see past the centre camera (and behind other edges)
        cameras = (*cameras, *(eye_camera(camera, rig, eye) for eye in EYES for camera in path.cameras))
    return scene_for(picture, depth, source, cameras, options.scene), path, safety


def _drain(pending: deque[Future[None]], keep: int) -> None:
    while len(pending) > keep:
        pending.popleft().result()


def _write_frames(
    shot_output: ShotOutput | StereoOutput,
    camera_path: CameraPath,
    name: str,
    quiet: bool,
    on_frame: Callable[[int, int], None] | None,
    subframes: Callable[[int], tuple[Camera, ...]] | None = None,
) -> None:
    """Render every camera of ``camera_path`` into ``shot_output``; rendering frame n+1 overlaps the
    encoding of frame n (the encoder runs in a thread, at most two frames behind).
    ``subframes(frame number)`` gives a frame's motion-blur cameras (``--shutter``)."""
    try:
        with (
            DelayedProgress(len(camera_path), f"rendering {name}", quiet=quiet) as bar,
            ThreadPoolExecutor(1, thread_name_prefix="stillcam-encode") as pool,
        ):
            pending: deque[Future[None]] = deque()
            for index, camera in enumerate(camera_path.cameras):
                blur = subframes(camera_path.first_frame + index) if subframes is not None else ()
                for write, item in shot_output.items(camera, blur):
                    pending.append(pool.submit(write, item))
                _drain(pending, 2 * len(shot_output.sinks))
                bar.advance()
                if on_frame is not None:
                    on_frame(index + 1, len(camera_path))
            _drain(pending, 0)
        shot_output.commit()
    except BaseException:
        shot_output.abort()
        raise


def _open_output(
    dest: Destination,
    camera_path: CameraPath,
    scene: Scene,
    options: RenderOptions,
    renderer: Renderer,
    signed: tuple[ContentCredential, Recipe] | None = None,
    sink_opener: SinkOpener = open_sink,
    burn: BurnIn | None = None,
    rig: StereoRig | None = None,
) -> ShotOutput:
    """The main sink and the passes, destinations checked; all aborted if one cannot open.
    With ``signed`` (``--sign``), the main sink's files are signed when it finishes, before
    they are published (:class:`~stillcam.output.provenance.SignedSink`). ``sink_opener``
    opens the main sink (:func:`~stillcam.output.sinks.open_sink`'s arguments). With ``burn``
    (``--burn-in``, ``--guides``) its display pixels get the burn-ins first
    (:class:`~stillcam.output.burnin.BurnedSink`). With ``rig`` and ``--stereo sbs|tb`` the
    frames are the packed eyes (twice as wide or tall), burned in each eye's half."""
    first, target = camera_path.cameras[0], dest.target
    width, height = packed_size(first.width, first.height, options.render.stereo)
    sink = sink_opener(
        target,
        width,
        height,
        camera_path.fps,
        camera_path.first_frame,
        len(camera_path),
        options.output,
        overwrite=dest.overwrite,
    )
    if burn is not None:  # --burn-in, --guides: into the display pixels, frame by frame
        layout = options.render.stereo
        packed = rig is not None and layout in ("sbs", "tb")  # each eye's half burned alike
        sink = BurnedSink(sink, PackedBurnIn(burn, rig, layout) if packed else burn, camera_path)
    if signed is not None:
        sink = SignedSink(sink, *signed, overwrite=dest.overwrite)
    try:
        passes = open_pass_sinks(
            target, options.output.passes, camera_path.first_frame, len(camera_path), overwrite=dest.overwrite
        )
        # Its own renderer: one renderer per scene keeps the gl backend's texture uploaded.
        coverage = get_renderer(options.render) if "coverage" in passes else None
        if coverage is not None:  # --distortion: the matte distorted like the frames
            coverage = with_distortion(coverage, options.render, fill=False)
            coverage = with_stereo(coverage, options.render, rig)  # --stereo sbs|tb: packed too
        return ShotOutput(
            renderer,
            scene,
            options.output,
            sink,
            passes,
            coverage_renderer=coverage,
            fill=options.scene.fills,
            overwrite=dest.overwrite,
        )
    except BaseException:
        sink.abort()
        raise


def _open_outputs(
    dest: Destination,
    camera_path: CameraPath,
    scene: Scene,
    options: RenderOptions,
    renderer: Renderer,
    signed: tuple[ContentCredential, Recipe] | None,
    sink_opener: SinkOpener,
    burn: BurnIn | None,
    rig: StereoRig | None,
) -> ShotOutput | StereoOutput:
    """:func:`_open_output`, or with ``--stereo separate`` one per eye (its output, its
    cameras), driven and committed together (:class:`~stillcam.output.stereo.StereoOutput`)."""
    eyes = eye_targets(dest.target, options.render.stereo)
    if not eyes or rig is None:
        return _open_output(dest, camera_path, scene, options, renderer, signed, sink_opener, burn, rig)
    outputs: list[ShotOutput] = []
    try:
        for eye, target in eyes:
            eye_dest, eye_cameras = replace(dest, target=target), eye_path(camera_path, rig, eye)
            outputs.append(
                _open_output(eye_dest, eye_cameras, scene, options, renderer, signed, sink_opener, burn, rig)
            )
    except BaseException:
        for output in outputs:
            output.abort()
        raise
    return StereoOutput(outputs, rig)


def _subframes(full_path: CameraPath, options: RenderOptions) -> Callable[[int], tuple[Camera, ...]] | None:
    """Frame number -> its sub-frame cameras with motion blur (from the whole shot, so that
    ``--frames`` renders the same frames), None without."""
    settings = options.render
    if not settings.motion_blur:
        return None
    assert settings.shutter is not None
    shutter, samples = settings.shutter, settings.shutter_samples
    return lambda frame: subframe_cameras(full_path, frame, shutter, samples)


def render_shot(
    picture: Picture,
    depth: DepthMap,
    dest: Destination,
    options: RenderOptions,
    inputs: dict[str, Any],
    *,
    plan: Shot | CameraPath | None = None,
    quiet: bool = True,
    on_frame: Callable[[int, int], None] | None = None,
    renderer: Renderer | None = None,
    credential: ContentCredential | None = None,
    models: list[dict[str, Any]] | None = None,
    sink_opener: SinkOpener = open_sink,
) -> Recipe:
    """Render the shot to ``dest`` (video or frame sequence), its recipe beside it, then the
    exports (the scene and camera as ``.glb``, ``.usda``, ``.chan``, ``.json``, ``.ply``).

    The recipe's ``models`` are ``models`` (a re-render's recipe), else made from ``inputs``
    (:func:`~stillcam.output.provenance.model_records`). With ``credential`` (``--sign``) the
    output carries a signed C2PA manifest (:mod:`stillcam.output.provenance`).

    ``on_frame(done, total)`` is called after each frame is handed to the encoder (progress
    for callers without a terminal, e.g. the web app). Nothing appears under a final name
    unless the whole output is complete: the recipe is written before the first frame (a
    recipe that cannot be written stops the render before any work) and published with the
    frames and passes, all or none (:meth:`~stillcam.output.frames.ShotOutput.commit`).
    """
    if renderer is None:
        render_settings = options.render
        if render_settings.renderer == "auto" and options.scene.soft_edge > 0:  # gl: no soft edges
            render_settings = replace(render_settings, renderer="cpu")
        renderer = get_renderer(render_settings)
    if options.render.renderer == "auto":  # the recipe names the backend used, for exact re-renders
        options = replace(options, render=replace(options.render, renderer=renderer_name(renderer)))
    if options.render.stereo is not None and options.shot.size_px is None:  # --size source: known now
        eye_w, eye_h = options.shot.output_size(picture.width, picture.height)
        check_packed_size(eye_w, eye_h, options.render, f"--size source ({eye_w}x{eye_h})")
    scene, full_path, safety = plan_shot(picture, depth, options, plan)
    path = frame_range(full_path, options.shot.frame_span)
    output = output_record(dest.target, path, options.output)
    # --stereo: the rig's eyes (camera/stereo.py), converged like --focus (render/stereo.py)
    photo_camera = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    rig = stereo_rig(options.render, photo_camera, depth.z, options.shot)
    if rig is not None:
        assert options.render.stereo is not None
        first = path.cameras[0]
        output["width"], output["height"] = packed_size(first.width, first.height, options.render.stereo)
        output["stereo"] = stereo_record(dest.target, options.render.stereo, rig, (first.width, first.height))
    if credential is not None:
        output["content_credentials"] = credential.signing.record()
    recipe = Recipe(
        stillcam_version=__version__,
        inputs=inputs,
        options=options.to_dict(),
        depth_source=depth.source,
        focal={"mm": picture.focal_mm, "source": picture.focal_source},
        output=output,
        safety=safety.to_dict(),
        models=model_records(inputs, model_dir=options.depth.model_dir) if models is None else models,
    )
    signed = (credential, recipe) if credential is not None else None
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    renderer = with_depth_of_field(  # --fstop: a thin lens's blur on each frame (render/dof.py)
        renderer,
        options.render,
        source,
        depth.z,
        options.shot,
        fill=options.scene.fills,
        cameras=full_path.cameras,
    )
    lens = (renderer.fstop, renderer.focus_m) if isinstance(renderer, LensRenderer) else None
    # --distortion: each frame rendered with overscan and distorted (render/distortion.py)
    renderer = with_distortion(renderer, options.render, fill=options.scene.fills)
    renderer = with_vignette(renderer, options.render, fill=options.scene.fills)  # --vignette
    # --stereo sbs|tb: both eyes packed, each through the lens above (render/stereo.py)
    renderer = with_stereo(renderer, options.render, rig)
    burn = plan_burn_in(
        dest.target,
        text=options.output.burn_in,
        guides=options.output.guides,
        timecode=options.output.timecode,
        fps=full_path.fps,
        first_frame=full_path.first_frame,  # a --frames part: the timecodes of the whole shot
        move=move_label(options.shot),
        fstop=getattr(options.render, "fstop", None),  # with depth of field (--fstop)
    )
    shot_output = _open_outputs(dest, path, scene, options, renderer, signed, sink_opener, burn, rig)
    try:  # published with the frames (ShotOutput.commit)
        shot_output.stage_file(dest.target.recipe_path, lambda file: write_recipe(file, recipe))
        coeffs = parse_distortion(options.render.distortion)
        if coeffs is not None:  # the first frame's camera (a zoom changes the map: docs/delivery.md)
            for eye, named in stmap_targets(dest.target, options.render.stereo):  # with --stereo: per eye
                first = full_path.cameras[0]
                first = first if eye is None or rig is None else eye_camera(first, rig, eye)
                for inverse, stmap in zip((False, True), stmap_paths(named), strict=True):
                    values = st_map(first, coeffs, inverse=inverse)
                    shot_output.stage_file(stmap, lambda file, values=values: write_stmap(file, values))
    except BaseException:
        shot_output.abort()
        raise
    for line in safety.warnings:  # after the sinks have checked the output: errors come first
        _LOG.warning(line)
    _write_frames(shot_output, path, dest.target.path.name, quiet, on_frame, _subframes(full_path, options))
    write_exports(
        dest.exports, scene, full_path, file_pattern=dest.target.frame_pattern, lens=lens, stereo=rig
    )
    return recipe


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
    renderer: Renderer | None = None,
    sign: Signing | None = None,
    sink_opener: SinkOpener = open_sink,
) -> Recipe:
    """One call: render ``photo`` with its ``depth`` file (None: estimated by the
    ``--depth-model``) to ``output``; returns the recipe. ``renderer``: draw the frames with
    this one instead of the backend ``options.render.renderer`` names (:func:`render_with`).
    ``sink_opener``: opens the output's sink instead of :func:`~stillcam.output.sinks.open_sink`
    (same arguments; :mod:`stillcam.batch.chunks` stores a chunk's frames raw).
    ``sign``: embed C2PA content credentials signed with this identity
    (:func:`~stillcam.output.provenance.load_signing`; MP4, MOV and PNG outputs).

    ``output`` is ``shot.mp4``/``shot.mov``/``shot.mkv``, ``shot.####.png`` or
    ``shot.####.exr`` (numbered frames from 1001); its recipe is written beside it
    (``shot.recipe.json`` for ``shot.mp4``, ``shot.png.recipe.json`` for ``shot.####.png``:
    :attr:`~stillcam.output.targets.OutputTarget.recipe_path`). Every option and output is
    checked before the photo is read; no output may be the photo, the depth file or the
    ``--path`` file.
    """
    options = options or RenderOptions()
    inputs = {"photo": photo, "--depth file": depth}
    dest = destination(output, options, overwrite=overwrite, exports=exports, inputs=inputs)
    if sign is not None:
        check_signable(dest.target)
    plan = camera_plan(options, dest)
    camera_file = camera_file_record(options.shot)
    picture, depth_map = load_inputs(photo, depth, options)
    inputs = {
        "photo": {"path": str(Path(photo).resolve()), "sha256": picture.sha256, "colour": picture.colour},
        "depth": depth_map.origin,
        **camera_file,
        **fill_model_records(options.scene),
    }
    return render_shot(
        picture,
        depth_map,
        dest,
        options,
        inputs,
        plan=plan,
        quiet=quiet,
        on_frame=on_frame,
        renderer=renderer,
        credential=ContentCredential(sign, Path(photo).resolve()) if sign is not None else None,
        sink_opener=sink_opener,
    )


def export(
    photo: str | Path,
    depth: str | Path | None,
    files: Sequence[str | Path],
    options: RenderOptions | None = None,
    *,
    overwrite: bool = False,
) -> None:
    """Write the scene and the shot's camera to ``files`` (``.glb``, ``.usda``, ``.chan``,
    ``.json``, ``.ply``; :mod:`stillcam.export`) without rendering frames; none of them may
    be the photo, the depth file or the ``--path`` file. Partials of these files that killed
    runs left are removed first (with a warning)."""
    options = options or RenderOptions()
    if not files:
        raise InputError("stillcam export: name at least one file with -o (e.g. -o shot.glb)")
    inputs = _input_files(options, {"photo": photo, "--depth file": depth})
    stereo = options.render.stereo is not None  # --stereo: the eye cameras too
    paths = check_exports(files, overwrite, inputs=inputs, stereo=stereo)
    for _, file in export_outputs(paths, stereo=stereo):
        remove_stale_partials(file)
    plan = camera_plan(options)
    picture, depth_map = load_inputs(photo, depth, options)
    scene, path, safety = plan_shot(picture, depth_map, options, plan)
    for line in safety.warnings:
        _LOG.warning(line)
    photo_camera = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    rig = stereo_rig(options.render, photo_camera, depth_map.z, options.shot)
    write_exports(paths, scene, path, stereo=rig)


def demo_inputs(size: str, options: RenderOptions) -> tuple[Picture, DepthMap, dict[str, Any]]:
    """The bundled procedural example at ``size`` (WxH), with its recipe input record."""
    try:
        parsed = parse_size_text(size)
    except InputError:
        parsed = None
    if parsed is None:
        raise InputError(f"--example-size {size!r}: give WxH, e.g. 1920x1080 (2..32768 px)")
    width, height = parsed
    prepare_fill_models(options.scene, allow_noncommercial=options.depth.allow_noncommercial)
    picture, depth = example_inputs(width, height)
    picture = with_lens(picture, options.shot)
    example = {"width": width, "height": height, "sha256": picture.sha256}
    inputs = {"example": example, **camera_file_record(options.shot), **fill_model_records(options.scene)}
    return picture, depth, inputs


def demo(
    output: str | Path,
    options: RenderOptions | None = None,
    *,
    example_size: str = "1920x1080",
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
    sign: Signing | None = None,
) -> Recipe:
    """Render the bundled example (no files, no network, no model) to ``output``; ``sign``:
    as for :func:`render` (the manifest says the example was made by an algorithm)."""
    options = options or RenderOptions()
    dest = destination(output, options, overwrite=overwrite, exports=exports)
    if sign is not None:
        check_signable(dest.target)
    plan = camera_plan(options, dest)
    picture, depth, inputs = demo_inputs(example_size, options)
    credential = ContentCredential(sign, None) if sign is not None else None
    return render_shot(picture, depth, dest, options, inputs, plan=plan, quiet=quiet, credential=credential)


def _checked_file(record: dict[str, Any], role: str, recipe_dir: Path) -> Path:
    """The file a recipe's record names (relative to the recipe's folder), checked unchanged
    (the record's fields are typed by :func:`~stillcam.output.recipe.read_recipe`)."""
    path = Path(record["path"])
    if not path.is_absolute():
        path = recipe_dir / path
    if not path.exists():
        raise RecipeError(f"recipe's {role} {path} is missing; restore it to re-render")
    if not path.is_file():
        raise RecipeError(f"recipe's {role} {path} is not a regular file; restore the file to re-render")
    try:
        digest = sha256_file(path)
    except OSError as exc:
        raise RecipeError(f"recipe's {role} {path} cannot be read ({exc.strerror or exc})") from None
    if digest != record["sha256"]:
        raise RecipeError(f"recipe's {role} {path} has changed since the render (SHA-256 differs)")
    return path


def _recipe_inputs(recipe: Recipe, recipe_dir: Path, options: RenderOptions) -> tuple[Picture, DepthMap]:
    """The photo and depth a recipe names, checked unchanged; a model's estimate comes from
    its cache (the model is not run again)."""
    if "example" in recipe.inputs:
        record = recipe.inputs["example"]
        picture, depth, _ = demo_inputs(f"{record['width']}x{record['height']}", options)
        if picture.sha256 != record["sha256"]:
            raise RecipeError("the bundled example differs from the recipe's (another stillcam version?)")
        return picture, depth
    photo = _checked_file(recipe.inputs["photo"], "photo", recipe_dir)
    record = recipe.inputs["depth"]
    if "model" not in record:
        return load_inputs(photo, _checked_file(record, "depth", recipe_dir), options)
    try:
        estimate = estimate_from_cache(record)
    except InputError as exc:
        raise RecipeError(str(exc)) from None
    picture = with_model_lens(with_lens(load_image(photo), options.shot), estimate)
    return picture, depth_map_of(estimate, options.depth)


def _recipe_options(recipe: Recipe, recipe_path: Path) -> RenderOptions:
    """The recipe's options, each value first typed against its option's field (``"abc"``
    for a duration, a list for a move), so a damaged recipe fails on one line naming it.

    Raises:
        RecipeError: ``options.shot.duration: must be a number``, an unknown section, or a
            value the options refuse.
    """
    import typing

    from pydantic import TypeAdapter, ValidationError

    from .io.structured import schema_message

    sections = typing.get_type_hints(RenderOptions)
    typed: dict[str, dict[str, Any]] = {}
    for name, values in recipe.options.items():
        if name not in sections:
            raise RecipeError(f"{recipe_path}: options.{name}: not an option section ({', '.join(sections)})")
        hints = typing.get_type_hints(sections[name])
        typed[name] = dict(values)
        for key, value in values.items():
            if key not in hints:  # renamed or unknown: RenderOptions.from_dict says which
                continue
            try:
                typed[name][key] = TypeAdapter(hints[key]).validate_python(value)
            except ValidationError as exc:
                raise RecipeError(f"{recipe_path}: {schema_message(exc, f'options.{name}.{key}')}") from None
    try:
        return RenderOptions.from_dict(typed)
    except InputError as exc:
        raise RecipeError(f"{recipe_path}: recipe options: {exc}") from None


def rerender(
    recipe_path: str | Path,
    output: str | Path,
    *,
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
    sign: Signing | None = None,
    commercial_only: bool = False,
) -> Recipe:
    """Render again exactly what ``recipe_path`` describes, to ``output``. ``sign``: as for
    :func:`render` (the frames are the same; the manifest is new). ``commercial_only``: refuse
    a recipe whose output a non-commercial model touched, before any input is read.

    Raises:
        RecipeError: the recipe is unreadable or damaged (one line naming the field), or an
            input is missing or changed.
        InputError: ``commercial_only`` and a non-commercial model in the recipe.
    """
    recipe_path = Path(recipe_path)
    recipe = read_recipe(recipe_path)
    options = _recipe_options(recipe, recipe_path)
    models = recipe.models or model_records(recipe.inputs, model_dir=options.depth.model_dir)
    if commercial_only:
        check_recipe_models(models, str(recipe_path))
    inputs = dict(recipe.inputs)
    if "path" in inputs and "camera_file" not in inputs:  # recipes before the field's rename
        inputs["camera_file"] = inputs.pop("path")
    if "camera_file" in inputs:
        camera_file = _checked_file(inputs["camera_file"], "camera file", recipe_path.parent)
        options = replace(options, shot=replace(options.shot, camera_file=str(camera_file)))
    read = {"recipe": recipe_path}
    for role, key in (("photo", "photo"), ("depth file", "depth")):
        record = inputs.get(key)
        if isinstance(record, dict) and "path" in record:
            path = Path(record["path"])
            read[role] = path if path.is_absolute() else recipe_path.parent / path
    dest = destination(output, options, overwrite=overwrite, exports=exports, inputs=read)
    if sign is not None:
        check_signable(dest.target)
    plan = camera_plan(options, dest)
    credential = ContentCredential(sign, read.get("photo")) if sign is not None else None
    with pinned_fill_models(inputs.get("fill_models")):  # the recipe's fill models: from the cache
        picture, depth = _recipe_inputs(recipe, recipe_path.parent, options)
        return render_shot(
            picture,
            depth,
            dest,
            options,
            inputs,
            plan=plan,
            quiet=quiet,
            credential=credential,
            models=models,
        )


def render_with(
    renderer: Renderer,
    photo: str | Path,
    depth: str | Path | None,
    output: str | Path,
    options: RenderOptions,
    *,
    overwrite: bool = False,
    quiet: bool = True,
    exports: Sequence[str | Path] = (),
    on_frame: Callable[[int, int], None] | None = None,
    sign: Signing | None = None,
) -> Recipe:
    """:func:`render`, with the frames drawn by ``renderer`` instead of the backend that
    ``options.render.renderer`` names; everything else is the same (outputs checked first,
    inputs and their record, cameras, scene, sinks, recipe, exports, all-or-nothing commit).

    ``options.render.renderer`` must name the backend ``renderer`` stands for, not ``auto``:
    the recipe records it. For frames rendered elsewhere: :mod:`stillcam.batch.chunks` replays
    a chunked shot's frames, rendered by many workers, through the encoder and recipe of one
    render.
    """
    if options.render.renderer == "auto":
        raise ValueError("render_with: options.render.renderer must name a backend, not auto")
    return render(
        photo,
        depth,
        output,
        options,
        overwrite=overwrite,
        quiet=quiet,
        exports=exports,
        on_frame=on_frame,
        renderer=renderer,
        sign=sign,
    )
