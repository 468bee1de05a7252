"""``stillcam.render_views``: the evaluation entry point."""

import numpy as np
import pytest

from helpers import psnr
from stillcam import render_views
from stillcam.errors import DepthError, InputError
from stillcam.example.procedural import example_camera, example_inputs, render_example


def _example(width=160, height=90):
    picture, depth = example_inputs(width, height)
    image = np.rint(picture.pixels * 255).astype(np.uint8)
    return image, depth.z, example_camera(width, height).K


def test_identity_pose_returns_the_photo():
    image, depth, K = _example()
    (view,) = render_views(image, depth, K, [np.eye(4)], stride=1)
    assert view.shape == image.shape and view.dtype == np.uint8
    # Exact but for the few silhouette pixels whose every mesh triangle was cut (0.3 % at
    # this tiny size, one pixel at 1920x1080), which take the background side's colour.
    same = np.abs(view.astype(int) - image).max(axis=2) <= 1
    assert same.mean() > 0.995


def test_moved_views_match_the_ray_cast_truth_and_cover_every_pixel():
    image, depth, K = _example(320, 180)
    pose = np.eye(4)
    pose[:3, 3] = (0.3, 0.0, 0.2)
    camera = example_camera(320, 180).with_pose(pose)
    truth, _ = render_example(camera)
    (view,) = render_views(image, depth, K, [pose], stride=1, matte=(1.0, 0.0, 1.0))
    magenta = (view[..., 0] == 255) & (view[..., 1] == 0) & (view[..., 2] == 255)
    assert not magenta.any()
    assert psnr(view / 255.0, truth) > 25  # holes are filled with guesses, the rest matches


def test_size_option_and_unknown_options():
    image, depth, K = _example()
    views = render_views(image, depth, K, [np.eye(4), np.eye(4)], size=(64, 36))
    assert [v.shape for v in views] == [(36, 64, 3), (36, 64, 3)]
    with pytest.raises(InputError, match="valid options"):
        render_views(image, depth, K, [np.eye(4)], speed=3)
    with pytest.raises(DepthError):
        render_views(image, -depth, K, [np.eye(4)])
    with pytest.raises(InputError):
        render_views(image.astype(np.float32), depth, K, [np.eye(4)])


@pytest.mark.parametrize("move", ["dolly-in", "orbit", "crane", "truck", "dolly-zoom"])
def test_fraction_moves_look_the_same_whatever_the_depth_scale(move):
    from stillcam.camera.plan import ShotSettings
    from stillcam.depth import DepthMap
    from stillcam.options import RenderOptions
    from stillcam.output.frames import display_frame
    from stillcam.pipeline import plan_shot
    from stillcam.render import RenderSettings, get_renderer

    picture, depth = example_inputs(160, 90)
    options = RenderOptions(shot=ShotSettings(move=move, duration=0.25, fps="8"))
    renderer = get_renderer(RenderSettings())
    frames = []
    for scale in (1.0, 10.0):
        scaled = DepthMap(depth.z * np.float32(scale), "scaled", "-")
        scene, path, _ = plan_shot(picture, scaled, options)
        frames.append(
            display_frame(renderer, scene, path.cameras[-1], options.output, fill=options.scene.fills).astype(
                int
            )
        )
    # Same frames within rounding: at most 1 level on 99.9 % of the pixels.
    assert (np.abs(frames[0] - frames[1]).max(axis=2) <= 1).mean() >= 0.999
