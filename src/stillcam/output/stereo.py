"""Stereo outputs (``--stereo``): the names of each eye's files, one output per eye
(``separate``), and burn-ins on packed frames.

Naming (``separate``; also each eye's ST-maps with ``--distortion``): the eye goes after the
output's stem, before its extension or frame number, so that every file of one eye shares
a stem (its passes, ``shot.left.depth.####.exr``, are named from it):

=====================  ==========================================
``shot.mp4``           ``shot.left.mp4``, ``shot.right.mp4``
``shot.####.png``      ``shot.left.####.png``, ``shot.right.####.png``
``shot.%04d.exr``      ``shot.left.%04d.exr``, ``shot.right.%04d.exr``
=====================  ==========================================

One recipe is written, the asked output's own (``shot.recipe.json`` for ``shot.mp4``); it
records both eyes (``output.stereo``) and ``stillcam rerender`` writes both again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..camera.camera import Camera
from ..camera.path import CameraPath
from ..camera.stereo import EYES, Eye, StereoLayout, StereoRig, eye_camera, eye_cameras
from ..errors import InputError
from ..io.files import publish_all
from ..render.stereo import pack, unpack
from .frames import ShotOutput
from .targets import OutputTarget

_PATTERN = re.compile(r"#+|%0\d+d")


def eye_target(target: OutputTarget, eye: Eye) -> OutputTarget:
    """The output of one eye of ``target`` (module docstring).

    >>> from stillcam.output.targets import parse_output
    >>> eye_target(parse_output("out/shot.mp4"), "left").path.as_posix()
    'out/shot.left.mp4'
    >>> eye_target(parse_output("shot.####.png"), "right").path.name
    'shot.right.####.png'
    """
    name = target.path.name
    if target.kind == "video":
        suffix = target.path.suffix
        return replace(target, path=target.path.with_name(f"{name[: -len(suffix)]}.{eye}{suffix}"))
    match = _PATTERN.search(name)
    assert match is not None  # a parsed sequence has its pattern
    lead, rest = name[: match.start()], name[match.start() :]
    if not lead:  # ####.png -> left.####.png
        renamed = f"{eye}.{rest}"
    elif lead[-1] in "._-":  # shot.####.png -> shot.left.####.png, shot_####.png -> shot.left_####.png
        renamed = f"{lead[:-1]}.{eye}{lead[-1]}{rest}"
    else:  # shot####.png -> shot.left.####.png
        renamed = f"{lead}.{eye}.{rest}"
    return replace(target, path=target.path.with_name(renamed))


def eye_targets(target: OutputTarget, layout: StereoLayout | None) -> tuple[tuple[Eye, OutputTarget], ...]:
    """(eye, its output) of ``--stereo separate``; empty for any other layout."""
    if layout != "separate":
        return ()
    return tuple((eye, eye_target(target, eye)) for eye in EYES)


def stmap_targets(
    target: OutputTarget, layout: StereoLayout | None
) -> tuple[tuple[Eye | None, OutputTarget], ...]:
    """(eye, the output its ST-maps are named after) for ``--distortion``: ``target`` itself
    without stereo, each eye's output with (every eye has its own principal point, so its
    own maps: ``shot.left.stmap.exr``, ``shot.right.stmap.exr``, packed or separate)."""
    if layout is None:
        return ((None, target),)
    return tuple((eye, eye_target(target, eye)) for eye in EYES)


def stereo_record(
    target: OutputTarget, layout: StereoLayout, rig: StereoRig, eye_size: tuple[int, int]
) -> dict[str, Any]:
    """The recipe's ``output.stereo`` block: layout, rig (interaxial mm, convergence m), the
    size of one eye and, with ``separate``, each eye's output name."""
    record: dict[str, Any] = {
        "layout": layout,
        "interaxial_mm": rig.interaxial_m * 1000.0,
        "convergence_m": rig.convergence_m,
        "eye_width": eye_size[0],
        "eye_height": eye_size[1],
        "disparity": "x_left - x_right = fx * interaxial * (1/z - 1/convergence) px, > 0 in front",
    }
    if layout == "separate":
        record["eyes"] = {eye: eye_target(target, eye).path.name for eye in EYES}
    return record


def check_stereo_output(target: OutputTarget, layout: StereoLayout | None) -> None:
    """Refuse, before any work, packed stereo frames as EXR: an EXR frame's header holds one
    camera (``worldToCamera``, ``worldToNDC``), which a packed frame does not have.

    Raises:
        InputError: naming what to use instead.
    """
    if layout in ("sbs", "tb") and target.path.suffix.lower() == ".exr":
        raise InputError(
            f"--stereo {layout}: not on EXR frames (their header holds one camera); use --stereo "
            "separate for an EXR sequence per eye, each with its eye's camera"
        )


def eye_path(path: CameraPath, rig: StereoRig, eye: Eye) -> CameraPath:
    """``path`` seen by one eye of ``rig`` (:func:`~stillcam.camera.stereo.eye_camera` of each frame)."""
    return replace(path, cameras=eye_cameras(path.cameras, rig, eye))


class PackedBurnIn:
    """Burn-ins on a packed stereo frame: ``burn`` (a :class:`~stillcam.output.burnin.BurnIn`)
    drawn into each eye's half with that eye's camera, the same text at the same place, so it
    sits on the screen plane (zero parallax) when viewed in stereo."""

    def __init__(
        self, burn: Callable[[np.ndarray, int, Camera], np.ndarray], rig: StereoRig, layout: StereoLayout
    ) -> None:
        self.burn = burn
        self.rig = rig
        self.layout = layout

    def __call__(self, pixels: np.ndarray, number: int, camera: Camera) -> np.ndarray:
        halves = unpack(pixels, self.layout)
        left, right = (
            self.burn(half, number, eye_camera(camera, self.rig, eye))
            for half, eye in zip(halves, EYES, strict=True)
        )
        return pack(left, right, self.layout)


class StereoOutput:
    """The two outputs of ``--stereo separate``, one :class:`~stillcam.output.frames.ShotOutput`
    per eye, driven like one: each centre camera becomes its eye's camera for each, and they
    are committed together (every file of both checked, then published, or none) or aborted
    together. Files staged with :meth:`stage_file` (the recipe) go with the left eye's."""

    def __init__(self, outputs: Sequence[ShotOutput], rig: StereoRig) -> None:
        if len(outputs) != len(EYES):
            raise ValueError("StereoOutput needs one output per eye (left, right)")
        self.outputs = tuple(outputs)
        self.rig = rig

    @property
    def sinks(self) -> tuple[Any, ...]:
        return tuple(sink for output in self.outputs for sink in output.sinks)

    def items(
        self, camera: Camera, subframes: Sequence[Camera] = ()
    ) -> list[tuple[Callable[[Any], None], Any]]:
        """Each eye's :meth:`~stillcam.output.frames.ShotOutput.items`, from its own camera
        (and sub-frame cameras: the rig moves with the centre camera)."""
        items = []
        for eye, output in zip(EYES, self.outputs, strict=True):
            own = eye_cameras(subframes, self.rig, eye) if subframes else ()
            items.extend(output.items(eye_camera(camera, self.rig, eye), own))
        return items

    def stage_file(self, final: Any, write: Callable[[Any], None]) -> None:
        self.outputs[0].stage_file(final, write)

    def commit(self) -> None:
        parts = [part for output in self.outputs for part in output.parts]
        files = [pair for part in parts for pair in part.finish()]
        publish_all(files, overwrite=self.outputs[0].overwrite)
        for part in parts:
            part.published()

    def abort(self) -> None:
        for output in self.outputs:
            output.abort()
