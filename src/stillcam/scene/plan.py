"""Scene planning: how wide and how fine the scene must be for the cameras that will see it.

:func:`scene_for` is the one place the CLI, the web app's preview and
:func:`stillcam.render_views` build a scene. It takes the scene's own settings, not all
options.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from ..camera.camera import Camera
from ..depth.convert import DepthMap, resample_depth
from ..io.image import Picture
from .adaptive import view_bound
from .generative import fill_models_from
from .layers import Reach, magnification, reach_of, stride_at
from .mesh import Scene, SceneSettings, auto_stride, build_scene

#: The photo is box-filtered by up to this factor (powers of two) before it becomes the
#: scene's texture when every camera shows it at half its size or less.
MAX_TEXTURE_REDUCTION = 4


def texture_reduction(scale: float) -> int:
    """1, 2 or 4: the largest power of two f <= MAX_TEXTURE_REDUCTION with ``scale`` * f <= 1,
    ``scale`` being the largest output pixels per photo pixel any camera shows.

    >>> texture_reduction(1.0), texture_reduction(0.5), texture_reduction(0.1)
    (1, 2, 4)
    """
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
    pixels = cv2.resize(picture.pixels, (width, height), interpolation=cv2.INTER_AREA)
    small = replace(picture, pixels=np.ascontiguousarray(pixels, np.float32))
    return small, replace(depth, z=resample_depth(depth.z, width, height)), source.resized(width, height)


def scene_for(
    picture: Picture,
    depth: DepthMap,
    source: Camera,
    cameras: Sequence[Camera],
    settings: SceneSettings,
    reach: Reach | None = None,
) -> Scene:
    """The scene for a set of viewing cameras: its ring and background layer reach as far as
    these cameras will look (or as ``reach`` says, when given), and with ``--stride 0`` (auto)
    its vertex spacing is the vertex budget's, or coarser when every camera shows the photo
    smaller than its own resolution (:func:`~stillcam.scene.layers.stride_for`).

    When every camera shows the photo at half its size or less, the scene is built from the
    photo box-filtered by 2 or 4 (:func:`texture_reduction`): bilinear sampling of the full
    photo would alias (fine detail shimmers as the camera moves), and the texture and the
    build get 4-16x smaller. A given ``reach`` is in the pixels of the photo as passed.

    Args:
        picture: the photo (its pixels are the texture).
        depth: its metric depth, same size.
        source: the photo's camera.
        cameras: every camera that will see the scene.
        settings: the scene's options.
        reach: how far the layers must reach (default: measured from ``cameras``).
    """
    scale = magnification(source, cameras, depth.z)  # a median over the depth map: once
    fill = settings.fill != "none"
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
    if not fill:
        reach = None
    elif reach is None:
        reach = reach_of(source, cameras, depth.z)
    views = view_bound(source, cameras) if settings.mesh_error > 0.0 else None  # --mesh-error
    with fill_models_from(settings.fill_model_dir):  # where --fill/--outpaint models load from
        return build_scene(picture, depth, source, settings, reach, views)
