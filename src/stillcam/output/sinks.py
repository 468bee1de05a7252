"""Opening the sink an output path asks for: a video (PyAV), PNG frames or EXR frames."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from ..errors import InputError
from ..io.files import check_destination
from .burnin import check_burn_in, parse_guides
from .codecs import check_timecode, video_codec
from .colour import check_colourspace
from .exr import ExrSequenceSink
from .targets import OutputTarget
from .writers import FrameSink, OutputSettings, SequenceSink, VideoSink, check_sequence


def check_output(target: OutputTarget, settings: OutputSettings, fps: Fraction) -> None:
    """Everything about an output that can be checked before any work: the codec for the
    file's extension, bit depth, timecode, colour space, burn-ins (the frame size is checked when the
    sink opens, once the cameras are known).

    Raises:
        InputError: what does not fit, and what to give instead.
    """
    if settings.output_colorspace != "lin_rec709" and target.path.suffix.lower() != ".exr":
        raise InputError(
            "--output-colorspace applies to EXR frames (shot.####.exr); PNG and video are sRGB/BT.709"
        )
    wanted = settings.burn_in or bool(parse_guides(settings.guides))
    check_burn_in(target, settings.codec, wanted=wanted, anyway=settings.burn_in_anyway)
    if wanted and settings.timecode:  # burned into PNG frames too
        check_timecode(settings.timecode, fps)
    if target.kind == "video":
        codec = video_codec(settings.codec, target.path.suffix)
        if settings.bit_depth != 8 and codec.bits == 8 and not codec.rgb:
            raise InputError(
                f"--codec {codec.name} is 8-bit; use --bit-depth 8, or a 10-bit codec (h265, prores-422hq, "
                "prores-4444), ffv1 or a PNG sequence for 16-bit frames"
            )
        if settings.timecode:
            check_timecode(settings.timecode, fps)
    elif target.path.suffix.lower() == ".exr":
        check_colourspace(settings.output_colorspace)


def check_target(target: OutputTarget, overwrite: bool, what: str = "output") -> None:
    """Refuse, before any work, a video or sequence that cannot be written where it is named
    (:func:`~stillcam.io.files.check_destination`, :func:`~stillcam.output.writers.check_sequence`).

    Raises:
        OutputError: what is in the way, and what to do.
    """
    if target.kind == "video":
        check_destination(target.path, overwrite, what)
    else:
        check_sequence(target, overwrite, what)


#: What opens an output's sink: :func:`open_sink`'s arguments, a :class:`FrameSink` back.
SinkOpener = Callable[..., FrameSink]


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
    check_output(target, settings, fps)
    if target.kind == "video":
        return VideoSink(target.path, width, height, fps, settings, overwrite=overwrite)
    if target.path.suffix.lower() == ".exr":
        return ExrSequenceSink(target, first_frame, count, settings, fps, overwrite=overwrite)
    return SequenceSink(target, first_frame, count, settings, overwrite=overwrite)
