"""Lens vignette (render/vignette.py): the falloff in stops, linear-light scaling (fast vs
reference), the option, and off = the renderer itself."""

import numpy as np
import pytest

from stillcam.camera.camera import Camera
from stillcam.errors import InputError
from stillcam.render.frame import Frame, RenderSettings
from stillcam.render.vignette import (
    VignetteRenderer,
    apply_vignette,
    apply_vignette_reference,
    vignette_gain,
    with_vignette,
)


def _srgb_to_linear(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def test_the_corners_lose_the_stops_and_the_centre_keeps_its_light():
    camera = Camera.from_focal_mm(65, 37, 35.0)  # odd sides: a pixel at the centre
    gain = vignette_gain(camera, 1.5)
    assert gain[18, 32] == 1.0
    for y, x in ((0, 0), (0, 64), (36, 0), (36, 64)):
        assert np.log2(gain[y, x]) == pytest.approx(-1.5, abs=1e-5)
    half = np.hypot(32, 18) / np.sqrt(2)  # rho^2 = 1/2: half the stops
    assert np.log2(vignette_gain(camera, 2.0)[18, 32 + round(half)]) == pytest.approx(-1.0, abs=0.05)
    assert np.all(np.diff(gain[18, 32:]) < 0)  # falls off monotonically


def test_light_is_scaled_in_linear_light_and_hue_is_kept():
    rng = np.random.default_rng(1)
    rgb = rng.random((37, 65, 3)).astype(np.float32)
    alpha = np.ones((37, 65), np.float32)
    alpha[:4, :4] = 0.5  # premultiplied edge pixels
    rgb[:4, :4] *= 0.5
    frame = Frame(rgb, np.full((37, 65), 3.0, np.float32), alpha)
    gain = vignette_gain(Camera.from_focal_mm(65, 37, 35.0), 2.0)
    fast, slow = apply_vignette(frame, gain), apply_vignette_reference(frame, gain)
    assert np.max(np.abs(fast.rgb - slow.rgb)) < 1e-5
    lin_before, lin_after = _srgb_to_linear(rgb[10, 60]), _srgb_to_linear(fast.rgb[10, 60])
    assert lin_after / lin_before == pytest.approx([gain[10, 60]] * 3, rel=1e-4)  # same ratio per channel
    assert np.array_equal(fast.alpha, alpha) and np.array_equal(fast.depth, frame.depth)


def test_vignette_option_and_off():
    renderer = object()
    assert with_vignette(renderer, RenderSettings(), fill=True) is renderer
    assert isinstance(with_vignette(renderer, RenderSettings(vignette=1.0), fill=True), VignetteRenderer)
    with pytest.raises(InputError, match="--vignette"):
        RenderSettings(vignette=9.0)
    with pytest.raises(InputError, match="--vignette"):
        RenderSettings(vignette=-1.0)
