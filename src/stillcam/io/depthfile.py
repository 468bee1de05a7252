"""Reading depth-like maps from files (values are interpreted later, in ``stillcam.depth``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import DepthError
from .hashing import sha256_file

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


def _read_exr(path: Path) -> np.ndarray:
    try:
        import OpenEXR
    except ImportError:  # pragma: no cover - OpenEXR is a core dependency
        raise DepthError("reading EXR needs the OpenEXR package: pip install OpenEXR") from None
    try:
        with OpenEXR.File(str(path), separate_channels=True) as exr:
            # Copy out inside the context: the binding empties the dict when the file closes.
            channels = {name: np.array(ch.pixels) for name, ch in exr.channels().items()}
    except Exception as exc:  # OpenEXR raises plain RuntimeError/OSError
        raise DepthError(f"{path}: cannot read EXR ({exc})") from None
    by_leaf = {name.split(".")[-1]: name for name in channels}
    for wanted in EXR_CHANNELS:
        for candidate in (wanted, wanted.lower(), wanted.upper()):
            name = candidate if candidate in channels else by_leaf.get(candidate)
            if name is not None:
                return np.asarray(channels[name], dtype=np.float32)
    raise DepthError(
        f"{path}: EXR has none of the channels {', '.join(EXR_CHANNELS)} "
        f"(it has {', '.join(sorted(channels))}); rename the depth channel to Z"
    )


def _read_raster(path: Path) -> np.ndarray:
    array = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.size == 0:
        raise DepthError(f"{path}: not a readable depth image (PNG, TIFF, EXR or .npy)")
    if array.ndim == 3:
        array = array[:, :, 0] if array.shape[2] in (1, 3, 4) else array
    return array


def read_depth_file(path: str | Path) -> RawDepth:
    """Read a depth-like map: EXR (first of Z/depth/Y/R), PNG/TIFF 8/16-bit, float TIFF, .npy.

    Multi-channel rasters use their first channel.

    Raises:
        DepthError: missing or unreadable file, not 2-D, empty.
    """
    path = Path(path)
    if not path.is_file():
        raise DepthError(f"{path}: no such depth file; check the --depth path")
    suffix = path.suffix.lower()
    if suffix == ".exr":
        array = _read_exr(path)
    elif suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DepthError(f"{path}: cannot read .npy ({exc})") from None
        array = array[:, :, 0] if array.ndim == 3 else array
    else:
        array = _read_raster(path)
    if array.ndim != 2 or min(array.shape) < 2:
        raise DepthError(f"{path}: depth must be a 2-D map of at least 2x2, got shape {array.shape}")
    integer = np.issubdtype(array.dtype, np.integer)
    max_code = int(np.iinfo(array.dtype).max) if integer else 0
    return RawDepth(
        values=np.ascontiguousarray(array, dtype=np.float32),
        integer=bool(integer),
        max_code=max_code,
        name=path.name,
        sha256=sha256_file(path),
    )
