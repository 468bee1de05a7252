import numpy as np
import pytest

from stillcam.errors import InputError
from stillcam.scene.inpaint import FILLS, get_inpainter, inpaint, outpaint
from stillcam.scene.texture import TEXTURE_MAX, quantize, to_float


def _image():
    y, x = np.mgrid[0:40, 0:60].astype(np.float32)
    return np.stack([x / 60, y / 40, 0.5 + 0 * x], -1).astype(np.float32)


@pytest.mark.parametrize("name", [f for f in FILLS if f != "none"])
def test_known_pixels_stay_and_holes_get_plausible_values(name):
    image = _image()
    known = np.ones((40, 60), bool)
    known[10:20, 20:35] = False
    filled = inpaint(name, np.where(known[..., None], image, 0.0).astype(np.float32), known)
    np.testing.assert_array_equal(filled[known], image[known])
    # A smooth ramp is continued: filled values stay within the surrounding range.
    hole = filled[~known]
    assert hole.min() >= image[5:25, 15:40].min() - 0.02 and hole.max() <= image[5:25, 15:40].max() + 0.02


@pytest.mark.parametrize("name", [f for f in FILLS if f != "none"])
def test_constant_image_fills_with_the_constant(name):
    image = np.full((30, 30, 3), 0.4, np.float32)
    known = np.ones((30, 30), bool)
    known[:, 20:] = False
    # OpenCV's Telea drifts by up to 4/255 on a flat image near the frame border (its
    # gradient term on 8-bit data); the others reproduce the constant to 8-bit precision.
    tolerance = 4.5 / 255 if name == "telea" else 1 / 255
    np.testing.assert_allclose(inpaint(name, image * known[..., None], known), 0.4, atol=tolerance)


def test_outpaint_keeps_the_photo_and_fills_the_ring_at_working_size():
    photo = _image()
    out = outpaint("propagate", photo, 5, 6, 7, 8, extra_rows=3, working_size=32)
    assert out.shape == (40 + 11 + 3, 60 + 15, 3)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out[5:45, 7:67], quantize(photo))
    # Half a step plus float32 round-off:
    np.testing.assert_allclose(to_float(out[5:45, 7:67]), photo, atol=0.6 / TEXTURE_MAX)
    # The ring continues the photo: its blue channel (0.5 everywhere) stays 0.5.
    ring = to_float(out[:51]).copy()
    ring[5:45, 7:67] = np.nan
    np.testing.assert_allclose(ring[..., 2][~np.isnan(ring[..., 2])], 0.5, atol=2 / 255)


def test_unknown_fill_lists_the_known_ones():
    with pytest.raises(InputError, match="telea"):
        get_inpainter("diffusion")


def test_texels_are_lossless_for_8_and_16_bit_photos():
    eight = np.arange(256, dtype=np.float32) / 255
    sixteen = np.arange(65536, dtype=np.float64).astype(np.float32) / 65535
    for values, levels in ((eight, 255), (sixteen, 65535)):
        texels = quantize(values.reshape(-1, 1, 1))
        assert np.array_equal(np.round(to_float(texels).ravel() * levels), np.arange(levels + 1))
