"""Delivery codecs, verified by probing the files: codec, FourCC, pixel format, colour tags on
the stream and on decoded frames, frame count, exact frame rate, timecode; lossless and alpha
codecs decoded back and compared."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from stillcam.errors import InputError
from stillcam.output import OutputSettings, open_sink, parse_output
from stillcam.output.codecs import CODECS, VIDEO_CODECS, check_timecode

H, W = 144, 256  # DNxHR's smallest frame is 256x120

# codec -> (file, FFmpeg decoder name, stream pixel format)
CASES = {
    "h264": ("v.mp4", "h264", "yuv420p"),
    "h265": ("v.mp4", "hevc", "yuv420p10le"),
    "prores-422hq": ("v.mov", "prores", "yuv422p10le"),
    "prores-4444": ("v.mov", "prores", "yuva444p12le"),  # FFmpeg decodes 4444 as 12-bit
    "dnxhr-hq": ("v.mov", "dnxhd", "yuv422p"),
    "ffv1": ("v.mkv", "ffv1", "bgr0"),
}


def _images(n, channels=3, dtype=np.uint8):
    rng = np.random.default_rng(3)
    top = np.iinfo(dtype).max
    # Smooth colour ramps plus half a level of noise (lossless codecs must keep it).
    y, x = np.mgrid[0:H, 0:W]
    out = []
    for i in range(n):
        planes = [x / W, y / H, (x + y + 4 * i) / (W + H + 16)] + [np.ones((H, W))] * (channels - 3)
        base = np.stack(planes, -1)
        noisy = base * 0.9 + 0.05 + rng.normal(0, 0.002, base.shape)
        out.append(np.rint(np.clip(noisy, 0, 1) * top).astype(dtype))
    return out


def _write(tmp_path: Path, name: str, settings: OutputSettings, images, fps=Fraction(24000, 1001)) -> Path:
    target = parse_output(tmp_path / name)
    sink = open_sink(target, W, H, fps, 1001, len(images), settings, overwrite=False)
    for image in images:
        sink.write(image)
    sink.commit()
    return target.path


def test_every_codec_has_a_case():
    assert set(CASES) == set(CODECS) == set(VIDEO_CODECS)


@pytest.mark.parametrize("codec", list(CASES))
def test_codec_probes_as_delivered(tmp_path: Path, codec):
    name, decoder, pix_fmt = CASES[codec]
    alpha = VIDEO_CODECS[codec].alpha
    images = _images(4, 4 if alpha else 3)
    path = _write(tmp_path, name, OutputSettings(codec=codec, timecode="01:00:00:00"), images)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # nothing partial left behind
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        assert context.name == decoder and stream.pix_fmt == pix_fmt
        if path.suffix == ".mov":
            assert stream.codec_tag == VIDEO_CODECS[codec].tag  # e.g. apch for ProRes 422 HQ
        assert stream.average_rate == Fraction(24000, 1001)
        rgb = VIDEO_CODECS[codec].rgb
        assert (context.color_primaries, context.color_trc) == (1, 1)  # BT.709
        assert context.colorspace == (0 if rgb else 1)  # RGB planes / BT.709 matrix
        assert context.color_range == (2 if rgb else 1)  # full / limited
        tags = {k.lower(): v for k, v in {**container.metadata, **stream.metadata}.items()}
        assert tags.get("timecode") == "01:00:00:00"  # MKV spells it TIMECODE
        if path.suffix != ".mkv":  # a real timecode track (tmcd), as editing systems read it
            assert [s.type for s in container.streams] == ["video", "data"]
        frames = list(container.decode(video=0))
    assert len(frames) == 4
    assert frames[0].colorspace == (0 if rgb else 1)
    assert frames[0].color_primaries == 1 and frames[0].color_trc == 1
    if codec == "ffv1":
        assert np.array_equal(frames[1].to_ndarray(format="rgb24"), images[1])  # lossless
        return
    # Decoded with the BT.709 matrix and limited range the tags announce, the frame is the
    # one written (compression error only); read as BT.601 (what untagged files get) it is not.
    errors = {}
    for name, space in (("709", Colorspace.ITU709), ("601", Colorspace.ITU601)):
        rgb_frame = frames[1].reformat(
            format="rgba" if alpha else "rgb24",
            src_colorspace=space,
            src_color_range=ColorRange.MPEG,
            dst_color_range=ColorRange.JPEG,
        )
        errors[name] = np.abs(rgb_frame.to_ndarray().astype(int) - images[1].astype(int))[..., :3].mean()
    # (Measured: 1.3-1.8 levels as BT.709, chroma subsampling of ~1 level/pixel ramps included;
    # 6.3 as BT.601.)
    assert errors["709"] < 2.0 and errors["601"] > 2.5 * errors["709"], (codec, errors)


def test_prores_4444_keeps_alpha(tmp_path: Path):
    images = _images(2, 4)
    images[0][..., 3] = 255
    images[0][:, : W // 2, 3] = 0  # left half transparent
    path = _write(tmp_path, "a.mov", OutputSettings(codec="prores-4444"), images)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgba")
    assert frame[:, : W // 2, 3].max() <= 1 and frame[:, W // 2 :, 3].min() >= 254


def test_ffv1_keeps_16_bit_frames_exactly(tmp_path: Path):
    images = _images(2, dtype=np.uint16)
    path = _write(tmp_path, "d.mkv", OutputSettings(codec="ffv1", bit_depth=16), images)
    with av.open(str(path)) as container:
        assert container.streams.video[0].pix_fmt == "gbrp16le"
        frame = next(container.decode(video=0)).to_ndarray(format="rgb48le")
    np.testing.assert_array_equal(frame, images[0])


def test_h265_is_repeatable(tmp_path: Path):
    images = _images(6)
    a = _write(tmp_path, "a.mp4", OutputSettings(codec="h265"), images).read_bytes()
    b = _write(tmp_path, "b.mp4", OutputSettings(codec="h265"), images).read_bytes()
    assert a == b


def test_h264_lookahead_is_not_threaded(tmp_path: Path):
    """x264's threaded lookahead made its output depend on timing (measured in
    docs/benchmarks.md, "Same bytes under load"; a race is no unit test, the setting is), so it
    is off; the output stays repeatable."""
    target = parse_output(tmp_path / "v.mp4")
    sink = open_sink(target, W, H, Fraction(24), 1001, 2, OutputSettings(), overwrite=False)
    try:
        assert sink._stream.codec_context.options.get("x264-params") == "sync-lookahead=0"
    finally:
        sink.abort()
    images = _images(6)
    a = _write(tmp_path, "a.mp4", OutputSettings(), images).read_bytes()
    b = _write(tmp_path, "b.mp4", OutputSettings(), images).read_bytes()
    assert a == b


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        ("v.mp4", OutputSettings(codec="prores-422hq"), r"\.mov"),
        ("v.mov", OutputSettings(codec="ffv1x"), "choose one of"),
        ("v.mov", OutputSettings(codec="dnxhr-hq", bit_depth=16), "8-bit"),
        ("v.mkv", OutputSettings(codec="h264"), r"\.mp4 or \.mov"),
        ("v.mov", OutputSettings(codec="ffv1"), r"\.mkv"),
        ("v.mp4", OutputSettings(timecode="1:00:00"), "HH:MM:SS:FF"),
        ("v.mp4", OutputSettings(timecode="01:00:00:24"), "frames < 24"),
        ("v.mp4", OutputSettings(timecode="01:00:00;00"), "drop-frame"),
    ],
)
def test_bad_codec_settings_are_refused_before_writing(tmp_path: Path, name, settings, message):
    with pytest.raises(InputError, match=message):
        open_sink(parse_output(tmp_path / name), W, H, Fraction(24), 1001, 2, settings, overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_timecode_accepts_drop_frame_at_29_97():
    assert check_timecode("00:59:59;29", Fraction(30000, 1001)) == "00:59:59;29"
