"""Stereo frames (``--stereo sbs|tb``): both eyes of a parallel rig packed into one frame.

:class:`StereoRenderer` wraps the renderer the pipeline built (a backend, with depth of field
and lens distortion when asked: each eye gets its own), renders the left and right eye
cameras of each camera it is given (:func:`~stillcam.camera.stereo.eye_camera`; motion blur's
sub-frame cameras each go through it, so each eye is blurred along its own path) and packs
them at full resolution: ``sbs`` side by side (width 2W, left eye on the left), ``tb``
top/bottom (height 2H, left eye on top). Colour, depth and coverage are packed alike.
``--stereo separate`` renders each eye into its own output instead (the pipeline gives each
output its eye's cameras; :mod:`stillcam.output.stereo`).
"""

from __future__ import annotations

import numpy as np

from ..bounds import check_frame_size
from ..camera.camera import Camera
from ..camera.plan import ShotSettings
from ..camera.stereo import EYES, StereoLayout, StereoRig, eye_camera, packed_size, parse_convergence
from ..scene.mesh import Scene
from .dof import focus_distance
from .frame import DisplayRenderer, Frame, Renderer, RenderSettings


def pack(left: np.ndarray, right: np.ndarray, layout: StereoLayout) -> np.ndarray:
    """Two eyes' (H, W, ...) arrays as one: (H, 2W, ...) for ``sbs`` (left eye on the left),
    (2H, W, ...) for ``tb`` (left eye on top); same dtype.

    >>> left, right = np.zeros((2, 3)), np.ones((2, 3))
    >>> pack(left, right, "sbs").shape, float(pack(left, right, "tb")[2, 0])
    ((2, 6), 1.0)
    """
    if layout not in ("sbs", "tb"):
        raise ValueError(f"pack: layout must be sbs or tb, got {layout!r}")
    return np.concatenate([left, right], axis=1 if layout == "sbs" else 0)


def unpack(packed: np.ndarray, layout: StereoLayout) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pack` undone: the (left, right) views of a packed (H, 2W, ...) or (2H, W, ...) array."""
    if layout == "sbs":
        half = packed.shape[1] // 2
        return packed[:, :half], packed[:, half:]
    if layout == "tb":
        half = packed.shape[0] // 2
        return packed[:half], packed[half:]
    raise ValueError(f"unpack: layout must be sbs or tb, got {layout!r}")


def pack_frames(left: Frame, right: Frame, layout: StereoLayout) -> Frame:
    """Two eyes' :class:`Frame` as one packed frame (colour, depth, coverage; :func:`pack`)."""
    return Frame(
        pack(left.rgb, right.rgb, layout),
        pack(left.depth, right.depth, layout),
        pack(left.alpha, right.alpha, layout),
    )


class StereoRenderer:
    """A :class:`~stillcam.render.frame.Renderer` that renders both eyes of each camera with
    ``inner`` and packs them (``layout`` ``sbs`` or ``tb``; module docstring).

    A :class:`~stillcam.render.frame.DisplayRenderer` too: with an ``inner`` that writes display
    pixels directly, each eye's pixels are its bytes, packed (:meth:`frame_size` gives the
    packed size ``out`` must have)."""

    def __init__(self, inner: Renderer, rig: StereoRig, layout: StereoLayout) -> None:
        if layout not in ("sbs", "tb"):
            raise ValueError(f"StereoRenderer packs sbs or tb, not {layout!r}")
        self.inner = inner
        self.rig = rig
        self.layout = layout

    def frame_size(self, camera: Camera) -> tuple[int, int]:
        """(width, height) of the packed frame of ``camera`` (one eye's size)."""
        return packed_size(camera.width, camera.height, self.layout)

    def render(self, scene: Scene, camera: Camera) -> Frame:
        left, right = (self.inner.render(scene, eye_camera(camera, self.rig, eye)) for eye in EYES)
        return pack_frames(left, right, self.layout)

    def render_display(
        self,
        scene: Scene,
        camera: Camera,
        fill: bool,
        matte: np.ndarray,
        scale: np.float32,
        out: np.ndarray,
    ) -> bool:
        """Both eyes' display pixels packed into ``out`` ((H, 2W, 3) or (2H, W, 3)); False when
        ``inner`` cannot write display pixels (the caller then renders a :class:`Frame`)."""
        if not isinstance(self.inner, DisplayRenderer):
            return False
        if out.shape[:2] != self.frame_size(camera)[::-1]:
            raise ValueError(f"StereoRenderer.render_display: out {out.shape} is not the packed frame")
        for eye, view in zip(EYES, unpack(out, self.layout), strict=True):
            pixels = np.empty((camera.height, camera.width, 3), out.dtype)
            if not self.inner.render_display(
                scene, eye_camera(camera, self.rig, eye), fill, matte, scale, pixels
            ):
                return False
            view[...] = pixels
        return True


def stereo_rig(
    settings: RenderSettings, source: Camera, z: np.ndarray, shot: ShotSettings
) -> StereoRig | None:
    """The ``--stereo`` rig (None without): ``--interaxial`` in metres, ``--convergence``
    resolved to metres like ``--focus`` (:func:`~stillcam.render.dof.focus_distance`: as given,
    the moves' subject distance, or the photo's depth at a pixel of the first frame).

    Args:
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.
        shot: the move options (output size, ``--target``, ``--target-depth``).
    """
    if settings.stereo is None:
        return None
    convergence = focus_distance(parse_convergence(settings.convergence), source, z, shot)
    return StereoRig(interaxial_m=settings.interaxial / 1000.0, convergence_m=convergence)


def with_stereo(renderer: Renderer, settings: RenderSettings, rig: StereoRig | None) -> Renderer:
    """``renderer`` itself unless ``--stereo sbs`` or ``tb`` (``separate`` renders each eye into
    its own output with ``renderer``), else a :class:`StereoRenderer` over it. Wrap it last,
    over depth of field and distortion, so that each eye gets its own."""
    if rig is None or settings.stereo not in ("sbs", "tb"):
        return renderer
    return StereoRenderer(renderer, rig, settings.stereo)


def check_packed_size(width: int, height: int, settings: RenderSettings, option: str) -> None:
    """Refuse a packed stereo frame (``sbs``: 2W x H, ``tb``: W x 2H) of a ``width`` x ``height``
    eye outside the frame size limits (:func:`~stillcam.bounds.check_frame_size`).

    Raises:
        InputError: naming ``option`` (the size) and the layout.
    """
    if settings.stereo not in ("sbs", "tb"):
        return
    packed = packed_size(width, height, settings.stereo)
    check_frame_size(
        *packed,
        f"--stereo {settings.stereo} of {option} (a {packed[0]}x{packed[1]} frame; --stereo separate "
        "writes each eye at its own size)",
        supersample=settings.supersample,
    )
