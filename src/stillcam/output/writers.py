"""Frame sinks: an H.264 video (PyAV) and numbered PNG sequences; both write-then-rename.

Nothing is ever written under a final name until the whole output is complete: videos are
encoded to a hidden partial file beside the target and renamed; sequences are written into a
hidden partial folder beside the target and their frames moved into place at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np
from numba import njit, prange

from ..errors import InputError, OutputError
from ..render.frame import Frame
from .targets import OutputTarget


@dataclass(frozen=True)
class OutputSettings:
    """How frames are encoded. Field docs become ``--help`` text."""

    bit_depth: Literal[8, 16] = field(
        default=8, metadata={"help": "bits per channel of PNG frames (8 or 16); video is 8-bit"}
    )
    crf: int = field(default=16, metadata={"help": "H.264 constant rate factor (0 = lossless, 51 = worst)"})
    preset: str = field(default="veryfast", metadata={"help": "x264 speed preset"})
    encoder_threads: int = field(
        default=4,
        metadata={"help": "x264 threads; fixed (not auto) so re-renders are bit-identical on any machine"},
    )
    matte: tuple[float, float, float] = field(
        default=(0.0, 0.0, 0.0),
        metadata={"help": "R,G,B in [0,1] shown where the camera sees no scene (holes)"},
    )


@njit(parallel=True, cache=True, nogil=True)
def _compose(rgb, alpha, matte, scale, out):  # pragma: no cover - numba
    h, w = alpha.shape
    for y in prange(h):
        for x in range(w):
            rest = 1.0 - alpha[y, x]
            for c in range(3):
                value = rgb[y, x, c] + rest * matte[c]
                value = min(max(value, 0.0), 1.0) * scale
                out[y, x, c] = np.rint(value)


def to_display(frame: Frame, matte: tuple[float, float, float], bit_depth: int) -> np.ndarray:
    """Composite a premultiplied frame over ``matte`` and quantise (round to nearest).

    Returns (H, W, 3) uint8 (``bit_depth`` 8) or uint16 (16). One parallel pass: at UHD the
    numpy expression took ~1.3 s per frame here, this takes a few ms.
    """
    h, w = frame.alpha.shape
    out = np.empty((h, w, 3), np.uint8 if bit_depth == 8 else np.uint16)
    scale = np.float32(255.0 if bit_depth == 8 else 65535.0)
    _compose(frame.rgb, frame.alpha, np.asarray(matte, np.float32), scale, out)
    return out


class FrameSink(Protocol):
    def write(self, image: np.ndarray) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


def publish(tmp: Path, final: Path) -> None:
    """Rename a finished temporary file to its final name, with the umask's usual permissions.

    (``tempfile.mkstemp`` creates files readable by the owner only; outputs must not be.)
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)


def write_bytes_atomic(path: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file renamed into place; on
    failure no file is left behind and :class:`OutputError` names ``what`` was being written."""
    tmp: Path | None = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        publish(tmp, path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write {what} ({exc.strerror})") from None


def write_text_atomic(path: Path, text: str, what: str) -> None:
    """:func:`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"), what)


def _check_destination(path: Path, overwrite: bool) -> None:
    if not path.parent.exists():
        raise OutputError(f"{path.parent}: output folder does not exist; create it first")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; pass --overwrite to replace it")
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path.parent}: folder is not writable; choose another output path")


class VideoSink:
    """H.264 yuv420p in MP4/MOV with BT.709 primaries/transfer/matrix, limited range."""

    def __init__(
        self, path: Path, width: int, height: int, fps: Fraction, settings: OutputSettings, *, overwrite: bool
    ) -> None:
        import av
        from av.video.reformatter import ColorRange, Colorspace, Interpolation

        if width % 2 or height % 2:
            raise InputError(f"video size {width}x{height} must be even for yuv420p; pick an even size")
        _check_destination(path, overwrite)
        self._path = path
        handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.partial-", suffix=path.suffix, dir=path.parent)
        os.close(handle)
        self._tmp = Path(tmp)
        self._container = av.open(str(self._tmp), "w", format=path.suffix[1:].lower())
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, 1) / fps
        context = stream.codec_context
        context.thread_count = settings.encoder_threads
        context.options = {"crf": str(settings.crf), "preset": settings.preset}
        context.color_primaries, context.color_trc, context.colorspace = 1, 1, 1  # BT.709
        context.color_range = 1  # limited ("MPEG")
        self._stream = stream
        self._reformat = dict(
            format="yuv420p",
            src_colorspace=Colorspace.ITU709,
            dst_colorspace=Colorspace.ITU709,
            src_color_range=ColorRange.JPEG,
            dst_color_range=ColorRange.MPEG,
            dst_color_trc=1,
            dst_color_primaries=1,
            interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.BITEXACT,
        )
        self._index = 0

    def write(self, image: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(**self._reformat)
        frame.pts = self._index
        self._index += 1
        self._container.mux(self._stream.encode(frame))

    def commit(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()
        publish(self._tmp, self._path)

    def abort(self) -> None:
        try:
            self._container.close()
        except Exception:
            pass
        self._tmp.unlink(missing_ok=True)


class SequenceSink:
    """Numbered 8- or 16-bit PNG frames, written in a hidden folder and moved in at the end."""

    def __init__(
        self, target: OutputTarget, first_frame: int, count: int, settings: OutputSettings, *, overwrite: bool
    ) -> None:
        self._target = target
        self._numbers = list(range(first_frame, first_frame + count))
        for number in self._numbers:
            _check_destination(target.frame_path(number), overwrite)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{target.path.stem}.partial-", dir=target.path.parent))
        self._index = 0
        self._bit_depth = settings.bit_depth

    def write(self, image: np.ndarray) -> None:
        name = self._target.frame_path(self._numbers[self._index]).name
        self._index += 1
        bgr = np.ascontiguousarray(image[..., ::-1])
        if not cv2.imwrite(str(self._tmp / name), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
            raise OutputError(f"{self._tmp / name}: PNG could not be written (disk full?)")

    def commit(self) -> None:
        for number in self._numbers[: self._index]:
            final = self._target.frame_path(number)
            os.replace(self._tmp / final.name, final)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


def _check_settings(settings: OutputSettings) -> None:
    if settings.bit_depth not in (8, 16):
        raise InputError(f"--bit-depth must be 8 or 16, got {settings.bit_depth}")
    if not 0 <= settings.crf <= 51:
        raise InputError(f"--crf must be 0..51, got {settings.crf}")
    if settings.preset not in X264_PRESETS:
        raise InputError(f"--preset {settings.preset!r}: choose one of {', '.join(X264_PRESETS)}")
    if not 1 <= settings.encoder_threads <= 64:
        raise InputError(f"--encoder-threads must be 1..64, got {settings.encoder_threads}")
    if len(settings.matte) != 3 or not all(0.0 <= v <= 1.0 for v in settings.matte):
        raise InputError(f"--matte must be three values in [0, 1], got {settings.matte}")


def open_sink(
    target: OutputTarget,
    width: int,
    height: int,
    fps: Fraction,
    first_frame: int,
    count: int,
    settings: OutputSettings,
    *,
    overwrite: bool,
) -> FrameSink:
    """A :class:`FrameSink` for ``target``; checks the destination before any rendering."""
    _check_settings(settings)
    if target.kind == "video":
        if settings.bit_depth != 8:
            raise InputError("H.264 video is 8-bit; use --bit-depth 8 or a PNG sequence for 16-bit")
        return VideoSink(target.path, width, height, fps, settings, overwrite=overwrite)
    return SequenceSink(target, first_frame, count, settings, overwrite=overwrite)
