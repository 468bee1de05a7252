"""Extra passes for comp artists, written as frame sequences beside the main output (``--pass``):

* ``depth``: ``<stem>.depth.####.exr``, one float32 ``Z`` channel, camera depth in metres (z
  along the optical axis; +inf where nothing is seen), ZIP-compressed;
* ``coverage``: ``<stem>.coverage.####.png``, 8-bit grey: 255 where the frame shows the photo's
  own pixels, 0 where it shows what the photo never saw (outpainted ring, background layer,
  filled holes), fractions at soft boundaries. It is the matte for fixing revealed areas.

``<stem>`` is the output's name without its extension and frame pattern (``shot.mp4``,
``shot.####.png`` -> ``shot``); frames are numbered like the output's (4 digits for videos).
The coverage pass is rendered by the same backend from the scene with its texture replaced by
the photo's footprint in the atlas (:func:`coverage_scene`), so it costs one more render per
frame.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import InputError, OutputError
from ..scene.mesh import Scene
from ..scene.texture import TEXTURE_MAX
from .exr import write_exr
from .targets import OutputTarget
from .writers import PASSES, OutputSettings, SequenceSink, SinkInput


def pass_target(target: OutputTarget, name: str) -> OutputTarget:
    """The sequence a pass of ``target`` is written to (module docstring)."""
    stem = target.stem
    padding = target.padding or 4
    suffix = ".exr" if name == "depth" else ".png"
    return OutputTarget("sequence", target.path.with_name(f"{stem}.{name}.{'#' * padding}{suffix}"), padding)


def coverage_scene(scene: Scene) -> Scene:
    """``scene`` with a texture that is 1 on the photo's own texels and 0 elsewhere (ring,
    background layer): rendered, its red channel is the coverage pass. The texture is a
    read-only broadcast view of one (H, W, 1) plane."""
    h, w = scene.camera.height, scene.camera.width
    top = left = scene.ring_px
    mask = np.zeros((*scene.texture.shape[:2], 1), np.uint16)
    mask[top : top + h, left : left + w] = TEXTURE_MAX
    return replace(scene, texture=np.broadcast_to(mask, scene.texture.shape))


class DepthPassSink(SequenceSink):
    """The depth pass: takes the float depth (H, W) of each frame."""

    accepts: SinkInput = "depth"

    def _save(self, path: Path, item: Any) -> None:
        import OpenEXR

        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
        write_exr(path, header, {"Z": np.ascontiguousarray(item, np.float32)})


class CoveragePassSink(SequenceSink):
    """The coverage pass: takes the coverage (H, W) in [0, 1] of each frame."""

    accepts: SinkInput = "coverage"

    def _save(self, path: Path, item: Any) -> None:
        grey = np.rint(np.clip(item, 0.0, 1.0) * 255.0).astype(np.uint8)
        if not cv2.imwrite(str(path), grey, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
            raise OutputError(f"{path}: PNG could not be written (disk full?)")


def open_pass_sinks(
    target: OutputTarget, names: tuple[str, ...], first_frame: int, count: int, *, overwrite: bool
) -> dict[str, SequenceSink]:
    """One sink per requested pass, destinations checked (before any rendering)."""
    unknown = sorted(set(names) - set(PASSES))
    if unknown:  # (OutputSettings refuses them too; callers may pass names of their own)
        raise InputError(f"--pass {', '.join(unknown)}: choose from {', '.join(PASSES)}")
    sinks: dict[str, SequenceSink] = {}
    classes = {"depth": DepthPassSink, "coverage": CoveragePassSink}
    try:
        for name in dict.fromkeys(names):
            sink_target = pass_target(target, name)
            sinks[name] = classes[name](
                sink_target, first_frame, count, OutputSettings(), overwrite=overwrite
            )
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    return sinks


def stmap_paths(target: OutputTarget) -> tuple[Path, Path]:
    """The ST-maps written beside ``target`` with ``--distortion``: ``<stem>.stmap.exr``
    (distort: undistorted plate -> the frames) and ``<stem>.undistort.stmap.exr`` (the inverse)."""
    return (
        target.path.with_name(f"{target.stem}.stmap.exr"),
        target.path.with_name(f"{target.stem}.undistort.stmap.exr"),
    )


def write_stmap(path: Path, stmap: np.ndarray) -> None:
    """One ST-map EXR: (H, W, 2) float32 as 32-bit float ``R``, ``G`` channels (and ``B`` = 0),
    ZIP-compressed; the values are :func:`~stillcam.render.distortion.st_map`'s (Nuke's form)."""
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    channels = {
        "R": np.ascontiguousarray(stmap[..., 0], np.float32),
        "G": np.ascontiguousarray(stmap[..., 1], np.float32),
        "B": np.zeros(stmap.shape[:2], np.float32),
    }
    write_exr(path, header, channels)
