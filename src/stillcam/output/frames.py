"""From a render to what each sink takes: the render -> output boundary.

A sink says what its ``write`` takes (:data:`~stillcam.output.writers.SinkInput`); these
functions render a camera's view with a :class:`~stillcam.render.frame.Renderer` and make that
item. A :class:`~stillcam.render.frame.DisplayRenderer` (the cpu backend) writes display pixels
directly, with the same bytes as compositing its float frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..camera.camera import Camera
from ..io.files import PartialFile, publish_all
from ..render.frame import DisplayRenderer, Frame, Renderer, fill_holes
from ..scene.mesh import Scene
from .passes import coverage_scene
from .writers import (
    FrameSink,
    OutputSettings,
    SinkInput,
    display_dtype,
    display_scale,
    to_display,
    to_display_rgba,
)


def shaded_frame(renderer: Renderer, scene: Scene, camera: Camera, *, fill: bool) -> Frame:
    """Render one frame; with ``fill``, pixels that no layer covers take the background side's
    colour (:func:`~stillcam.render.frame.fill_holes`)."""
    frame = renderer.render(scene, camera)
    return fill_holes(frame) if fill else frame


def motion_frame(renderer: Renderer, scene: Scene, cameras: Sequence[Camera], *, fill: bool) -> Frame:
    """A motion-blurred frame: the mean of :func:`shaded_frame` from each sub-frame camera
    (:func:`~stillcam.camera.shutter.subframe_cameras`), each filled first with ``fill``.

    ``rgb`` (premultiplied) and ``alpha`` are averaged in float32, sub-frames summed in the
    order given, then divided by their count; ``depth`` is the nearest over the sub-frames
    (per pixel, +inf where none sees anything).
    """
    if not cameras:
        raise ValueError("motion_frame needs at least one sub-frame camera")
    first = shaded_frame(renderer, scene, cameras[0], fill=fill)
    rgb = first.rgb.astype(np.float32, copy=True)
    alpha = first.alpha.astype(np.float32, copy=True)
    depth = first.depth.astype(np.float32, copy=True)
    for camera in cameras[1:]:
        frame = shaded_frame(renderer, scene, camera, fill=fill)
        rgb += frame.rgb
        alpha += frame.alpha
        np.minimum(depth, frame.depth, out=depth)
    count = np.float32(len(cameras))
    return Frame(rgb / count, depth, alpha / count)


def display_frame(
    renderer: Renderer, scene: Scene, camera: Camera, settings: OutputSettings, *, fill: bool
) -> np.ndarray:
    """Render one frame as output pixels: (H, W, 3) uint8 (``settings.bit_depth`` 8) or uint16.

    With ``fill``, pixels that no layer covers take the background side's colour; without,
    they show ``settings.matte``.
    """
    if isinstance(renderer, DisplayRenderer):  # the fused shortcut: the same bytes
        frame_size = getattr(renderer, "frame_size", None)  # a packed stereo frame's (render/stereo.py)
        width, height = frame_size(camera) if frame_size is not None else (camera.width, camera.height)
        out = np.empty((height, width, 3), display_dtype(settings.bit_depth))
        matte = np.asarray(settings.matte, np.float32)
        if renderer.render_display(scene, camera, fill, matte, display_scale(settings.bit_depth), out):
            return out
    frame = shaded_frame(renderer, scene, camera, fill=fill)
    return to_display(frame, settings.matte, settings.bit_depth)


def sink_item(
    renderer: Renderer,
    scene: Scene,
    camera: Camera,
    settings: OutputSettings,
    accepts: SinkInput,
    *,
    fill: bool,
) -> Any:
    """What a sink's ``write`` takes (its ``accepts``), rendered from ``camera``."""
    if accepts == "display":
        return display_frame(renderer, scene, camera, settings, fill=fill)
    return item_from_frame(shaded_frame(renderer, scene, camera, fill=fill), camera, settings, accepts)


def item_from_frame(frame: Frame, camera: Camera, settings: OutputSettings, accepts: SinkInput) -> Any:
    """:func:`sink_item` from an already rendered (and filled) frame ("coverage" needs its own
    render: :class:`ShotOutput`)."""
    if accepts == "frame":
        return frame, camera
    if accepts == "rgba":
        return to_display_rgba(frame, settings.bit_depth)
    if accepts == "depth":
        return frame.depth
    if accepts == "coverage":
        raise ValueError("the coverage pass is rendered from the coverage scene, not from a frame")
    return to_display(frame, settings.matte, settings.bit_depth)


class ShotOutput:
    """The main sink and its passes (:mod:`stillcam.output.passes`): per camera, what each
    file's ``write`` gets; committed or aborted together, with the files staged beside them
    (:meth:`stage_file`: the recipe). Committing checks every final name before it moves any
    file (:func:`~stillcam.io.files.publish_all`).

    Args:
        renderer: draws ``scene``.
        scene: the shot's scene.
        settings: the output options.
        sink: the main output.
        passes: pass name -> its sink.
        coverage_renderer: a second renderer for the coverage pass (one renderer per scene
            keeps the gl backend's texture uploaded); needed with a "coverage" pass.
        fill: whether holes are filled (``SceneSettings.fills``).
        overwrite: whether existing files may be replaced (else each final name is claimed
            atomically when published).
    """

    def __init__(
        self,
        renderer: Renderer,
        scene: Scene,
        settings: OutputSettings,
        sink: FrameSink,
        passes: dict[str, FrameSink],
        *,
        coverage_renderer: Renderer | None = None,
        fill: bool,
        overwrite: bool = False,
    ) -> None:
        if "coverage" in passes and coverage_renderer is None:
            raise ValueError("a coverage pass needs its coverage_renderer")
        self.renderer = renderer
        self.scene = scene
        self.settings = settings
        self.sink = sink
        self.passes = passes
        self.fill = fill
        self.coverage = coverage_scene(scene) if "coverage" in passes else None
        self.coverage_renderer = coverage_renderer
        self.overwrite = overwrite
        self._files: list[PartialFile] = []

    @property
    def sinks(self) -> tuple[FrameSink, ...]:
        return (self.sink, *self.passes.values())

    def items(
        self, camera: Camera, subframes: Sequence[Camera] = ()
    ) -> list[tuple[Callable[[Any], None], Any]]:
        """(a sink's ``write``, its item) for every sink, rendered from ``camera``.

        With ``subframes`` (motion blur, ``--shutter``) the main sink gets their mean
        (:func:`motion_frame`, never the fused display shortcut) and the passes the centre:
        the depth and coverage of ``camera`` itself, the frame's own time.
        """
        if subframes:
            return self._blurred_items(camera, subframes)
        if not self.passes:  # the fast path (a DisplayRenderer's fused display pixels)
            item = sink_item(
                self.renderer, self.scene, camera, self.settings, self.sink.accepts, fill=self.fill
            )
            return [(self.sink.write, item)]
        frame = shaded_frame(self.renderer, self.scene, camera, fill=self.fill)
        items = []
        for sink in self.sinks:
            if sink.accepts == "coverage":
                assert self.coverage is not None and self.coverage_renderer is not None
                items.append((sink.write, self.coverage_renderer.render(self.coverage, camera).rgb[..., 0]))
            else:
                items.append((sink.write, item_from_frame(frame, camera, self.settings, sink.accepts)))
        return items

    def _blurred_items(
        self, camera: Camera, subframes: Sequence[Camera]
    ) -> list[tuple[Callable[[Any], None], Any]]:
        """:meth:`items` with motion blur: the main sink from the sub-frames' mean, the
        passes from ``camera`` (its depth rendered once more, only when a depth pass asks)."""
        blurred = motion_frame(self.renderer, self.scene, subframes, fill=self.fill)
        items = [(self.sink.write, item_from_frame(blurred, camera, self.settings, self.sink.accepts))]
        centre: Frame | None = None
        for sink in self.passes.values():
            if sink.accepts == "coverage":
                assert self.coverage is not None and self.coverage_renderer is not None
                items.append((sink.write, self.coverage_renderer.render(self.coverage, camera).rgb[..., 0]))
                continue
            if centre is None:
                centre = shaded_frame(self.renderer, self.scene, camera, fill=self.fill)
            items.append((sink.write, item_from_frame(centre, camera, self.settings, sink.accepts)))
        return items

    def stage_file(self, final: Path, write: Callable[[Path], None]) -> None:
        """Write a file now, with ``write(path)`` into a partial folder, to be published under
        ``final`` with the frames (or removed with them on :meth:`abort`)."""
        staged = PartialFile(final)
        try:
            write(staged.path)
        except BaseException:
            staged.abort()
            raise
        self._files.append(staged)

    @property
    def parts(self) -> list[Any]:
        """The sinks and the staged files: what :meth:`commit` finishes and publishes."""
        return [*self.sinks, *self._files]

    def commit(self) -> None:
        """Finish every sink, then publish all their files and the staged ones, or none."""
        parts = self.parts
        files = [pair for part in parts for pair in part.finish()]
        publish_all(files, overwrite=self.overwrite)
        for part in parts:
            part.published()

    def abort(self) -> None:
        for part in [*self.sinks, *self._files]:
            part.abort()
