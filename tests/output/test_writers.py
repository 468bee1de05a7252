from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from stillcam.errors import OutputError
from stillcam.output import OutputSettings, open_sink, parse_output, to_display
from stillcam.render import Frame


def _images(n, h=36, w=64):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_video_is_h264_yuv420p_bt709_with_exact_fps(tmp_path: Path):
    target = parse_output(tmp_path / "v.mp4")
    sink = open_sink(target, 64, 36, Fraction(24000, 1001), 1001, 5, OutputSettings(), overwrite=False)
    for image in _images(5):
        sink.write(image)
    sink.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]
    assert (tmp_path / "v.mp4").stat().st_mode & 0o044 == 0o044  # readable by others (umask 022)
    with av.open(str(tmp_path / "v.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.pix_fmt == "yuv420p"
        assert stream.average_rate == Fraction(24000, 1001)
        context = stream.codec_context
        assert (context.color_primaries, context.color_trc, context.colorspace) == (1, 1, 1)
        assert context.color_range == 1
        frames = list(container.decode(video=0))
    assert len(frames) == 5
    assert frames[0].colorspace == 1 and frames[0].color_range == 1


def test_png_sequence_16_bit_numbered_from_1001(tmp_path: Path):
    target = parse_output(tmp_path / "s.####.png")
    sink = open_sink(target, 64, 36, Fraction(24), 1001, 3, OutputSettings(bit_depth=16), overwrite=False)
    images = [(i.astype(np.uint16) * 257) for i in _images(3)]
    for image in images:
        sink.write(image)
    sink.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.1001.png", "s.1002.png", "s.1003.png"]
    back = cv2.imread(str(tmp_path / "s.1002.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert back.dtype == np.uint16 and np.array_equal(back, images[1])


@pytest.mark.parametrize("name", ["v.mp4", "s.####.png"])
def test_abort_leaves_nothing_and_existing_output_is_kept(tmp_path: Path, name):
    target = parse_output(tmp_path / name)
    sink = open_sink(target, 64, 36, Fraction(24), 1001, 3, OutputSettings(), overwrite=False)
    sink.write(_images(1)[0])
    sink.abort()
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / ("v.mp4" if name.endswith("mp4") else "s.1001.png")
    existing.write_bytes(b"keep")
    with pytest.raises(OutputError, match="--overwrite"):
        open_sink(target, 64, 36, Fraction(24), 1001, 3, OutputSettings(), overwrite=False)
    assert existing.read_bytes() == b"keep"


def test_to_display_composites_premultiplied_over_matte():
    rgb = np.array([[[0.25, 0.25, 0.25], [0.0, 0.0, 0.0]]], np.float32)  # alpha 0.5, then empty
    frame = Frame(rgb, np.ones((1, 2), np.float32), np.array([[0.5, 0.0]], np.float32))
    assert to_display(frame, (1.0, 0.0, 0.0), 8).tolist() == [[[191, 64, 64], [255, 0, 0]]]
    assert to_display(frame, (1.0, 0.0, 0.0), 16).tolist() == [[[49151, 16384, 16384], [65535, 0, 0]]]
