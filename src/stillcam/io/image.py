"""Loading photographs into a :class:`Picture`."""

from __future__ import annotations

import io
import logging
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..conventions import DEFAULT_FOCAL_MM
from ..errors import ImageError, StillcamError
from .hashing import sha256_array, sha256_file
from .limits import check_memory, check_pixel_budget, input_pixel_budget, one_line, quiet_native

_EXIF_IFD = 0x8769
_FOCAL_35MM = 0xA405
_ORIENTATION = 0x0112


_LOG = logging.getLogger("stillcam")

#: What a decoder that still returned pixels says about a damaged file (libjpeg, libpng, libtiff).
_DAMAGE = re.compile(r"corrupt|premature|truncat|error|invalid|bad ", re.IGNORECASE)
#: ... and that its data ended early: the rest of the photo would be grey, so it is refused.
_TRUNCATED = re.compile(r"premature end|truncat", re.IGNORECASE)

#: Peak bytes per pixel of loading a photo: the decoded samples (up to 16 bits, alpha), the
#: RGB copy, the orientation copy and the float32 pixels (measured with tracemalloc: 18 for
#: 8-bit RGB, 24 for 16-bit RGBA).
PHOTO_BYTES_PER_PIXEL = 28


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
        bits, data = 8, _scaled(array, 255.0)
    elif array.dtype == np.uint16:
        bits, data = 16, _scaled(array, 65535.0)
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


def open_header(path: Path) -> Image.Image:
    """Open ``path`` with Pillow, which reads the header only (size, mode, EXIF, ICC), never
    the pixel data. Past Pillow's own decompression-bomb limit the header is still read (by
    the format's plug-in), so that stillcam's pixel budget decides and says what to do.

    Raises:
        UnidentifiedImageError, OSError, SyntaxError, ValueError: as :func:`PIL.Image.open`.
    """
    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        pass  # past Pillow's limit when it opened: read the header by the plug-in, below
    Image.init()
    with open(path, "rb") as file:
        prefix = file.read(16)
    for name in Image.ID:
        factory, accept = Image.OPEN[name]
        if accept is not None and not accept(prefix):
            continue
        try:
            return factory(path, str(path))  # type: ignore[arg-type]
        except Image.DecompressionBombError:
            raise  # the plug-in checks the size itself (WebP, GIF): :func:`bomb_error` says it
        except (SyntaxError, IndexError, TypeError, ValueError, OSError):
            continue
    raise UnidentifiedImageError(f"cannot identify image file {str(path)!r}")


def bomb_error(path: Path, exc: Exception, what: str, error: type[StillcamError]) -> StillcamError:
    """The pixel-budget error for an image whose format plug-in refused its size itself
    (Pillow's ``DecompressionBombError`` gives the pixel count, not the sides)."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = int(found.group(1)) if found else 0
    budget = input_pixel_budget()
    factor = math.sqrt(pixels / budget) if pixels > budget else 2.0
    size = f"{pixels / 1e6:.0f} MP" if pixels else "larger than Pillow's limit"
    return error(
        f"{path}: the {what} is {size}, over stillcam's input budget of {budget / 1e6:.0f} MP; "
        f"downscale it by {math.ceil(factor * 10) / 10:g}x on each side"
    )


def _scaled(codes: np.ndarray, top: float) -> np.ndarray:
    """``codes / top`` as float32, divided in place (one float32 copy; the values of ``/ top``)."""
    data = codes.astype(np.float32)
    np.divide(data, np.float32(top), out=data)
    return data


def _exif_info(path: Path) -> tuple[int, float | None, bytes | None]:
    """(orientation 1-8, 35 mm-equivalent focal or None, ICC profile or None) from a file's
    header; checks its size against the pixel budget and the free memory before any decoding."""
    try:
        with quiet_native(), open_header(path) as image:
            icc = image.info.get("icc_profile") or None
            width, height = image.size
            if width < 1 or height < 1:
                raise ImageError(f"{path}: image has zero size; give a non-empty photo")
            check_pixel_budget(
                path, width, height, what="photo", error=ImageError, bytes_per_pixel=PHOTO_BYTES_PER_PIXEL
            )
            check_memory(
                width * height * PHOTO_BYTES_PER_PIXEL + path.stat().st_size,
                what=f"{path}: decoding the {width}x{height} photo",
                advice="downscale the photo or close other programs",
                error=ImageError,
            )
            # Pillow's PNG getexif() decodes the whole image to look past IDAT: use an eXIf
            # chunk read with the header, if any (the PNG extensions put it before IDAT).
            png = image.format == "PNG"
            exif = image.getexif() if not png or "exif" in image.info else Image.Exif()
            orientation = _number(exif.get(_ORIENTATION)) or 1.0
            focal_mm = _number(exif.get_ifd(_EXIF_IFD).get(_FOCAL_35MM))
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not an image, or a damaged or zero-size one; give a JPEG, PNG, TIFF or WebP"
        ) from None
    except Image.DecompressionBombError as exc:
        raise bomb_error(path, exc, "photo", ImageError) from None
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, struct.error) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(
            f"{path}: the image's header is damaged and cannot be read ({one_line(exc, 120)}); "
            "re-export or re-copy the photo"
        ) from None
    if focal_mm is not None and not 0.0 < focal_mm < 1e5:
        focal_mm = None  # a damaged or absurd EXIF focal length is no focal length
    return (int(orientation) if orientation in range(1, 9) else 1), focal_mm, icc


def _number(value: object) -> float | None:
    """An EXIF value as a finite float, or None (missing, damaged, 0/0 rationals)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


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
    try:
        converted = ImageCms.profileToProfile(
            Image.fromarray(array, "RGB"),
            profile,
            srgb,
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            outputMode="RGB",
        )
    except (OSError, ValueError, ImageCms.PyCMSError):  # e.g. a CMYK or grey profile on RGB pixels
        _LOG.warning("%s: its ICC profile (%s) does not fit; pixels used as sRGB", name, description)
        return array, f"sRGB ({description} ICC unusable, assumed)"
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


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png_chunks(path: Path, data: bytes | np.ndarray, error: type[StillcamError]) -> None:
    """Refuse a PNG whose chunks claim more bytes than the file holds, before a decoder
    reserves what they claim (OpenCV's reserves a 4 GB buffer for a 300-byte file whose IDAT
    length reads 0xFFFF01EB). Walks the chunk headers only; other files pass as they are."""
    view = memoryview(data).cast("B") if isinstance(data, np.ndarray) else memoryview(data)
    if bytes(view[:8]) != _PNG_SIGNATURE:
        return
    at, size = 8, len(view)
    while at + 8 <= size:
        length, kind = struct.unpack(">I4s", view[at : at + 8])
        if length + 12 > size - at:
            name = f"its {kind.decode('ascii')!r} chunk" if kind.isalpha() else "a damaged chunk"
            raise error(
                f"{path}: damaged or truncated PNG: {name} needs {length + 12} bytes, "
                f"the file has {size - at} left; re-export or re-copy it"
            )
        if kind == b"IEND":
            return
        at += 12 + length


def _decode(path: Path) -> np.ndarray:
    """Decode any bit depth as (H, W, 3) RGB uint8/uint16 (cv2 keeps 16 bits, Pillow does not)."""
    data = np.fromfile(path, dtype=np.uint8)
    check_png_chunks(path, data, ImageError)
    try:
        with quiet_native() as said:
            array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode the photo; downscale it") from None
    except cv2.error as exc:
        raise ImageError(
            f"{path}: the image data cannot be decoded ({_cv2_reason(exc)}); re-export or re-copy the photo"
        ) from None
    if array is None or array.size == 0:
        detail = f": {said}" if said.text else ""
        raise ImageError(
            f"{path}: the image data cannot be decoded (damaged, truncated or unsupported{detail}); "
            "re-export or re-copy the photo"
        )
    if _TRUNCATED.search(said.text):
        raise ImageError(
            f"{path}: the image data ends early, the file is truncated ({said}); "
            "re-export or re-copy the photo"
        )
    if _DAMAGE.search(said.text):
        _LOG.warning("%s: the decoder reported damage (%s); the photo may show glitches", path.name, said)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    elif array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    elif array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    else:
        raise ImageError(f"{path}: {array.shape[2]} colour channels; give an RGB or grey photo")
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"{path}: unsupported sample type {array.dtype}; use 8- or 16-bit images")
    return array


def _cv2_reason(exc: Exception) -> str:
    """The useful part of an OpenCV error (its assertion text, without source paths)."""
    text = one_line(exc, 400)
    if "(-215:Assertion failed)" in text:
        text = text.split("(-215:Assertion failed)", 1)[1].split(" in function ")[0]
    return one_line(text, 120)


def check_image_file(path: str | Path) -> Path:
    """The cheap checks of a photo, before any model or decoding: it exists and is a file.

    Raises:
        ImageError: no such file, or a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: is a folder; give the photo's file")
    if not path.is_file():
        raise ImageError(f"{path}: no such file; check the photo's path")
    return path


def load_image(path: str | Path, *, focal_mm: float | None = None) -> Picture:
    """Load a JPEG, PNG (8/16-bit), TIFF or WebP photo, upright, with its focal length.

    Args:
        path: the photo file.
        focal_mm: 35 mm-equivalent focal length that overrides EXIF. Without it, EXIF
            ``FocalLengthIn35mmFilm`` is used when present, else 50 mm.

    Raises:
        ImageError: missing file, not an image, empty image, damaged or truncated file,
            over the pixel budget (:mod:`stillcam.io.limits`) or the free memory.
    """
    path = check_image_file(path)
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: file is empty (zero bytes); give a non-empty photo")
    orientation, exif_focal, icc = _exif_info(path)  # header only: size checked before decoding
    decoded = _decode(path)
    check_pixel_budget(path, decoded.shape[1], decoded.shape[0], what="photo", error=ImageError)
    array, colour = to_srgb(_apply_orientation(decoded, orientation), icc, path.name)
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
