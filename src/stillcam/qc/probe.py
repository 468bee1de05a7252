"""What a delivered file is, read from the file itself (PyAV's demuxer and decoder, OpenEXR's
header), never from the recipe: size, codec, profile, bit depth, chroma subsampling, colour
tags, exact frame rate, frame count, timecode.

A video's frames are counted by demuxing every packet (nothing is decoded but the first
frame, whose own colour tags are read beside the stream's). A sequence's frames are the
files its pattern names; the first and the last are probed (sizes and pixel formats must
agree), the numbers in between checked for gaps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..output.targets import OutputTarget

#: FFmpeg's colour tag values (AVColorPrimaries, AVColorTransferCharacteristic, AVColorSpace,
#: AVColorRange) by name, as ``ffprobe`` spells them.
PRIMARIES = {1: "bt709", 2: "unspecified", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m"}
PRIMARIES |= {8: "film", 9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
TRANSFERS = {1: "bt709", 2: "unspecified", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m"}
TRANSFERS |= {8: "linear", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084"}
TRANSFERS |= {18: "arib-std-b67"}
MATRICES = {0: "gbr", 1: "bt709", 2: "unspecified", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m"}
MATRICES |= {9: "bt2020nc", 10: "bt2020c"}
RANGES = {0: "unspecified", 1: "limited", 2: "full"}
#: EXR ``chromaticities`` (red, green, blue, white x y) of the spaces stillcam writes.
EXR_PRIMARIES = {
    "bt709": (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    "aces-ap1": (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
}


@dataclass(frozen=True)
class Colour:
    """Colour tags by name (:data:`PRIMARIES`, :data:`TRANSFERS`, :data:`MATRICES`, :data:`RANGES`)."""

    primaries: str
    transfer: str
    matrix: str
    range: str


@dataclass(frozen=True)
class Media:
    """A probed output.

    Attributes:
        path: the video, or the sequence's pattern (``shot.####.png``).
        kind: ``video`` or ``sequence``.
        container: FFmpeg's demuxer name (``mov,mp4,m4a,3gp,3g2,mj2``, ``matroska,webm``,
            ``png_pipe``, ``exr_pipe``).
        codec: FFmpeg's decoder name (``h264``, ``hevc``, ``prores``, ``dnxhd``, ``ffv1``, ``png``, ``exr``).
        fourcc: the stream's codec tag (``apch`` for ProRes 422 HQ in ``.mov``), or None.
        profile: the codec's profile (``High``, ``Main 10``, ``HQ``, ``DNXHR HQ``); an EXR's
            compression (``ZIP``); None where the codec has none.
        width, height: frame size in pixels.
        pixel_aspect: the sample (pixel) aspect ratio, ``1/1`` for square pixels.
        pix_fmt: FFmpeg's pixel format (``yuv422p10le``).
        bit_depth: bits per sample (the largest component).
        sample: ``integer`` or ``float`` samples.
        chroma: ``4:2:0``, ``4:2:2``, ``4:4:4`` (RGB included) or ``4:1:1``.
        alpha: the frames carry an alpha channel.
        colour: the stream's colour tags (an EXR: its chromaticities, linear, RGB, full).
        frame_colour: the first decoded frame's own tags (videos; None for sequences).
        fps: frames per second as an exact fraction (``24000/1001``), None where the files
            carry none (PNG sequences).
        frames: number of frames (video packets demuxed; sequence files).
        first_frame, last_frame: a sequence's first and last frame numbers (None for video).
        missing: a sequence's frame numbers absent between its first and last (at most 100).
        timecode: the start timecode, or None.
        bit_rate: the container's bit rate in bits/s, or None.
        notes: what the probe noticed (frames of different sizes in a sequence, ...).
    """

    path: str
    kind: str
    container: str
    codec: str
    fourcc: str | None
    profile: str | None
    width: int
    height: int
    pixel_aspect: str
    pix_fmt: str
    bit_depth: int
    sample: str
    chroma: str
    alpha: bool
    colour: Colour
    frame_colour: Colour | None
    fps: Fraction | None
    frames: int
    first_frame: int | None = None
    last_frame: int | None = None
    missing: tuple[int, ...] = ()
    timecode: str | None = None
    bit_rate: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def aspect(self) -> str:
        """The frame's display aspect ratio, reduced: ``16:9``."""
        sar = Fraction(self.pixel_aspect) if self.pixel_aspect not in ("0/1", "") else Fraction(1)
        ratio = Fraction(self.width, self.height) * sar
        return f"{ratio.numerator}:{ratio.denominator}"

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["fps"] = None if self.fps is None else f"{self.fps.numerator}/{self.fps.denominator}"
        record["aspect"] = self.aspect
        record["missing"] = list(self.missing)
        record["notes"] = list(self.notes)
        return record


def _av() -> Any:
    import av

    return av


def _colour(source: Any) -> Colour:
    """Tags of a codec context or a frame, by name."""

    def name(table: dict[int, str], value: Any) -> str:
        return table.get(int(value), f"unknown ({int(value)})")

    return Colour(
        name(PRIMARIES, source.color_primaries),
        name(TRANSFERS, source.color_trc),
        name(MATRICES, source.colorspace),
        name(RANGES, source.color_range),
    )


def pixel_layout(pix_fmt: str, width: int, height: int) -> tuple[int, str, str, bool]:
    """(bit depth, sample type, chroma subsampling, alpha) of an FFmpeg pixel format.

    >>> pixel_layout("yuv422p10le", 64, 36)
    (10, 'integer', '4:2:2', False)
    >>> pixel_layout("gbrapf16le", 64, 36)
    (16, 'float', '4:4:4', True)
    """
    av = _av()
    fmt = av.VideoFormat(pix_fmt, width, height)
    bits = max(c.bits for c in fmt.components)
    sample = "float" if "f16" in pix_fmt or "f32" in pix_fmt else "integer"
    alpha = any(c.is_alpha for c in fmt.components)
    if fmt.is_rgb:
        return bits, sample, "4:4:4", alpha
    sx, sy = width // max(1, fmt.chroma_width(width)), height // max(1, fmt.chroma_height(height))
    chroma = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (4, 1): "4:1:1"}.get(
        (sx, sy), f"1/{sx}x1/{sy}"
    )
    return bits, sample, chroma, alpha


def _timecode(container: Any) -> str | None:
    for tags in [container.metadata, *(s.metadata for s in container.streams)]:
        for key, value in tags.items():
            if key.lower() == "timecode" and value:
                return str(value)
    return None


def _fraction(rate: Any) -> Fraction | None:
    if rate is None or rate == 0:
        return None
    return Fraction(rate.numerator, rate.denominator)


def _open(path: Path) -> Any:
    av = _av()
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot be probed as video or image ({exc}); is it a stillcam output?"
        ) from None


def _stream_facts(path: Path) -> dict[str, Any]:
    """The first video stream's facts of one file, and its first decoded frame's colour tags."""
    av = _av()
    with _open(path) as container:
        if not container.streams.video:
            raise InputError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        context = stream.codec_context
        if not stream.pix_fmt or not stream.width or not stream.height:
            raise InputError(f"{path}: its video stream has no pixel format or size (damaged?)")
        bits, sample, chroma, alpha = pixel_layout(stream.pix_fmt, stream.width, stream.height)
        sar = stream.sample_aspect_ratio
        facts = {
            "container": container.format.name,
            "codec": context.name,
            "fourcc": (stream.codec_tag or "").strip("\x00 ") or None,
            "profile": context.profile or None,
            "width": stream.width,
            "height": stream.height,
            "pixel_aspect": f"{sar.numerator}/{sar.denominator}" if sar else "1/1",
            "pix_fmt": stream.pix_fmt,
            "bit_depth": bits,
            "sample": sample,
            "chroma": chroma,
            "alpha": alpha,
            "colour": _colour(context),
            "fps": _fraction(stream.average_rate) or _fraction(stream.guessed_rate),
            "timecode": _timecode(container),
            "bit_rate": container.bit_rate or None,
        }
        try:
            frame = next(container.decode(stream), None)
            container.seek(0)
            facts["frames"] = sum(1 for p in container.demux(stream) if p.size)
        except (av.error.FFmpegError, ValueError) as exc:
            raise InputError(f"{path}: cannot be decoded ({exc})") from None
        facts["frame_colour"] = None if frame is None else _colour(frame)
    return facts


def _exr_facts(path: Path) -> dict[str, Any]:
    """An EXR frame's compression, chromaticities and frame rate, from its header."""
    import OpenEXR

    try:
        with OpenEXR.File(str(path), header_only=True) as file:
            header = file.header()
            compression = str(getattr(header.get("compression"), "name", header.get("compression")) or "")
            chromaticities = header.get("chromaticities")
            rate = header.get("framesPerSecond")  # (the header is emptied when the file closes)
    except Exception as exc:  # OpenEXR raises plain exceptions for damaged headers
        raise InputError(f"{path}: not a readable EXR header ({exc})") from None
    primaries = "bt709"  # OpenEXR's default when the attribute is absent
    if chromaticities is not None:
        values = tuple(float(v) for v in chromaticities)
        primaries = next(
            (
                name
                for name, ref in EXR_PRIMARIES.items()
                if all(abs(a - b) < 1e-4 for a, b in zip(values, ref, strict=False))
            ),
            "custom (" + " ".join(f"{v:g}" for v in values) + ")",
        )
    fps = None
    if isinstance(rate, Fraction):
        fps = rate
    elif rate is not None and len(rate) == 2 and int(rate[1]):
        fps = Fraction(int(rate[0]), int(rate[1]))
    return {
        "profile": compression.removesuffix("_COMPRESSION") or None,
        "colour": Colour(primaries, "linear", "gbr", "full"),
        "fps": fps,
    }


def probe_video(path: Path) -> Media:
    """Probe a video file (:class:`Media`)."""
    facts = _stream_facts(path)
    return Media(path=str(path), kind="video", **facts)


def probe_sequence(target: OutputTarget) -> Media:
    """Probe a frame sequence (:class:`Media`): its files, the first and last probed."""
    files = target.existing_frames()
    if not files:
        raise InputError(
            f"{target.path}: no frames of this sequence found (e.g. {target.frame_path(1001).name})"
        )
    numbers = sorted(frame_number(target, f.name) for f in files)
    first = _stream_facts(target.frame_path(numbers[0]))
    last = _stream_facts(target.frame_path(numbers[-1])) if len(numbers) > 1 else first
    notes = []
    for key in ("width", "height", "pix_fmt", "codec"):
        if first[key] != last[key]:
            notes.append(f"the first and last frames differ in {key}: {first[key]} and {last[key]}")
    present = set(numbers)
    missing = tuple(n for n in range(numbers[0], numbers[-1] + 1) if n not in present)[:100]
    facts = {k: v for k, v in first.items() if k not in ("frames", "frame_colour", "timecode", "bit_rate")}
    facts["fps"] = None
    if facts["codec"] == "exr":
        facts.update(_exr_facts(target.frame_path(numbers[0])))
    return Media(
        path=str(target.path),
        kind="sequence",
        **facts,
        frame_colour=None,
        frames=len(numbers),
        first_frame=numbers[0],
        last_frame=numbers[-1],
        missing=missing,
        notes=tuple(notes),
    )


def frame_number(target: OutputTarget, name: str) -> int:
    """The number in the name of one of ``target``'s frames (``shot.1001.png`` -> 1001).

    >>> from stillcam.output.targets import parse_output
    >>> frame_number(parse_output("shot0.####.png"), "shot0.12345.png")
    12345
    """
    low, high = target.frame_path(0).name, target.frame_path(10**target.padding - 1).name
    start = next(i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b)
    end = len(low) - start - target.padding  # the suffix's length
    return int(name[start : len(name) - end])


def probe(target: OutputTarget) -> Media:
    """Probe the output ``target`` names (a video file, or a sequence's frames)."""
    if target.kind == "video":
        if not target.path.is_file():
            raise InputError(f"{target.path}: no such video file")
        return probe_video(target.path)
    return probe_sequence(target)
