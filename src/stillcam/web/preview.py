"""What the browser's viewer is sent, as pure functions (no HTTP, no FastAPI).

One source of truth for the camera: the page never computes one. The cameras are the
render's own (:func:`stillcam.pipeline.plan_cameras`), sent as clip matrices made from the
projection the EXR header carries (:func:`stillcam.output.exr.world_to_ndc`); the preview scene
is the render's scene (:func:`stillcam.scene.plan.scene_for`) built from the photo scaled to at
most PREVIEW_PX.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np

from .._version import __version__
from ..camera.camera import Camera
from ..camera.moves import MOVES
from ..camera.plan import SIZES
from ..conventions import GLTF_FROM_OPENCV_4
from ..depth.convert import DepthMap
from ..depth.models import model_table
from ..io.image import Picture
from ..options import SECTIONS, RenderOptions
from ..output.codecs import CODECS
from ..output.exr import world_to_ndc
from ..scene.layers import Reach, reach_of
from ..scene.mesh import Scene
from ..scene.plan import downscaled, scene_for

#: Long side of the photo the preview scene is built from (the browser's mesh and texture).
PREVIEW_PX = 1280
#: Vertices of the preview mesh, about (a few MB to send; instant to draw).
PREVIEW_VERTICES = 100_000


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
    """What the page's menus offer: moves with their parameters, models, codecs, sizes, defaults."""
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
    }
