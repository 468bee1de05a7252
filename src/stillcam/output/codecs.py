"""Delivery codecs: what ``--codec`` names, which FFmpeg encoder (via PyAV) writes it, in which
pixel format and container, and the timecode a delivery starts at.

Every stream and every frame is tagged BT.709 (primaries, transfer, matrix) with its range:
limited ("MPEG") for the YUV codecs, full for FFV1's RGB planes. docs/delivery.md says which
codec to pick for what.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

from ..errors import InputError

CodecName = Literal["h264", "h265", "prores-422hq", "prores-4444", "dnxhr-hq", "ffv1"]
CODECS: tuple[str, ...] = get_args(CodecName)


@dataclass(frozen=True)
class VideoCodec:
    """One delivery codec.

    Attributes:
        name: the ``--codec`` value.
        encoder: FFmpeg encoder name.
        pix_fmt: the stream's pixel format (8-bit codecs: from 8-bit RGB; 10/16-bit: from
            16-bit RGB when ``--bit-depth 16``).
        suffixes: containers it may be written to (first = the usual one).
        tag: the FourCC a probe must find in a ``.mov`` (QC checks this).
        options: encoder options besides the rate settings.
        alpha: the stream carries the frame's coverage as straight (unpremultiplied) alpha.
        bits: bits per sample of the stream.
        rgb: the stream stores RGB (no YUV matrix; lossless).
        min_size: smallest width and height the encoder accepts.
    """

    name: str
    encoder: str
    pix_fmt: str
    suffixes: tuple[str, ...]
    tag: str
    options: tuple[tuple[str, str], ...] = ()
    alpha: bool = False
    bits: int = 8
    rgb: bool = False
    min_size: tuple[int, int] = (2, 2)


VIDEO_CODECS: dict[str, VideoCodec] = {
    "h264": VideoCodec("h264", "libx264", "yuv420p", (".mp4", ".mov"), "avc1"),
    "h265": VideoCodec("h265", "libx265", "yuv420p10le", (".mp4", ".mov"), "hvc1", bits=10),
    # prores_ks, not prores_aw: both write the 'apch' tag and (with vendor=apl0) Apple's vendor
    # id, but prores_ks keeps to the profile's data rate (measured at UHD 24p: 633 Mb/s against
    # Apple's 707 target; prores_aw 818, 16 % over, which strict QC flags) at ~2.7x the cost
    # (0.97 vs 0.36 CPU-s per frame; benchmarks/delivery_codecs.py).
    "prores-422hq": VideoCodec(
        "prores-422hq",
        "prores_ks",
        "yuv422p10le",
        (".mov",),
        "apch",
        (("profile", "3"), ("vendor", "apl0")),
        bits=10,
    ),
    "prores-4444": VideoCodec(
        "prores-4444",
        "prores_ks",
        "yuva444p10le",
        (".mov",),
        "ap4h",
        (("profile", "4"), ("vendor", "apl0"), ("alpha_bits", "16")),
        alpha=True,
        bits=10,
    ),
    "dnxhr-hq": VideoCodec(
        "dnxhr-hq", "dnxhd", "yuv422p", (".mov",), "AVdh", (("profile", "dnxhr_hq"),), min_size=(256, 120)
    ),
    "ffv1": VideoCodec(
        "ffv1",
        "ffv1",
        "bgr0",  # FFV1 takes 8-bit RGB packed, 16-bit as planes (gbrp16le)
        (".mkv",),  # (this FFmpeg's mov muxer refuses FFV1: "does not support")
        "FFV1",
        (("level", "3"), ("slicecrc", "1")),
        rgb=True,
    ),
}

#: x264/x265 rate-control options that come from OutputSettings (crf, preset).
RATE_CONTROLLED = ("libx264", "libx265")


def video_codec(name: str, suffix: str) -> VideoCodec:
    """The codec called ``name`` for a file ending in ``suffix``; clear errors otherwise."""
    codec = VIDEO_CODECS.get(name)
    if codec is None:
        raise InputError(f"--codec {name!r}: choose one of {', '.join(CODECS)}")
    if suffix.lower() not in codec.suffixes:
        raise InputError(
            f"--codec {name} goes in {' or '.join(codec.suffixes)} files, not {suffix!r}; "
            f"name the output shot{codec.suffixes[0]}"
        )
    return codec


def stream_pix_fmt(codec: VideoCodec, bit_depth: int) -> str:
    """FFV1 keeps 16-bit frames at 16 bits; the other codecs have one pixel format."""
    if codec.rgb and bit_depth == 16:
        return "gbrp16le"
    return codec.pix_fmt


_TIMECODE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;])(\d{2})$")


def check_timecode(text: str, fps: Fraction) -> str:
    """Validate a SMPTE start timecode ``HH:MM:SS:FF`` (``;`` before FF = drop-frame, only at
    29.97 and 59.94) for ``fps``; returns it unchanged."""
    match = _TIMECODE.match(text.strip())
    if not match:
        raise InputError(f"--timecode {text!r}: write HH:MM:SS:FF, e.g. 01:00:00:00")
    hours, minutes, seconds, sep, frames = match.groups()
    nominal = math.ceil(fps)
    if int(hours) > 23 or int(minutes) > 59 or int(seconds) > 59 or int(frames) >= nominal:
        raise InputError(
            f"--timecode {text}: out of range (hours < 24, minutes and seconds < 60, "
            f"frames < {nominal} at {float(fps):g} frames/s)"
        )
    if sep == ";" and fps not in (Fraction(30000, 1001), Fraction(60000, 1001)):
        raise InputError(f"--timecode {text}: drop-frame (;) only exists at 29.97 and 59.94 frames/s")
    return text.strip()
