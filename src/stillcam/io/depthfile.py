"""Reading depth-like maps from files (values are interpreted later, in ``stillcam.depth``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..errors import DepthError
from .hashing import sha256_file
from .image import _cv2_reason, bomb_error, check_png_chunks, open_header
from .limits import Captured, check_memory, check_pixel_budget, one_line, quiet_native

#: EXR channels tried in order; the first present one is the depth.
EXR_CHANNELS = ("Z", "depth", "Y", "R")


@dataclass(frozen=True, eq=False)
class RawDepth:
    """A depth-like map as stored in a file, before its kind is interpreted.

    Attributes:
        values: (H, W) float32 raw values. For integer files these are the stored codes
            (0..255 or 0..65535) as floats; for float files the stored floats.
        integer: True when the file stored integer codes (PNG/TIFF 8/16-bit).
        max_code: largest representable code of an integer file (255 or 65535), else 0.
        name: the file name, for messages.
        sha256: hash of the file's bytes.
    """

    values: np.ndarray = field(repr=False)
    integer: bool
    max_code: int
    name: str
    sha256: str


#: Peak bytes per pixel of turning a read map into metres (float32 values, the float64 steps
#: of :func:`stillcam.depth.convert.depth_from_raw`), besides the file's own samples
#: (measured with tracemalloc: 29 in all for a float32 or float64 map).
DEPTH_BYTES_PER_PIXEL = 28
#: Sample kinds a depth map may have: floats, unsigned and signed integers (numpy kind codes).
_NUMERIC_KINDS = "fui"
_REDO = "save it again (16-bit PNG, float TIFF, EXR or numpy.save .npy)"


def _check_size(path: Path, width: int, height: int, sample_bytes: float) -> None:
    """The pixel budget and the memory estimate, from the header, before any pixel is read."""
    check_pixel_budget(
        path,
        width,
        height,
        what="depth map",
        error=DepthError,
        bytes_per_pixel=sample_bytes + DEPTH_BYTES_PER_PIXEL,
    )
    check_memory(
        width * height * (sample_bytes + DEPTH_BYTES_PER_PIXEL),
        what=f"{path}: reading the {width}x{height} depth map",
        advice="downscale the depth map (it is resampled to the photo anyway) or close other programs",
        error=DepthError,
    )


def _library_says(path: Path, said: Captured, exc: BaseException | None = None) -> str:
    """What the library said (its captured output, else the exception), one short line,
    without the file name it repeats."""
    said_text = str(said)  # one line, OpenCV's log prefixes dropped
    text = said_text.split("Warning: Exception")[0].strip() if said_text else ""
    text = text or (str(exc) if exc is not None else "")
    return one_line(text.replace(f"{path}: ", "").replace(str(path), path.name), 160)


def _exr_size(header: dict[str, Any]) -> tuple[int, int, int]:
    """(width, height, channels) of an EXR part from its header's data window."""
    low, high = header["dataWindow"]
    width, height = int(high[0]) - int(low[0]) + 1, int(high[1]) - int(low[1]) + 1
    return width, height, len(header.get("channels") or ())


def _read_exr(path: Path) -> np.ndarray:
    try:
        import OpenEXR
    except ImportError:  # pragma: no cover - OpenEXR is a core dependency
        raise DepthError("reading EXR needs the OpenEXR package: pip install OpenEXR") from None
    said = Captured()
    try:
        with quiet_native() as said, OpenEXR.File(str(path), header_only=True) as exr:
            width, height, count = _exr_size(exr.header())
    except Exception as exc:  # OpenEXR raises plain RuntimeError/OSError, UnicodeDecodeError
        raise DepthError(
            f"{path}: not a readable EXR: its header is damaged, truncated or not EXR "
            f"({_library_says(path, said, exc)}); re-export it from the renderer, or {_REDO}"
        ) from None
    if width < 1 or height < 1:
        raise DepthError(f"{path}: the EXR's data window is {width}x{height}, empty; re-export it")
    _check_size(path, width, height, 4.0 * max(1, count))
    try:
        with quiet_native() as said, OpenEXR.File(str(path), separate_channels=True) as exr:
            # Copy out inside the context: the binding empties the dict when the file closes.
            channels = {name: np.array(ch.pixels) for name, ch in exr.channels().items()}
    except MemoryError:
        raise DepthError(f"{path}: not enough memory to read the EXR; downscale it") from None
    except Exception as exc:  # "Invalid part index '0': file has 0 parts": the pixels did not decode
        raise DepthError(
            f"{path}: the EXR's pixel data is damaged or truncated ({_library_says(path, said, exc)}); "
            f"re-export it from the renderer, or {_REDO}"
        ) from None
    by_leaf = {name.split(".")[-1]: name for name in channels}
    for wanted in EXR_CHANNELS:
        for candidate in (wanted, wanted.lower(), wanted.upper()):
            name = candidate if candidate in channels else by_leaf.get(candidate)
            if name is not None:
                return channels[name]
    raise DepthError(
        f"{path}: EXR has none of the channels {', '.join(EXR_CHANNELS)} "
        f"(it has {', '.join(sorted(channels)) or 'none'}); rename the depth channel to Z"
    )


def _tiff_size(path: Path) -> tuple[int, int, float] | None:
    """(width, height, bytes per pixel) from a TIFF's first directory (the float and
    multi-channel TIFFs Pillow cannot open), or None when it is not a readable TIFF."""
    from PIL import TiffImagePlugin

    try:
        with quiet_native(), open(path, "rb") as file:
            prefix = file.read(8)
            if prefix[:4] not in (b"II*\x00", b"MM\x00*"):
                return None
            directory = TiffImagePlugin.ImageFileDirectory_v2(prefix)
            file.seek(directory.next)
            directory.load(file)
            width, height = int(directory[256]), int(directory[257])  # tags decode when read
            samples = int(directory.get(277, 1))
            bits = directory.get(258, (8,))
            bits = sum(int(b) for b in bits) if isinstance(bits, tuple) else int(bits) * samples
    except Exception:  # a damaged directory: cv2 decides (and says so)
        return None
    return width, height, max(bits, 8) / 8


def _raster_size(path: Path) -> tuple[int, int, float] | None:
    """(width, height, bytes per pixel) of a PNG/TIFF/... from its header, or None."""
    try:
        with quiet_native(), open_header(path) as image:
            width, height = image.size
            bands = len(image.getbands())
    except Image.DecompressionBombError as exc:  # raised by a format plug-in itself (WebP, GIF)
        raise bomb_error(path, exc, "depth map", DepthError) from None
    except Exception:  # not a format Pillow knows (float RGB TIFF, HDR): try the TIFF directory
        return _tiff_size(path)
    return width, height, 4.0 * bands


def _read_raster(path: Path) -> np.ndarray:
    size = _raster_size(path)
    if size is not None:
        _check_size(path, size[0], size[1], size[2])
    said = Captured()
    try:
        data = np.fromfile(path, dtype=np.uint8)
        check_png_chunks(path, data, DepthError)
        with quiet_native() as said:
            array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except MemoryError:
        raise DepthError(f"{path}: not enough memory to decode the depth image; downscale it") from None
    except cv2.error as exc:
        raise DepthError(f"{path}: the depth image cannot be decoded ({_cv2_reason(exc)}); {_REDO}") from None
    if array is None or array.size == 0:
        detail = f": {_library_says(path, said)}" if said.text else ""
        raise DepthError(
            f"{path}: not a readable depth image (damaged, truncated, or not PNG, TIFF, EXR or .npy"
            f"{detail}); {_REDO}"
        )
    return array


def _read_npy(path: Path) -> np.ndarray:
    """A ``.npy`` array, its header checked first: dtype, shape, pixel budget, length."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as file:
            version = fmt.read_magic(file)
            if version == (1, 0):
                shape, _fortran, dtype = fmt.read_array_header_1_0(file)
            elif version == (2, 0):
                shape, _fortran, dtype = fmt.read_array_header_2_0(file)
            else:
                raise ValueError(
                    f"format version {version[0]}.{version[1]} (only 1.0 and 2.0 hold plain arrays)"
                )
            offset = file.tell()
    except Exception as exc:  # ValueError, EOFError, tokenize.TokenError, ...: numpy's header parser
        raise DepthError(
            f"{path}: not a .npy file, or its header is damaged ({one_line(exc, 120)}); "
            "save it with numpy.save"
        ) from None
    _check_dtype(path, dtype)
    if len(shape) not in (2, 3) or any(side < 1 for side in shape):
        raise DepthError(
            f"{path}: depth must be a 2-D map (H, W) or (H, W, channels), got shape {tuple(shape)}"
        )
    height, width = shape[0], shape[1]
    channels = shape[2] if len(shape) == 3 else 1
    _check_size(path, width, height, float(dtype.itemsize * channels))
    expected = offset + math.prod(shape) * dtype.itemsize
    actual = path.stat().st_size
    if actual < expected:
        raise DepthError(
            f"{path}: truncated: its header says {'x'.join(map(str, shape))} {dtype} "
            f"({expected} bytes) but the file has {actual}; save it again"
        )
    try:
        return np.load(path, allow_pickle=False)
    except MemoryError:
        raise DepthError(f"{path}: not enough memory to read the .npy; downscale it") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DepthError(
            f"{path}: cannot read .npy ({one_line(exc, 120)}); save it with numpy.save"
        ) from None


def _check_dtype(path: Path, dtype: np.dtype) -> None:
    """Refuse sample types that are not depth: bool, complex, structured, object, text, dates."""
    if dtype.kind in _NUMERIC_KINDS and dtype.fields is None and dtype.subdtype is None:
        return
    kind = {
        "b": "bool (a mask?)",
        "c": "complex",
        "O": "object",
        "V": "structured",
        "U": "text",
        "S": "bytes",
    }
    raise DepthError(
        f"{path}: depth samples are {kind.get(dtype.kind, 'of type')} {dtype.str!r}, not numbers; "
        "save real-valued depth (float32, or uint16 codes)"
    )


def _first_channel(path: Path, array: np.ndarray) -> np.ndarray:
    """The map's first channel: a (H, W) view of an (H, W, C) array."""
    if array.ndim == 3:
        if array.shape[2] < 1:
            raise DepthError(f"{path}: depth map has no channels (shape {array.shape}); {_REDO}")
        return array[:, :, 0]
    return array


def _as_float32(path: Path, array: np.ndarray) -> np.ndarray:
    """The samples as contiguous float32; numbers past float32's range are refused by name."""
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.ascontiguousarray(array, dtype=np.float32)
    if array.dtype.kind == "f" and array.dtype.itemsize > 4 and not np.isfinite(values).all():
        overflow = np.isinf(values) & np.isfinite(array)
        if overflow.any():
            largest = float(np.abs(array[np.isfinite(array)]).max())
            raise DepthError(
                f"{path}: {int(overflow.sum())} depth values are beyond float32's range "
                f"(up to {largest:.3g}); give depth in metres (or scale it) and mark unknown depth as NaN"
            )
    return values


def read_depth_file(path: str | Path) -> RawDepth:
    """Read a depth-like map: EXR (first of Z/depth/Y/R), PNG/TIFF 8/16-bit, float TIFF, .npy.

    Multi-channel rasters use their first channel. Every format's header is read first and
    its size checked against the pixel budget and the free memory
    (:mod:`stillcam.io.limits`) before any pixel data is decoded.

    Raises:
        DepthError: missing, empty, damaged or truncated file; not a 2-D map of at least 2x2;
            samples that are not real numbers (bool, complex, structured, object); over the
            pixel budget or the free memory.
    """
    path = Path(path)
    if path.is_dir():
        raise DepthError(f"{path}: is a folder; give the depth map's file to --depth")
    if not path.is_file():
        raise DepthError(f"{path}: no such depth file; check the --depth path")
    if path.stat().st_size == 0:
        raise DepthError(f"{path}: file is empty (zero bytes); give a depth map to --depth")
    suffix = path.suffix.lower()
    if suffix == ".exr":
        array = _read_exr(path)
    elif suffix == ".npy":
        array = _read_npy(path)
    else:
        array = _read_raster(path)
    _check_dtype(path, array.dtype)
    array = _first_channel(path, array)
    if array.ndim != 2 or min(array.shape) < 2:
        raise DepthError(f"{path}: depth must be a 2-D map of at least 2x2, got shape {array.shape}")
    check_pixel_budget(path, array.shape[1], array.shape[0], what="depth map", error=DepthError)
    integer = np.issubdtype(array.dtype, np.integer)
    max_code = int(np.iinfo(array.dtype).max) if integer else 0
    return RawDepth(
        values=_as_float32(path, array),
        integer=bool(integer),
        max_code=max_code,
        name=path.name,
        sha256=sha256_file(path),
    )
