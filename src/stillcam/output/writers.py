"""Frame sinks: a video in a delivery codec (PyAV) and numbered PNG sequences; both
write-then-rename.

Nothing is ever written under a final name until the whole output is complete: a sink writes
into a hidden partial folder beside the target (:func:`stillcam.io.files.make_partial`: named
after the output and the process, so a killed render's is found and removed by the next), and
:meth:`FrameSink.finish` hands its files to :func:`stillcam.io.files.publish_all`, which moves
them into place with the other files of the render (passes, recipe), all checked first. A
sequence re-rendered with ``overwrite`` keeps no frame of the old render: the frames of the
same sequence that the new one does not write are removed once it is published.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
from numba import njit, prange

from ..bounds import check_fields
from ..errors import InputError, OutputError
from ..io.files import (
    check_destination,
    check_name,
    make_partial,
    publish_all,
)
from ..render.frame import Frame, compose_row, unpremultiplied
from .burnin import parse_guides
from .codecs import CodecName, VideoCodec, check_timecode, stream_pix_fmt, video_codec
from .colour import OutputColourspace
from .targets import OutputTarget


@dataclass(frozen=True)
class OutputSettings:
    """How frames are encoded. Field docs become ``--help`` text."""

    bit_depth: Literal[8, 16] = field(
        default=8,
        metadata={
            "help": "bits per channel of the frames given to PNG or to a 10-bit/lossless codec (8 or 16)"
        },
    )
    codec: CodecName = field(
        default="h264",
        metadata={
            "help": "video codec: h264 (review copy, .mp4/.mov), h265 (10-bit), prores-422hq and "
            "prores-4444 (with alpha) and dnxhr-hq (.mov), ffv1 (lossless RGB, .mkv); "
            "see docs/delivery.md"
        },
    )
    crf: int = field(
        default=16, metadata={"help": "h264/h265 constant rate factor, 0..51 (0 = lossless, 51 = worst)"}
    )
    preset: str = field(default="veryfast", metadata={"help": "x264/x265 speed preset"})
    encoder_threads: int = field(
        default=4,
        metadata={
            "help": "encoder threads, 1..64; fixed (not auto) so re-renders are bit-identical on any machine"
        },
    )
    timecode: str = field(
        default="",
        metadata={"help": "start timecode of a video, HH:MM:SS:FF (e.g. 01:00:00:00); empty = none"},
    )
    exr_compression: Literal["zip", "piz", "htj2k", "none"] = field(
        default="zip",
        metadata={
            "help": "lossless compression of EXR frames: zip (every reader), piz (grainy images), "
            "htj2k (fastest; needs OpenEXR 3.4+ readers) or none"
        },
    )
    output_colorspace: OutputColourspace = field(
        default="lin_rec709",
        metadata={
            "help": "colour space of EXR frames (scene-linear): lin_rec709 (Rec.709/sRGB primaries) "
            "or ACEScg (via OpenColorIO's ACES CG config, extra 'color'); PNG and video stay sRGB/BT.709"
        },
    )
    passes: tuple[str, ...] = field(
        default=(),
        metadata={
            "flag": "--pass",
            "metavar": "NAME",
            "help": "also write a pass beside the output, repeatable: depth (shot.depth.####.exr, "
            "metres) or coverage (shot.coverage.####.png, 255 where the photo's own pixels show, "
            "0 where revealed); docs/delivery.md",
        },
    )
    matte: tuple[float, float, float] = field(
        default=(0.0, 0.0, 0.0),
        metadata={"help": "R,G,B in [0,1] shown where the camera sees no scene (holes)"},
    )
    burn_in: bool = field(
        default=False,
        metadata={
            "help": "burn the shot name, move, lens (and f-stop), frame number and timecode into "
            "every frame of a review copy (h264, h265, PNG); docs/delivery.md"
        },
    )
    guides: str = field(
        default="",
        metadata={
            "metavar": "LIST",
            "help": "frame lines burned into a review copy, comma-separated: aspect ratios "
            "(2.39, 1.85, 4:3) and safe (the SMPTE ST 2046-1 action and title safe areas, 0.93 and "
            "0.90 of the frame), "
            "e.g. 2.39,1.85,safe; empty = none",
        },
    )
    burn_in_anyway: bool = field(
        default=False,
        metadata={
            "help": "allow --burn-in/--guides on the delivery codecs prores-422hq, dnxhr-hq and ffv1 "
            "(never on EXR frames or prores-4444)"
        },
    )

    def __post_init__(self) -> None:
        _check_settings(self)


#: The passes ``--pass`` can add beside an output (:mod:`stillcam.output.passes`).
PASSES: tuple[str, ...] = ("depth", "coverage")


@njit(parallel=True, cache=True, nogil=True)
def _compose(rgb, alpha, matte, scale, out):  # pragma: no cover - numba
    for y in prange(alpha.shape[0]):
        compose_row(rgb[y], alpha[y], matte, scale, out[y])


def display_dtype(bit_depth: int) -> type:
    return np.uint8 if bit_depth == 8 else np.uint16


def display_scale(bit_depth: int) -> np.float32:
    return np.float32(255.0 if bit_depth == 8 else 65535.0)


def to_display(frame: Frame, matte: tuple[float, float, float], bit_depth: int) -> np.ndarray:
    """Composite a premultiplied frame over ``matte`` and quantise (round to nearest).

    Returns (H, W, 3) uint8 (``bit_depth`` 8) or uint16 (16). One parallel pass: at UHD the
    numpy expression took ~1.3 s per frame here, this takes a few ms.
    """
    h, w = frame.alpha.shape
    out = np.empty((h, w, 3), display_dtype(bit_depth))
    _compose(frame.rgb, frame.alpha, np.asarray(matte, np.float32), display_scale(bit_depth), out)
    return out


def to_display_rgba(frame: Frame, bit_depth: int) -> np.ndarray:
    """Straight (unpremultiplied) colour plus coverage as alpha, quantised: (H, W, 4) uint8
    (``bit_depth`` 8) or uint16 (16), for codecs that carry alpha (ProRes 4444). Pixels no
    surface covers are (0, 0, 0, 0)."""
    scale = 255.0 if bit_depth == 8 else 65535.0
    colour, alpha = unpremultiplied(frame)
    rgba = np.concatenate([colour, alpha[..., None]], axis=-1) * np.float32(scale)
    return np.rint(rgba).astype(np.uint8 if bit_depth == 8 else np.uint16)


#: What a sink's ``write`` takes (:mod:`stillcam.output.frames` makes it from a render):
#: "display" (H, W, 3) uint8/uint16 display pixels, "rgba" (H, W, 4) straight colour plus
#: coverage (alpha codecs), "frame" the (Frame, Camera) pair (EXR), "depth" (H, W) float32
#: camera depth in metres, "coverage" (H, W) float32 in [0, 1] (the passes).
SinkInput = Literal["display", "rgba", "frame", "depth", "coverage"]


class FrameSink(Protocol):
    """A file (or sequence of files) frames are written to; complete only after :meth:`commit`."""

    @property
    def accepts(self) -> SinkInput:
        """What :meth:`write` takes (see :data:`SinkInput`)."""
        ...

    def write(self, item: Any) -> None:
        """Add the next frame (an item of the :attr:`accepts` kind)."""
        ...

    def finish(self) -> list[tuple[Path, Path]]:
        """Finish writing: every file complete under its partial name; returns the (partial,
        final) pairs for :func:`~stillcam.io.files.publish_all`."""
        ...

    def published(self) -> None:
        """Once the files are under their final names: remove the partial folder (and, for a
        sequence replaced with ``overwrite``, the old render's other frames)."""
        ...

    def commit(self) -> None:
        """Finish and publish this sink alone: the output appears under its final name."""
        ...

    def abort(self) -> None:
        """Give up: nothing is left under the final name, temporary files are removed."""
        ...


class VideoSink:
    """A video in the delivery codec ``settings.codec`` (:mod:`.codecs`), BT.709-tagged on the
    stream and on every frame, exact frame rate, optional start timecode."""

    def __init__(
        self, path: Path, width: int, height: int, fps: Fraction, settings: OutputSettings, *, overwrite: bool
    ) -> None:
        codec = video_codec(settings.codec, path.suffix)
        pix_fmt = stream_pix_fmt(codec, settings.bit_depth)
        if (width % 2 or height % 2) and not codec.rgb:
            raise InputError(f"video size {width}x{height} must be even for {pix_fmt}; pick an even size")
        if width < codec.min_size[0] or height < codec.min_size[1]:
            raise InputError(
                f"--codec {codec.name} needs frames of at least {codec.min_size[0]}x{codec.min_size[1]} "
                f"pixels, not {width}x{height}"
            )
        if settings.timecode:
            check_timecode(settings.timecode, fps)
        check_destination(path, overwrite)
        self._path = path
        self._overwrite = overwrite
        self._partial = make_partial(path)
        self._tmp = self._partial / path.name
        try:
            self._open(path, width, height, fps, settings, codec, pix_fmt)
        except BaseException:
            self.abort()
            raise
        self._index = 0

    def _open(
        self,
        path: Path,
        width: int,
        height: int,
        fps: Fraction,
        settings: OutputSettings,
        codec: VideoCodec,
        pix_fmt: str,
    ) -> None:
        """The container and the stream, in the partial folder."""
        import av
        from av.video.reformatter import ColorRange, Colorspace, Interpolation

        container_format = {".mkv": "matroska"}.get(path.suffix.lower(), path.suffix[1:].lower())
        self._container = av.open(str(self._tmp), "w", format=container_format)
        if settings.timecode:
            self._container.metadata["timecode"] = settings.timecode
        stream = self._container.add_stream(codec.encoder, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.time_base = Fraction(1, 1) / fps
        if path.suffix.lower() != ".mkv":
            stream.codec_tag = codec.tag
        context = stream.codec_context
        context.thread_count = settings.encoder_threads
        options = dict(codec.options)
        if codec.encoder == "libx264":
            # No threaded lookahead: with it, x264's frame decisions depend on its threads'
            # timing: 9 of 72 identical 960x540 renders (4 encoder threads, 6 processes on 2
            # cores) came out as another file from the same frames; with sync-lookahead=0, 144
            # of 144 matched, the bytes of the usual output (docs/benchmarks.md, "Same bytes
            # under load"). non-deterministic=0 alone did not do it (4 of 72 differed).
            options.update(crf=str(settings.crf), preset=settings.preset)
            options["x264-params"] = "sync-lookahead=0"
        elif codec.encoder == "libx265":
            # Fixed thread pools: x265's output depends on them (repeatable re-renders).
            params = f"pools={settings.encoder_threads}:frame-threads=1:log-level=error"
            options.update({"crf": str(settings.crf), "preset": settings.preset, "x265-params": params})
        context.options = options
        rgb_range = ColorRange.JPEG
        context.color_primaries, context.color_trc = 1, 1  # BT.709
        context.colorspace = 0 if codec.rgb else 1  # RGB planes / BT.709 matrix
        context.color_range = 2 if codec.rgb else 1  # full / limited ("MPEG")
        self._stream = stream
        self._codec = codec
        formats = {(False, 8): "rgb24", (False, 16): "rgb48le", (True, 8): "rgba", (True, 16): "rgba64le"}
        self._in_format = formats[(codec.alpha, settings.bit_depth)]
        self._reformat = dict(
            format=pix_fmt,
            src_colorspace=Colorspace.ITU709,
            dst_colorspace=Colorspace.ITU709,
            src_color_range=rgb_range,
            dst_color_range=rgb_range if codec.rgb else ColorRange.MPEG,
            dst_color_trc=1,
            dst_color_primaries=1,
            interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.BITEXACT,
        )

    @property
    def accepts(self) -> SinkInput:
        """What :meth:`write` takes: RGBA display pixels for alpha codecs, else RGB."""
        return "rgba" if self._codec.alpha else "display"

    def write(self, image: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(image, format=self._in_format).reformat(**self._reformat)
        # The tags on every frame as well as on the stream (PyAV does not copy them over).
        frame.color_primaries, frame.color_trc = 1, 1
        frame.colorspace = 0 if self._codec.rgb else 1
        frame.color_range = 2 if self._codec.rgb else 1
        frame.pts = self._index
        self._index += 1
        self._container.mux(self._encode(frame))

    def _encode(self, frame: Any) -> Any:
        """The stream's packets for ``frame`` (None flushes); the encoder opens on the first
        frame, and what it refuses there (libx265 and frames of extreme aspect) is an
        OutputError, one line."""
        import av.error

        try:
            return self._stream.encode(frame)
        except av.error.FFmpegError as exc:
            size = f"{self._stream.width}x{self._stream.height}"
            reason = " ".join(str(exc).split())[:200]
            raise OutputError(
                f"{self._path}: the {self._codec.encoder} encoder refused {size} frames ({reason}); "
                "try another --size or --codec"
            ) from None

    def finish(self) -> list[tuple[Path, Path]]:
        self._container.mux(self._encode(None))
        self._container.close()
        return [(self._tmp, self._path)]

    def published(self) -> None:
        shutil.rmtree(self._partial, ignore_errors=True)

    def commit(self) -> None:
        publish_all(self.finish(), overwrite=self._overwrite)
        self.published()

    def abort(self) -> None:
        try:
            self._container.close()
        except Exception:
            pass
        shutil.rmtree(self._partial, ignore_errors=True)


class SequenceSink:
    """Numbered 8- or 16-bit PNG frames, written in a hidden folder and moved in at the end.

    Subclasses write other formats by overriding :meth:`_save` and :attr:`accepts`."""

    #: What :meth:`write` takes (:data:`SinkInput`).
    accepts: SinkInput = "display"

    def __init__(
        self, target: OutputTarget, first_frame: int, count: int, settings: OutputSettings, *, overwrite: bool
    ) -> None:
        self._target = target
        self._overwrite = overwrite
        self._numbers = list(range(first_frame, first_frame + count))
        check_sequence(target, overwrite)
        self._tmp = make_partial(target.path)
        self._index = 0
        self._bit_depth = settings.bit_depth

    def write(self, item: Any) -> None:
        name = self._target.frame_path(self._numbers[self._index]).name
        self._index += 1
        self._save(self._tmp / name, item)

    def _save(self, path: Path, image: np.ndarray) -> None:
        bgr = np.ascontiguousarray(image[..., ::-1])
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
            raise OutputError(f"{path}: PNG could not be written (disk full?)")

    def finish(self) -> list[tuple[Path, Path]]:
        finals = [self._target.frame_path(number) for number in self._numbers[: self._index]]
        return [(self._tmp / final.name, final) for final in finals]

    def published(self) -> None:
        if self._overwrite:  # the old render's frames that this one did not replace
            written = {self._target.frame_path(number).name for number in self._numbers[: self._index]}
            for old in self._target.existing_frames():
                if old.name not in written and not old.is_dir():
                    old.unlink(missing_ok=True)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def commit(self) -> None:
        publish_all(self.finish(), overwrite=self._overwrite)
        self.published()

    def abort(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def check_sequence(target: OutputTarget, overwrite: bool, what: str = "output") -> None:
    """Refuse, before any work, a sequence whose folder is missing or read-only, whose frame
    names are too long, with a folder under a frame's name, with frames on disk (any number;
    unless ``overwrite``, which replaces the whole sequence) or that another live process is
    writing (unless ``overwrite``).

    Raises:
        OutputError: what is in the way, and what to do.
    """
    # The folder, the name's length, a live process writing the sequence (the pattern's name
    # is never a file itself).
    check_destination(target.path, overwrite, what)
    check_name(target.frame_path(10**target.padding), what)  # one digit more than the pattern
    frames = target.existing_frames()
    folders = [frame for frame in frames if frame.is_dir()]
    if folders:
        raise OutputError(f"{folders[0]}: is a folder, not a frame; remove it or choose another {what} name")
    if frames and not overwrite:
        raise OutputError(
            f"{frames[0]}: already exists ({len(frames)} frame(s) of {target.path.name} on disk); "
            "pass --overwrite to replace the sequence"
        )


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
    """Every output option's type and range; the codec and the timecode, which depend on the
    output's extension and the shot's fps, are checked with them
    (:func:`~stillcam.output.codecs.video_codec`, :func:`~stillcam.output.codecs.check_timecode`)."""
    check_fields(settings, choices_later=("codec",))
    parse_guides(settings.guides)
    unknown = sorted(set(settings.passes) - set(PASSES))
    if unknown:
        raise InputError(f"--pass {', '.join(unknown)}: choose from {', '.join(PASSES)}")
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
