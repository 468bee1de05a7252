from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from stillcam.errors import ImageError
from stillcam.io import load_image


def _gradient(h=6, w=8, dtype=np.uint8):
    peak = np.iinfo(dtype).max
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x / (w - 1), y / (h - 1), np.full_like(x, 0.5, dtype=float)], -1)
    return np.rint(rgb * peak).astype(dtype)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_lossless_formats_round_trip(tmp_path: Path, suffix):
    rgb = _gradient()
    path = tmp_path / f"p{suffix}"
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if suffix == ".webp" else []
    cv2.imwrite(str(path), rgb[..., ::-1], params)
    picture = load_image(path)
    assert picture.pixels.shape == (6, 8, 3) and picture.pixels.dtype == np.float32
    np.testing.assert_allclose(picture.pixels, rgb / 255.0, atol=1e-6)
    assert picture.bit_depth == 8 and picture.focal_mm == 50.0 and picture.focal_source == "default"


def test_16_bit_png_keeps_16_bits(tmp_path: Path):
    rgb = _gradient(dtype=np.uint16)
    rgb[0, 0] = (1, 2, 3)
    path = tmp_path / "p16.png"
    cv2.imwrite(str(path), rgb[..., ::-1])
    picture = load_image(path)
    assert picture.bit_depth == 16
    np.testing.assert_allclose(picture.pixels[0, 0], np.array([1, 2, 3]) / 65535.0, rtol=1e-6)


def test_jpeg_exif_orientation_and_focal(tmp_path: Path):
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = 255  # left half white
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif.get_ifd(0x8769)[0xA405] = 85
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=95)
    picture = load_image(path)
    assert (picture.height, picture.width) == (40, 20)
    # Orientation 6: the stored left edge becomes the top.
    assert picture.pixels[:15].mean() > 0.9 and picture.pixels[-15:].mean() < 0.1
    assert picture.focal_mm == 85.0 and picture.focal_source == "exif"
    assert load_image(path, focal_mm=24).focal_source == "user"


def test_missing_empty_and_non_image_files(tmp_path: Path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "text.jpg").write_text("not a picture")
    with pytest.raises(ImageError, match="not an image"):
        load_image(tmp_path / "text.jpg")


def test_truncated_image_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "cut.png"
    cv2.imwrite(str(path), _gradient(60, 80))
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ImageError):
        load_image(path)
