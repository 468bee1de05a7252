"""The patch fill: hole pixels are copies of source pixels, texture is kept, nearer surfaces
are not copied into what stands for the background, and the result is repeatable."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from stillcam.scene import patchfill
from stillcam.scene.patchfill import offset_field, patch_fill


def _texture(h: int, w: int, seed: int = 3) -> np.ndarray:
    """A grey, detailed texture: smoothed noise plus stripes, (H, W, 3) float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.5)
    y, x = np.mgrid[0:h, 0:w]
    grey = 0.35 + 0.5 * (noise - noise.mean()) + 0.08 * np.sin(x / 3.0 + y / 7.0)
    return np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=2).astype(np.float32)


def _gradient(image: np.ndarray, mask: np.ndarray) -> float:
    grey = image.mean(axis=2).astype(np.float32)
    return float(np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))[mask].mean())


def test_hole_pixels_are_copies_of_sources_and_the_rest_is_unchanged():
    image = _texture(90, 120)
    hole = np.zeros((90, 120), bool)
    hole[30:60, 50:75] = True
    out = patch_fill(image, hole, ~hole)
    assert np.array_equal(out[~hole], image[~hole])
    sources = {tuple(p) for p in image[~hole].reshape(-1, 3).tolist()}
    assert all(tuple(p) in sources for p in out[hole].reshape(-1, 3).tolist())


def test_texture_is_kept_where_diffusion_smears():
    image = _texture(240, 320)
    hole = np.zeros((240, 320), bool)
    hole[60:180, 140:200] = True
    out = patch_fill(image, hole, ~hole)
    smooth = cv2.inpaint(np.rint(image * 255).astype(np.uint8), hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    truth = _gradient(image, hole)
    kept, smeared = _gradient(out, hole) / truth, _gradient(smooth / 255.0, hole) / truth
    assert kept > 0.75 and smeared < 0.5, (kept, smeared)


def test_uint16_texels_are_filled_in_kind():
    image = np.rint(_texture(60, 80) * 65535).astype(np.uint16)
    hole = np.zeros((60, 80), bool)
    hole[20:40, 30:50] = True
    out = patch_fill(image, hole, ~hole)
    assert out.dtype == np.uint16 and np.array_equal(out[~hole], image[~hole])


def test_a_nearer_surface_is_not_copied_into_the_background():
    """A saturated blue disc before a grey textured wall: the hole (what the disc hides, to be
    filled as wall) may draw on the disc's pixels by colour alone, never with the depth term."""
    h, w = 160, 240
    image = _texture(h, w)
    y, x = np.mgrid[0:h, 0:w]
    disc = (x - 100) ** 2 + (y - 80) ** 2 < 40**2
    image[disc] = (0.1, 0.2, 0.9)
    zinv = np.where(disc, 1 / 2.0, 1 / 6.0).astype(np.float32)  # disc at 2 m, wall at 6 m
    hole = ((x - 140) ** 2 + (y - 80) ** 2 < 30**2) & ~disc  # beside the disc, revealed
    image[hole] = (0.1, 0.2, 0.9)  # what the photo showed there: the disc's colour
    target = np.full((h, w), 1 / 6.0, np.float32)
    out = patch_fill(image, hole, ~hole, zinv, target)
    blue = out[..., 2] > np.maximum(out[..., 0], out[..., 1]) + 40 / 255
    assert not blue[hole].any()


def test_same_bytes_twice_and_for_any_thread_count():
    image = _texture(120, 160)
    hole = np.zeros((120, 160), bool)
    hole[40:80, 60:100] = True
    first, second = patch_fill(image, hole, ~hole), patch_fill(image, hole, ~hole)
    assert np.array_equal(first, second)
    code = (
        "import numpy as np, hashlib, sys; sys.path.insert(0, 'tests/scene');"
        "from test_patchfill import _texture; from stillcam.scene.patchfill import patch_fill;"
        "i = _texture(120, 160); h = np.zeros((120, 160), bool); h[40:80, 60:100] = True;"
        "print(hashlib.sha256(patch_fill(i, h, ~h).tobytes()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"NUMBA_NUM_THREADS": threads, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for threads in ("1", "2")
    }
    import hashlib

    assert digests == {hashlib.sha256(first.tobytes()).hexdigest()}


@pytest.mark.parametrize("size", [(24, 32), (31, 17)])
def test_the_compiled_search_matches_its_python_reference(size):
    """The numba kernel against its own Python source run by the interpreter (the slow
    reference): the same offsets, bit for bit."""
    h, w = size
    image = _texture(h, w, seed=5)
    hole = np.zeros((h, w), bool)
    hole[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = True
    fast = offset_field(image, hole, ~hole)
    kernels = ("_patch_match", "_improve", "_try", "_cost", "_vote", "_hash")
    originals = {name: getattr(patchfill, name) for name in kernels}
    try:
        for name in kernels:
            setattr(patchfill, name, originals[name].py_func)
        slow = offset_field(image, hole, ~hole)
    finally:
        for name, kernel in originals.items():
            setattr(patchfill, name, kernel)
    assert np.array_equal(fast, slow)


def test_the_fade_mixes_in_the_nearest_side_for_texels_and_floats():
    image = _texture(60, 80)
    hole = np.zeros((60, 80), bool)
    hole[20:40, 20:60] = True
    texels = np.rint(image * 65535).astype(np.uint16)
    for picture in (image, texels):
        plain = patch_fill(picture, hole, ~hole)
        faded = patch_fill(picture, hole, ~hole, fade_px=6.0)
        assert faded.dtype == picture.dtype and np.array_equal(faded[~hole], picture[~hole])
        assert np.array_equal(faded[30, 40], plain[30, 40])  # 10 px in: copies only
        sides = [picture[19, x] for x in (39, 40, 41)]  # next to the side: a side pixel's colour
        assert any(np.array_equal(faded[20, 40], side) for side in sides)
