"""What the browser's viewer is sent, as pure functions (no HTTP, no FastAPI).

One source of truth for the camera: the page never computes one. The cameras are the
render's own (:func:`stillcam.pipeline.plan_cameras`), sent as clip matrices made from the
projection the EXR header carries (:func:`stillcam.output.exr.world_to_ndc`); the preview scene
is the render's scene (:func:`stillcam.scene.plan.scene_for`) built from the photo scaled to at
most PREVIEW_PX.

The browser draws sharp frames. Depth of field (``--fstop``, ``--focus``) and motion blur
(``--shutter``) are previewed by :func:`lens_frame`: one frame of the preview scene rendered
here with the render's own lens (:func:`lens_renderer`, focused exactly where the render is)
at a long side of at most LENS_PREVIEW_PX, the camera scaled to that size (so the circles of
confusion, in pixels, scale with the frame: the same picture, smaller), and motion blur from at
most LENS_PREVIEW_SAMPLES of the ``--shutter-samples``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np

from .._version import __version__
from ..camera.camera import Camera, fit_output_camera
from ..camera.moves import MOVES
from ..camera.path import CameraPath
from ..camera.plan import SIZES, ShotSettings
from ..camera.shutter import subframe_cameras
from ..conventions import GLTF_FROM_OPENCV_4
from ..depth.convert import DepthMap
from ..depth.models import model_table
from ..io.image import Picture
from ..options import SECTIONS, RenderOptions
from ..output.codecs import CODECS
from ..output.exr import world_to_ndc
from ..output.frames import motion_frame, shaded_frame
from ..output.writers import to_display
from ..render.dof import LensRenderer, with_depth_of_field
from ..render.frame import Renderer
from ..render.registry import get_renderer
from ..scene.layers import Reach, reach_of
from ..scene.mesh import Scene
from ..scene.plan import downscaled, scene_for

#: Long side of the photo the preview scene is built from (the browser's mesh and texture).
PREVIEW_PX = 1280
#: Vertices of the preview mesh, about (a few MB to send; instant to draw).
PREVIEW_VERTICES = 100_000
#: Long side of a lens preview frame (:func:`lens_frame`), in pixels; never above the output's.
LENS_PREVIEW_PX = 640
#: Most sub-frame samples a lens preview's motion blur takes (the render takes all of
#: ``--shutter-samples``).
LENS_PREVIEW_SAMPLES = 8
#: JPEG quality of a lens preview frame.
LENS_PREVIEW_QUALITY = 90


def clip_matrix(camera: Camera, near: float, far: float) -> np.ndarray:
    """4x4 world (stillcam's, OpenCV axes) -> WebGL clip space for ``camera`` (column vectors).

    It is the EXR header's ``worldToNDC`` (pixel centres, principal point and focal lengths
    exactly as :func:`stillcam.render.frame.project_vertices`) taken to clip space: x and y
    from [0, 1] (y down) to [-1, 1] (y up), depth [near, far] -> [-1, 1]. Resolution-independent:
    any canvas of the camera's aspect.
    """
    a, b = (far + near) / (far - near), -2.0 * far * near / (far - near)
    # Rows of world_to_ndc: (x w, y w, 1, w) with w = camera z; clip wants (2x-1, 1-2y, a z + b, z).
    ndc_to_clip = np.array(
        [[2.0, 0.0, 0.0, -1.0], [0.0, -2.0, 0.0, 1.0], [0.0, 0.0, b, a], [0.0, 0.0, 0.0, 1.0]]
    )
    return ndc_to_clip @ world_to_ndc(camera) @ GLTF_FROM_OPENCV_4  # from stillcam's world


def near_far(z: np.ndarray) -> tuple[float, float]:
    """The viewer's clip planes in metres for a photo's depth ``z`` (H, W float32 metres)."""
    near = max(1e-3, 0.5 * float(z.min()))
    return near, max(near * 10, 50.0 * float(np.percentile(z, 99)))


def camera_records(cameras: Sequence[Camera], z: np.ndarray) -> list[dict[str, Any]]:
    """Per frame: its clip matrix (16 floats, column-major as WebGL wants) and size."""
    near, far = near_far(z)
    return [
        {"clip": clip_matrix(c, near, far).T.ravel().tolist(), "width": c.width, "height": c.height}
        for c in cameras
    ]


def focus_view(source: Camera, shot: ShotSettings) -> Camera:
    """The view a ``--focus X,Y`` pixel is a fraction of: the photo's camera fitted to the
    output size (:func:`~stillcam.render.dof.focus_distance` picks the photo's depth there, like
    ``--target``); the first frame of a move that starts at the photo's camera.

    Args:
        source: the photo's camera (full size).
        shot: the move options (``--size``).
    """
    return fit_output_camera(source, *shot.output_size(source.width, source.height))


def preview_inputs(picture: Picture, depth: DepthMap) -> tuple[Picture, DepthMap, Camera]:
    """The photo scaled to at most PREVIEW_PX, its depth and camera
    (:func:`~stillcam.scene.plan.downscaled`: the same view of the same metric world)."""
    scale = min(1.0, PREVIEW_PX / max(picture.width, picture.height))
    w, h = max(2, round(picture.width * scale)), max(2, round(picture.height * scale))
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    return downscaled(picture, depth, source, w, h)


def preview_reach(source: Camera, cameras: Sequence[Camera], z: np.ndarray) -> Reach:
    """The cameras' reach rounded up (edge gaps to 8 px, the ring to 32 px of the preview
    photo), so that small changes to the move reuse the scene already built."""
    reach = reach_of(source, cameras, z)
    return Reach(edge_px=8.0 * math.ceil(reach.edge_px / 8.0), ring_px=32.0 * math.ceil(reach.ring_px / 32.0))


def preview_scene(
    small: Picture,
    small_depth: DepthMap,
    small_source: Camera,
    cameras: Sequence[Camera],
    options: RenderOptions,
    reach: Reach,
) -> Scene:
    """The render's scene from the preview photo, with about PREVIEW_VERTICES vertices."""
    stride = max(1, math.ceil(math.sqrt(small.width * small.height / PREVIEW_VERTICES)))
    settings = replace(options.scene, stride=stride)
    return scene_for(small, small_depth, small_source, cameras, settings, reach=reach)


def lens_renderer(options: RenderOptions, source: Camera, z: np.ndarray, path: CameraPath) -> Renderer:
    """The cpu backend wrapped in the render's lens: :func:`~stillcam.render.dof.with_depth_of_field`
    with the render's arguments (the full-size photo's camera ``source`` and depth ``z``, the
    shot's ``path``), so it focuses at the render's distance; the cpu backend itself without
    depth of field. One sample per pixel (``--supersample`` is left out of the preview)."""
    settings = replace(options.render, renderer="cpu", supersample=1)
    fill = options.scene.fills
    return with_depth_of_field(
        get_renderer(settings), options.render, source, z, options.shot, fill=fill, cameras=path.cameras
    )


def focus_m(renderer: Renderer, camera: Camera) -> float | None:
    """The focus distance in metres of ``camera``'s frame with :func:`lens_renderer`'s
    ``renderer``; None without depth of field."""
    return renderer.lens(camera)[1] if isinstance(renderer, LensRenderer) else None


def lens_preview_size(width: int, height: int) -> tuple[int, int]:
    """A lens preview's size for frames of ``width`` x ``height``: the long side at most
    LENS_PREVIEW_PX, the aspect kept.

    >>> lens_preview_size(1920, 1080), lens_preview_size(320, 180)
    ((640, 360), (320, 180))
    """
    scale = min(1.0, LENS_PREVIEW_PX / max(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def lens_frame(
    scene: Scene, renderer: Renderer, options: RenderOptions, path: CameraPath, index: int
) -> np.ndarray:
    """Frame ``index`` (0-based) of ``path`` (the whole shot) rendered from ``scene`` with
    ``renderer`` (:func:`lens_renderer`) at :func:`lens_preview_size`: (h, w, 3) uint8 display
    pixels. With motion blur (``--shutter``) the mean of at most LENS_PREVIEW_SAMPLES sub-frames
    spread over the same open shutter as the render's (the same streak, in fewer steps)."""
    camera = path.cameras[index]
    width, height = lens_preview_size(camera.width, camera.height)
    settings, fill = options.render, options.scene.fills
    if settings.motion_blur:
        assert settings.shutter is not None
        samples = min(settings.shutter_samples, LENS_PREVIEW_SAMPLES)
        cameras = subframe_cameras(path, path.first_frame + index, settings.shutter, samples)
        frame = motion_frame(renderer, scene, [c.resized(width, height) for c in cameras], fill=fill)
    else:
        frame = shaded_frame(renderer, scene, camera.resized(width, height), fill=fill)
    return to_display(frame, options.output.matte, 8)


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    """(h, w, 3) uint8 pixels as a JPEG (LENS_PREVIEW_QUALITY, no chroma subsampling)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=LENS_PREVIEW_QUALITY, subsampling=0)
    return out.getvalue()


def mesh_bytes(scene: Scene) -> bytes:
    """The viewer's mesh: uint32 vertex count, uint32 index count, float32 xyz (world,
    OpenCV axes, metres), float32 uv (0..1, v down), uint32 indices; little-endian."""
    th, tw = scene.texture.shape[:2]
    uv = ((scene.uvs + 0.5) / np.array([tw, th], np.float32)).astype("<f4")
    head = np.array([len(scene.vertices), scene.triangles.size], "<u4").tobytes()
    return (
        head + scene.vertices.astype("<f4").tobytes() + uv.tobytes() + scene.triangles.astype("<u4").tobytes()
    )


def info() -> dict[str, Any]:
    """What the page's menus offer: moves with their parameters, models, codecs, sizes, defaults,
    and the lens preview's limits (:func:`lens_frame`)."""
    moves = [
        {
            "name": spec.name,
            "summary": spec.summary,
            "params": [
                {"name": p.name, "unit": p.unit, "default": p.default, "help": p.help} for p in spec.params
            ],
        }
        for spec in MOVES.values()
    ]
    defaults = {}
    for section in SECTIONS.values():
        for f in fields(section):
            value = f.default
            defaults[f.name] = list(value) if isinstance(value, tuple) else value
    return {
        "version": __version__,
        "moves": moves,
        "models": model_table(),
        "codecs": list(CODECS),
        "sizes": ["source", *SIZES],
        "defaults": defaults,
        "lens_preview": {"long_side_px": LENS_PREVIEW_PX, "shutter_samples": LENS_PREVIEW_SAMPLES},
    }
