"""Photos are brought into sRGB: ICC profiles honoured (LittleCMS), untagged files assumed sRGB;
what was done is recorded."""

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from helpers import display_p3_icc
from stillcam import load_image
from stillcam.io.image import to_srgb

# Three colours in Display P3 and the same colours in sRGB, computed with the standard
# P3 -> sRGB matrix (linear light, D65) and the sRGB curve; P3's cyan lies outside sRGB (0).
P3 = [[200, 100, 50], [30, 160, 220], [128, 128, 128]]
SRGB = [[215, 93, 31], [0, 163, 226], [128, 128, 128]]


def _photo(path: Path, colours, icc: bytes | None) -> Path:
    array = np.repeat(np.repeat(np.array([colours], np.uint8), 8, 0), 8, 1)
    extra = {"icc_profile": icc} if icc else {}
    Image.fromarray(array).save(path, quality=100, subsampling=0, **extra)
    return path


def test_display_p3_photo_is_converted_to_srgb(tmp_path: Path):
    picture = load_image(_photo(tmp_path / "p3.jpg", P3, display_p3_icc()))
    got = np.rint(picture.pixels[4, 4::8] * 255)
    np.testing.assert_allclose(got, SRGB, atol=2)  # JPEG quality 100 rounding
    assert picture.colour == "Display P3 (test) (ICC) -> sRGB"


def test_srgb_and_untagged_photos_are_kept(tmp_path: Path):
    srgb_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = load_image(_photo(tmp_path / "s.jpg", P3, srgb_icc))
    plain = load_image(_photo(tmp_path / "u.jpg", P3, None))
    np.testing.assert_array_equal(tagged.pixels, plain.pixels)
    assert "sRGB" in tagged.colour and tagged.colour.endswith("(ICC)")
    assert plain.colour == "sRGB (untagged, assumed)"


def test_16_bit_pixels_with_another_profile_are_kept_with_a_warning(caplog):
    pixels = np.full((4, 4, 3), 40000, np.uint16)
    with caplog.at_level(logging.WARNING, logger="stillcam"):
        out, colour = to_srgb(pixels, display_p3_icc(), "deep.png")
    assert out is pixels and colour == "Display P3 (test) (ICC), 16-bit, not converted"
    assert "not converted" in caplog.text


def test_unreadable_profile_is_assumed_srgb_with_a_warning(caplog):
    pixels = np.zeros((4, 4, 3), np.uint8)
    with caplog.at_level(logging.WARNING, logger="stillcam"):
        out, colour = to_srgb(pixels, b"not an icc profile", "bad.jpg")
    assert out is pixels and "unreadable" in colour and "cannot be read" in caplog.text


def test_the_recipe_records_the_photos_colour(tmp_path: Path):
    import json

    from stillcam import RenderOptions, ShotSettings, render

    photo = _photo(tmp_path / "p3.jpg", P3, display_p3_icc())
    np.save(tmp_path / "d.npy", np.full((8, 24), 2.0, np.float32))
    options = RenderOptions(shot=ShotSettings(move="pan(degrees=1)", duration=2 / 24))
    render(photo, tmp_path / "d.npy", tmp_path / "o.####.png", options)
    recipe = json.loads((tmp_path / "o.png.recipe.json").read_text())
    assert recipe["inputs"]["photo"]["colour"] == "Display P3 (test) (ICC) -> sRGB"
