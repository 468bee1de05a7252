"""Loading photographs into a :class:`Picture`."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..conventions import DEFAULT_FOCAL_MM
from ..errors import ImageError
from .hashing import sha256_array, sha256_file

_EXIF_IFD = 0x8769
_FOCAL_35MM = 0xA405
_ORIENTATION = 0x0112


_LOG = logging.getLogger("stillcam")


@dataclass(frozen=True, eq=False)
class Picture:
    """A decoded photograph.

    Attributes:
        pixels: (H, W, 3) float32, sRGB-encoded values in [0, 1], upright (EXIF orientation
            applied). Alpha, if the file had one, is dropped.
        bit_depth: bits per channel of the source file (8 or 16).
        focal_mm: 35 mm-equivalent focal length in mm (docs/conventions.md).
        focal_source: where ``focal_mm`` came from: ``"exif"``, ``"user"`` or ``"default"``.
        name: file name or label, for messages and recipes.
        sha256: hash of the source file's bytes (or of the pixels for in-memory pictures).
        colour: the file's colour space and what was done with it, e.g. ``"sRGB (untagged,
            assumed)"``, ``"sRGB IEC61966-2.1 (ICC)"``, ``"Display P3 (ICC) -> sRGB"``.
    """

    pixels: np.ndarray = field(repr=False)
    bit_depth: int
    focal_mm: float
    focal_source: str
    name: str
    sha256: str
    colour: str = "sRGB"

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def picture_from_array(
    pixels: np.ndarray, *, focal_mm: float | None = None, name: str = "<array>"
) -> Picture:
    """Wrap an (H, W, 3) uint8, uint16 or float (in [0, 1]) sRGB array as a :class:`Picture`."""
    array = np.asarray(pixels)
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 2 or array.shape[1] < 2:
        raise ImageError(f"{name}: expected an HxWx3 image of at least 2x2, got shape {array.shape}")
    if array.dtype == np.uint8:
        bits, data = 8, array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        bits, data = 16, array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageError(f"{name}: image has NaN or infinite values")
        bits, data = 16, np.clip(array, 0.0, 1.0).astype(np.float32)
    else:
        raise ImageError(f"{name}: unsupported pixel type {array.dtype}; use uint8, uint16 or float")
    source = "user" if focal_mm is not None else "default"
    return Picture(
        pixels=np.ascontiguousarray(data),
        bit_depth=bits,
        focal_mm=float(focal_mm or DEFAULT_FOCAL_MM),
        focal_source=source,
        name=name,
        sha256=sha256_array(array),
    )


def _exif_info(path: Path) -> tuple[int, float | None, bytes | None]:
    """(orientation 1-8, 35 mm-equivalent focal or None, ICC profile or None) from a file's
    header; checks it decodes."""
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            icc = image.info.get("icc_profile") or None
            if image.width < 1 or image.height < 1:
                raise ImageError(f"{path}: image has zero size; give a non-empty photo")
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not an image, or a damaged or zero-size one; give a JPEG, PNG, TIFF or WebP"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path}: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or malformed headers
        raise ImageError(f"{path}: the image is damaged and cannot be read ({exc})") from None
    orientation = int(exif.get(_ORIENTATION, 1) or 1)
    focal = exif.get_ifd(_EXIF_IFD).get(_FOCAL_35MM)
    focal_mm = float(focal) if focal else None
    return (orientation if 1 <= orientation <= 8 else 1), focal_mm, icc


def to_srgb(array: np.ndarray, icc: bytes | None, name: str) -> tuple[np.ndarray, str]:
    """Bring decoded pixels into sRGB, stillcam's working encoding (docs/conventions.md).

    Untagged files are taken as sRGB. A file whose ICC profile is not sRGB (Display P3,
    Adobe RGB, ...) is converted by LittleCMS (Pillow's ImageCms), relative colorimetric
    intent, colours outside sRGB clipped. 16-bit files with such a profile are kept as they
    are, with a warning: ImageCms converts 8-bit images only, and going through 8 bits would
    throw away what 16 bits are for. Returns the pixels and a description for the recipe.
    """
    if icc is None:
        return array, "sRGB (untagged, assumed)"
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile).strip() or "unnamed profile"
    except (OSError, ImageCms.PyCMSError):
        _LOG.warning("%s: its ICC profile cannot be read; taking the pixels as sRGB", name)
        return array, "sRGB (unreadable ICC profile, assumed)"
    if "srgb" in description.lower():
        return array, f"{description} (ICC)"
    if array.dtype != np.uint8:
        _LOG.warning("%s: 16-bit pixels in %s are used as sRGB (not converted)", name, description)
        return array, f"{description} (ICC), 16-bit, not converted"
    srgb = ImageCms.createProfile("sRGB")
    converted = ImageCms.profileToProfile(
        Image.fromarray(array, "RGB"),
        profile,
        srgb,
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB",
    )
    return np.asarray(converted), f"{description} (ICC) -> sRGB"


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip pixels so that an EXIF ``orientation`` (1-8) image is upright."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1],
    }
    return np.ascontiguousarray(ops[orientation](array)) if orientation in ops else array


def _decode(path: Path) -> np.ndarray:
    """Decode any bit depth as (H, W, 3) RGB uint8/uint16 (cv2 keeps 16 bits, Pillow does not)."""
    data = np.fromfile(path, dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if array is None or array.size == 0:
        raise ImageError(f"{path}: the image data cannot be decoded (corrupt or unsupported file)")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    else:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"{path}: unsupported sample type {array.dtype}; use 8- or 16-bit images")
    return array


def load_image(path: str | Path, *, focal_mm: float | None = None) -> Picture:
    """Load a JPEG, PNG (8/16-bit), TIFF or WebP photo, upright, with its focal length.

    Args:
        path: the photo file.
        focal_mm: 35 mm-equivalent focal length that overrides EXIF. Without it, EXIF
            ``FocalLengthIn35mmFilm`` is used when present, else 50 mm.

    Raises:
        ImageError: missing file, not an image, empty image.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file; check the photo's path")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: file is empty (zero bytes)")
    orientation, exif_focal, icc = _exif_info(path)
    array, colour = to_srgb(_apply_orientation(_decode(path), orientation), icc, path.name)
    picture = picture_from_array(array, focal_mm=focal_mm or exif_focal, name=path.name)
    source = "user" if focal_mm else ("exif" if exif_focal else "default")
    return Picture(
        pixels=picture.pixels,
        bit_depth=picture.bit_depth,
        focal_mm=picture.focal_mm,
        focal_source=source,
        name=path.name,
        sha256=sha256_file(path),
        colour=colour,
    )
