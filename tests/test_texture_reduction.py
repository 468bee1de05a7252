"""When every camera shows the photo at half its size or less, the scene is built from the
photo box-filtered by 2 or 4: less aliasing (closer to a 4x4 supersampled render) and a
smaller texture."""

import numpy as np
import pytest

from helpers import psnr
from stillcam import RenderOptions
from stillcam.camera import fit_output_camera
from stillcam.camera.plan import ShotSettings
from stillcam.output.frames import display_frame
from stillcam.render import RenderSettings, get_renderer
from stillcam.scene.plan import scene_for, texture_reduction


@pytest.mark.parametrize(
    ("scale", "factor"), [(1.3, 1), (1.0, 1), (0.6, 1), (0.5, 2), (0.45, 2), (0.25, 4), (0.1, 4)]
)
def test_reduction_factor(scale, factor):
    assert texture_reduction(scale) == factor


def test_reduced_texture_aliases_less(monkeypatch):
    """A detailed photo (noise) on a wall, seen from where it was taken at a quarter of its size:
    the ideal frame is the photo area-averaged 4x4 (every photo pixel counted once); bilinear
    sampling of the full photo picks 4 of every 16 and aliases."""
    import cv2

    import stillcam.scene.plan as scene_plan
    from stillcam.camera import Camera
    from stillcam.depth import DepthMap
    from stillcam.io.image import picture_from_array

    rng = np.random.default_rng(7)
    picture = picture_from_array(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8))
    depth = DepthMap(np.full((720, 1280), 5.0, np.float32), "flat wall", "-")
    source = Camera.from_focal_mm(1280, 720, picture.focal_mm)
    camera = fit_output_camera(source, 320, 180)
    options = RenderOptions(shot=ShotSettings(size="320x180"))
    ideal = cv2.resize(picture.pixels, (320, 180), interpolation=cv2.INTER_AREA)
    renderer = get_renderer(RenderSettings("cpu"))
    reduced = scene_for(picture, depth, source, [camera], options.scene)
    monkeypatch.setattr(scene_plan, "MAX_TEXTURE_REDUCTION", 1)
    full = scene_for(picture, depth, source, [camera], options.scene)
    assert (reduced.camera.width, full.camera.width) == (320, 1280)  # built from a 4x smaller photo
    filtered = psnr(
        display_frame(renderer, reduced, camera, options.output, fill=options.scene.fills) / 255.0, ideal
    )
    aliased = psnr(
        display_frame(renderer, full, camera, options.output, fill=options.scene.fills) / 255.0, ideal
    )
    # Measured: 58.9 dB against 18.0 dB.
    assert filtered > 40 and filtered > aliased + 10, (filtered, aliased)
