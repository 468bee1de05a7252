"""What an uploaded file is and how large it decodes, from its header alone (no HTTP here).

A photo or depth file is refused before anything decodes it when its header claims more
pixels than stillcam's input budget (:func:`stillcam.io.limits.check_pixel_budget`, the same
check the loaders make: 100 MP unless ``$STILLCAM_MAX_INPUT_MP`` says otherwise) or more stored
values than :data:`VALUES_PER_PIXEL` times that (413), or when it is not a header of a
supported kind (415): a 24000 x 13500 PNG of a few kilobytes, or a ``.npy`` whose header says
100000 x 100000, never reaches a decoder. Photos then decode completely with Pillow; depth
files are decoded by the render itself.
"""

from __future__ import annotations

import io
import struct
import warnings

from ..errors import RequestError
from ..io.image import bomb_error
from ..io.limits import check_pixel_budget, input_pixel_budget

#: Most stored values (channels) per pixel of the budget an uploaded depth file may have.
VALUES_PER_PIXEL = 4
_PHOTO_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}


class TooLarge(RequestError):
    """An upload over the pixel budget (413)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 413)


def _check_budget(name: str, what: str, width: int, height: int, channels: int = 1) -> tuple[int, int]:
    if width < 1 or height < 1:
        raise RequestError(f"{name}: the {what} is empty ({width} x {height} pixels)", 415)
    check_pixel_budget(name, width, height, what=what, error=TooLarge)
    budget = input_pixel_budget()
    if width * height * channels > VALUES_PER_PIXEL * budget:
        raise TooLarge(
            f"{name}: the {what} is {width}x{height} with {channels} channels, over stillcam's input "
            f"budget of {VALUES_PER_PIXEL} x {budget / 1e6:.0f} M values; keep its depth channel only"
        )
    return width, height


def sniff_photo(photo: bytes, name: str = "photo") -> tuple[str, tuple[int, int]]:
    """(file suffix, (width, height)) of an uploaded photo: its header checked against the
    pixel budget, then decoded completely.

    Raises:
        RequestError: 413 for too many pixels, 415 for what is not a supported image.
    """
    from PIL import Image  # Pillow is a core dependency; imported here to keep start-up light

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the budget decides
        try:
            with Image.open(io.BytesIO(photo)) as image:
                kind, size = image.format, image.size
                if kind not in _PHOTO_SUFFIX:
                    raise RequestError(
                        f"{name}: photo format {kind} is not supported; send JPEG, PNG, TIFF or WebP", 415
                    )
                _check_budget(name, "photo", *size)
                image.load()  # decodes everything: truncated files fail here
        except RequestError:
            raise
        except Image.DecompressionBombError as exc:  # past twice Pillow's limit, refused at open
            raise bomb_error(name, exc, "photo", TooLarge) from None
        except Exception:
            raise RequestError(f"{name}: not an image, or it is damaged or truncated", 415) from None
    return _PHOTO_SUFFIX[kind], size


def _png_size(data: bytes, name: str) -> tuple[int, int, int]:
    if len(data) < 33 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("no PNG header")
    width, height, _, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, _PNG_CHANNELS.get(colour, 4)


def _tiff_size(data: bytes, name: str) -> tuple[int, int, int]:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[offset : offset + 2])
    tags = {}
    for i in range(count):
        entry = data[offset + 2 + 12 * i : offset + 14 + 12 * i]
        tag, kind, _ = struct.unpack(order + "HHI", entry[:8])
        if kind in (3, 4):  # SHORT or LONG, stored in the entry itself
            short = kind == 3
            tags[tag] = struct.unpack(order + ("H" if short else "I"), entry[8 : 10 if short else 12])[0]
    return tags[256], tags[257], tags.get(277, 1)  # ImageWidth, ImageLength, SamplesPerPixel


def _exr_size(data: bytes, name: str) -> tuple[int, int, int]:
    """(width, height, channels) of an EXR from its header; a multi-part file's pixels are
    summed over its parts (as width x 1)."""
    (flags,) = struct.unpack("<I", data[4:8])
    pos, pixels, channels, parts = 8, 0, 1, 0
    while parts < 64:
        attributes = {}
        while True:
            end = data.index(b"\0", pos)
            name = data[pos:end]
            pos = end + 1
            if not name:
                break
            end = data.index(b"\0", pos)
            kind = data[pos:end]
            (size,) = struct.unpack("<i", data[end + 1 : end + 5])
            value = data[end + 5 : end + 5 + size]
            if size < 0 or len(value) != size:
                raise ValueError("truncated EXR header")
            attributes[name] = (kind, value)
            pos = end + 5 + size
        if b"dataWindow" not in attributes:
            raise ValueError("EXR header without a dataWindow")
        x0, y0, x1, y1 = struct.unpack("<iiii", attributes[b"dataWindow"][1][:16])
        pixels += max(0, x1 - x0 + 1) * max(0, y1 - y0 + 1)
        channels = max(channels, _exr_channels(attributes.get(b"channels", (b"", b"\0"))[1]))
        parts += 1
        if not flags & 0x1000 or data[pos : pos + 1] == b"\0":  # single part, or the last part
            return (x1 - x0 + 1, y1 - y0 + 1, channels) if parts == 1 else (pixels, 1, channels)
    raise ValueError("too many EXR parts")


def _exr_channels(chlist: bytes) -> int:
    """Channels in an EXR ``chlist`` value: (name, NUL, 16 bytes) each, then a NUL."""
    count, pos = 0, 0
    while chlist[pos : pos + 1] not in (b"", b"\0"):
        pos = chlist.index(b"\0", pos) + 17
        count += 1
    return count


def _npy_size(data: bytes, name: str) -> tuple[int, int, int]:
    from numpy.lib import format as npy

    buffer = io.BytesIO(data)
    version = npy.read_magic(buffer)
    reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    shape, _, dtype = reader(buffer)
    if dtype.fields is not None or dtype.kind not in "iuf" or dtype.hasobject:
        raise RequestError(f"{name}: the depth .npy holds {dtype}; send integers or floats", 415)
    if len(shape) not in (2, 3):
        raise RequestError(f"{name}: the depth .npy has shape {shape}; send an (H, W) map", 415)
    channels = shape[2] if len(shape) == 3 else 1
    if channels < 1:
        raise RequestError(f"{name}: the depth .npy has shape {shape}, no channel to read", 415)
    _check_budget(name, "depth map", shape[1], shape[0], channels)
    if len(data) - buffer.tell() < shape[0] * shape[1] * channels * dtype.itemsize:
        raise RequestError(f"{name}: the depth .npy is truncated (its header says shape {shape})", 415)
    return shape[1], shape[0], channels


_DEPTH_KINDS = {
    b"\x76\x2f\x31\x01": (".exr", _exr_size),
    b"\x89PNG": (".png", _png_size),
    b"II*\x00": (".tif", _tiff_size),
    b"MM\x00*": (".tif", _tiff_size),
    b"\x93NUM": (".npy", _npy_size),
}


def sniff_depth(depth: bytes, name: str = "depth file") -> tuple[str, tuple[int, int]]:
    """(file suffix, (width, height)) of an uploaded depth file, from its header: EXR, PNG,
    TIFF or ``.npy`` (415 otherwise, or for a damaged header), within the pixel budget (413).

    A multi-part EXR's size is reported as (pixels of all its parts, 1).
    """
    kind = _DEPTH_KINDS.get(depth[:4])
    if kind is None:
        raise RequestError(f"{name}: the depth file is not EXR, PNG, TIFF or .npy", 415)
    suffix, size_of = kind
    try:
        width, height, channels = size_of(depth, name)
    except RequestError:
        raise
    except (ValueError, KeyError, IndexError, struct.error, SyntaxError, TypeError, MemoryError):
        what = suffix[1:].upper()
        raise RequestError(f"{name}: the depth file's {what} header is damaged or truncated", 415) from None
    return suffix, _check_budget(name, "depth map", width, height, channels)
