"""``render_views``: the evaluation entry point (arrays in, arrays out).

It uses exactly the scene building and rendering of the CLI (``scene.plan.scene_for``, the
renderer registry and ``output.frames.display_frame``); only the inputs (arrays, OpenCV
intrinsics and poses) differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .camera.camera import Camera, fit_output_camera
from .camera.path import CameraPath
from .camera.stereo import EYES, eye_camera
from .depth.convert import DepthMap
from .errors import DepthError, InputError
from .io.hashing import sha256_array
from .io.image import picture_from_array
from .options import RenderOptions
from .output.frames import display_frame
from .render.distortion import with_distortion
from .render.dof import focus_pulled, with_depth_of_field
from .render.registry import get_renderer
from .render.stereo import stereo_rig, with_stereo
from .render.vignette import with_vignette
from .scene.plan import scene_for


def _check_arrays(image: np.ndarray, depth: np.ndarray, K: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"image must be HxWx3 uint8, got {image.dtype} {image.shape}")
    if depth.shape != image.shape[:2]:
        raise DepthError(f"depth must be {image.shape[:2]} (HxW of the image), got {depth.shape}")
    if not np.isfinite(depth).all() or (depth <= 0).any():
        raise DepthError("depth must be finite and > 0 everywhere (metric z along the optical axis)")
    if K.shape != (3, 3) or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise InputError(f"K must be a 3x3 intrinsics matrix with positive focal lengths, got {K}")


def render_views(
    image: np.ndarray,
    depth: np.ndarray,
    K: np.ndarray,
    poses: Sequence[np.ndarray],
    *,
    size: tuple[int, int] | None = None,
    **options: Any,
) -> list[np.ndarray]:
    """Render the photo ``image`` with ``depth`` from each camera pose.

    Args:
        image: (H, W, 3) uint8 sRGB photo.
        depth: (H, W) float32 metric z along the optical axis (metres), finite and > 0.
        K: (3, 3) pixel intrinsics of the source camera (OpenCV: pixel centres at integers).
        poses: 4x4 camera-to-world matrices in OpenCV axes (x right, y down, z forward);
            the source camera is the identity.
        size: (width, height) of the outputs; default the source's size with the same K.
            Another size fits like the CLI's ``--size`` (centre crop, no stretching).
        options: any field of the option sections (e.g. ``stride=1``, ``supersample=2``,
            ``cut_threshold=0.05``, ``renderer="reference"``, ``matte=(0, 0, 0)``).

    Returns:
        One (height, width, 3) uint8 image per pose; with ``stereo="sbs"`` (``"tb"``) both eyes
        of the pose's camera packed, (height, 2 width, 3) (``(2 height, width, 3)``).

    >>> image = np.zeros((8, 8, 3), np.uint8)
    >>> depth = np.full((8, 8), 2.0, np.float32)
    >>> K = np.array([[8.0, 0, 3.5], [0, 8.0, 3.5], [0, 0, 1]])
    >>> [v.shape for v in render_views(image, depth, K, [np.eye(4)])]
    [(8, 8, 3)]
    """
    image, depth, K = np.asarray(image), np.asarray(depth, np.float32), np.asarray(K, np.float64)
    _check_arrays(image, depth, K)
    settings = RenderOptions.from_fields(options)
    h, w = depth.shape
    source = Camera(w, h, float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]))
    start = source if size is None else fit_output_camera(source, int(size[0]), int(size[1]))
    cameras = [start.with_pose(np.asarray(pose, np.float64)) for pose in poses]
    picture = picture_from_array(image)
    if settings.render.stereo == "separate":
        raise InputError("render_views: stereo='separate' has no one image per pose; use 'sbs' or 'tb'")
    rig = stereo_rig(settings.render, source, depth, settings.shot)  # --stereo sbs|tb: packed views
    seen = cameras if rig is None else [*cameras, *(eye_camera(c, rig, e) for e in EYES for c in cameras)]
    scene = scene_for(picture, DepthMap(depth, "array", sha256_array(depth)), source, seen, settings.scene)
    render, fill = settings.render, settings.scene.fills  # --fstop: "subject" = the default subject
    # --focus A..B: pulled over the poses as frames 1001, 1002, ... (--rack in those numbers)
    cameras = list(
        focus_pulled(CameraPath(tuple(cameras), Fraction(24)), render, source, depth, settings.shot).cameras
    )
    renderer = with_depth_of_field(
        get_renderer(render), render, source, depth, settings.shot, fill=fill, cameras=cameras
    )
    renderer = with_distortion(renderer, render, fill=fill)  # --distortion
    renderer = with_vignette(renderer, render, fill=fill)  # --vignette
    renderer = with_stereo(renderer, render, rig)  # --stereo: (H, 2W, 3) or (2H, W, 3) views
    output = dataclasses.replace(settings.output, bit_depth=8)
    return [display_frame(renderer, scene, camera, output, fill=settings.scene.fills) for camera in cameras]
