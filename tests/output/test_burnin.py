"""Review burn-ins and guides (``--burn-in``, ``--guides``): drawn into display pixels only."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from stillcam import RenderOptions
from stillcam.batch.chunks import chunk_options
from stillcam.camera.camera import Camera
from stillcam.camera.plan import ShotSettings
from stillcam.cli import main
from stillcam.errors import InputError
from stillcam.output.burnin import BurnIn, burn_in, guide_rect, parse_guides, timecode_at
from stillcam.output.sinks import check_output
from stillcam.output.targets import parse_output
from stillcam.output.writers import OutputSettings
from stillcam.pipeline import demo, demo_inputs, plan_shot, rerender

SIZE = "320x180"
MOVE = "pan(degrees=10)"


def _options(frames=None, **output) -> RenderOptions:
    shot = ShotSettings(move=MOVE, size=SIZE, duration=3 / 24, fps="24", frames=frames, easing="linear")
    options = RenderOptions(shot=shot)
    return replace(options, output=replace(options.output, **output))


def _png(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]  # BGR -> RGB


def _noise(h=1080, w=1920, dtype=np.uint8) -> np.ndarray:
    top = 255 if dtype == np.uint8 else 65535
    return np.random.default_rng(0).integers(0, top + 1, (h, w, 3)).astype(dtype)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_a_text_box_appears_in_its_corner_and_nothing_else_changes():
    base = _noise()
    out = burn_in(base, [("bottom-right", "01:00:00:00")])
    ys, xs = np.nonzero(_changed(out, base))
    margin = round(0.02 * 1080)
    assert ys.max() == 1080 - margin - 1 and xs.max() == 1920 - margin - 1  # the box's far corner
    # A small box in the corner, exactly the size the font's metrics give (text at 1080/1080
    # scale, 2 px strokes; padding 0.4 of the cap height), with its far corner fixed above. This
    # replaces a pixel bound (left edge > 1700) that OpenCV 5 missed by 1 px: it measures the
    # Hershey strokes 1 px wider than OpenCV 4.
    tw = cv2.getTextSize("01:00:00:00", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)[0][0]
    (_, th), below = cv2.getTextSize("Hg", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)
    pad = max(2, round(0.4 * th))
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (th + below + 2 * pad, tw + 2 * pad)
    box = out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert np.all(_changed(box, base[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]) | (box == 20).all(2))
    assert (box == 20).all(2).mean() > 0.5  # a dark box (0.08 of full scale) ...
    assert (box >= 230).all(2).sum() > 200  # ... with light text on it (0.92)
    assert np.array_equal(base, _noise())  # the input is not changed


def test_guide_lines_are_on_the_exact_rows_for_2_39_and_1_85_on_16_9():
    base = np.zeros((1080, 1920, 3), np.uint8)
    for ratio, rows in ((2.39, [136, 137, 941, 942]), (1.85, [19, 20, 1059, 1060])):
        out = burn_in(base, guides=[ratio])
        changed = _changed(out, base)
        assert np.nonzero(changed.any(axis=1))[0].tolist() == rows
        assert changed[rows].all()  # across the whole width
    assert guide_rect(1920, 1080, 2.39) == (0, 138, 1920, 803)  # the framed rows: 138..940
    assert guide_rect(1920, 1080, 1.85) == (0, 21, 1920, 1038)
    assert guide_rect(3840, 2160, 2.39) == (0, 276, 3840, 1607)
    pillar = _changed(burn_in(base, guides=[4 / 3]), base)  # narrower: columns
    assert np.nonzero(pillar.any(axis=0))[0].tolist() == [238, 239, 1680, 1681]
    assert burn_in(base, guides=[16 / 9]).tobytes() == base.tobytes()  # the frame's own aspect


def test_safe_areas_are_smpte_st_2046_1s_93_and_90_percent():
    base = np.zeros((1080, 1920, 3), np.uint8)
    assert guide_rect(1920, 1080, "action") == (67, 38, 1786, 1004)
    assert guide_rect(1920, 1080, "title") == (96, 54, 1728, 972)
    out = burn_in(base, guides=parse_guides("safe"))
    changed = _changed(out, base)
    assert changed[36:38, 65:1855].all() and changed[1042:1044, 65:1855].all()  # action, outside its rect
    assert changed[38:1042, 65:67].all() and changed[38:1042, 1853:1855].all()
    assert changed[52:54, 94:1826].all()  # title
    assert not changed[38:52, 67:1853].any() and not changed[54:1026, 96:1824].any()  # inside: untouched


def test_guides_parse_and_bad_words_are_one_line():
    assert parse_guides("2.39,1.85,safe") == (2.39, 1.85, "action", "title")
    assert parse_guides("") == () and parse_guides(" , ") == ()
    assert parse_guides("4:3, title") == (4 / 3, "title")
    for bad in ("2.39,wide", "0:0", "20", "1.85;2.39"):
        with pytest.raises(InputError) as error:
            OutputSettings(guides=bad)
        assert "\n" not in str(error.value) and str(error.value).startswith("--guides ")


def test_timecodes_count_from_the_start_with_drop_frame():
    assert timecode_at("00:00:00:00", 0, Fraction(24)) == "00:00:00:00"
    assert timecode_at("01:00:00:00", 24 * 3600, Fraction(24)) == "02:00:00:00"
    assert timecode_at("23:59:59:23", 1, Fraction(24)) == "00:00:00:00"  # wraps at 24 h
    assert timecode_at("00:00:00:00", 47, Fraction(24000, 1001)) == "00:00:01:23"  # nominal 24
    df = Fraction(30000, 1001)
    assert timecode_at("00:00:59;29", 1, df) == "00:01:00;02"  # frames 00, 01 dropped
    assert timecode_at("00:09:59;29", 1, df) == "00:10:00;00"  # not at each tenth minute
    assert timecode_at("00:00:00;00", 17982, df) == "00:10:00;00"  # ten minutes of 29.97
    assert timecode_at("00:00:59;59", 1, Fraction(60000, 1001)) == "00:01:00;04"


def _burn(**fields) -> BurnIn:
    values = dict(
        text=True,
        guides=(2.39,),
        shot="sh010",
        move=MOVE,
        fps=Fraction(24),
        start="01:00:00:00",
        first_frame=1001,
        fstop=None,
    )
    return BurnIn(**{**values, **fields})


def test_consecutive_frames_differ_only_in_the_frame_and_timecode_boxes():
    base, camera = _noise(), Camera.from_focal_mm(1920, 1080, 35.0)
    burn = _burn()
    assert burn.lines(1002, camera) == [
        ("top-left", "sh010"),
        ("top-right", MOVE),
        ("bottom-left", "35.0mm (35mm eq.)"),
        ("bottom-center", "1002"),
        ("bottom-right", "01:00:00:01"),
    ]
    one, two = burn(base, 1001, camera), burn(base, 1002, camera)
    ys, xs = np.nonzero(_changed(one, two))
    assert ys.min() > 1000 and xs.min() > 800  # the bottom centre and right boxes only
    centre = (xs > 800) & (xs < 1120)
    assert centre.any() and (xs[~centre] > 1700).all()
    assert "f/2.8" in _burn(fstop=2.8).lines(1001, camera)[2][1]


def test_burning_twice_is_burning_once_and_the_same_bytes_every_run():
    base, camera = _noise(), Camera.from_focal_mm(1920, 1080, 50.0)
    burn = _burn(guides=parse_guides("2.39,1.85,safe"))
    once = burn(base, 1010, camera)
    assert burn(once, 1010, camera).tobytes() == once.tobytes()
    assert burn(base.copy(), 1010, camera).tobytes() == once.tobytes()


def test_16_bit_frames_get_the_same_picture_at_16_bits():
    base8 = np.zeros((1080, 1920, 3), np.uint8)  # every drawn value differs from 0
    base16 = base8.astype(np.uint16) * 257
    lines, guides = [("top-left", "sh010"), ("bottom-right", "01:00:00:00")], parse_guides("2.39,safe")
    out8, out16 = burn_in(base8, lines, guides), burn_in(base16, lines, guides)
    assert out16.dtype == np.uint16
    assert np.array_equal(_changed(out8, base8), _changed(out16, base16))  # the same pixels drawn
    assert np.abs(out16.astype(int) - out8.astype(int) * 257).max() <= 257  # the same values, finer
    assert {int(v) for v in np.unique(out16[_changed(out16, base16)])} >= {5243, 60292}  # box, text


def test_a_render_with_burn_ins_is_the_plain_render_outside_them(tmp_path: Path):
    demo(tmp_path / "plain.####.png", _options(), example_size=SIZE)
    burned = _options(burn_in=True, guides="2.39,safe", timecode="01:00:00:00")
    demo(tmp_path / "sh010.####.png", burned, example_size=SIZE)
    picture, depth, _ = demo_inputs(SIZE, burned)
    _, path, _ = plan_shot(picture, depth, burned)
    burn = _burn(guides=(2.39, "action", "title"))
    for index, number in enumerate(range(1001, 1004)):
        plain, written = _png(tmp_path / f"plain.{number}.png"), _png(tmp_path / f"sh010.{number}.png")
        assert np.array_equal(written, burn(plain, number, path.cameras[index]))  # bit-exact elsewhere
        changed = _changed(written, plain)
        assert changed.any() and not changed[60:120, 40:280].any()  # the middle of the frame: untouched
    again = _options(burn_in=True, guides="2.39,safe", timecode="01:00:00:00")
    (tmp_path / "twice").mkdir()
    demo(tmp_path / "twice" / "sh010.####.png", again, example_size=SIZE)
    for number in range(1001, 1004):  # the same bytes every run
        assert (tmp_path / "twice" / f"sh010.{number}.png").read_bytes() == (
            tmp_path / f"sh010.{number}.png"
        ).read_bytes()


def test_a_part_of_the_shot_burns_the_timecodes_of_the_whole_shot(tmp_path: Path):
    demo(tmp_path / "sh.####.png", _options(burn_in=True), example_size=SIZE)
    (tmp_path / "part").mkdir()
    demo(tmp_path / "part" / "sh.####.png", _options(frames="1002-1003", burn_in=True), example_size=SIZE)
    for number in (1002, 1003):
        assert (tmp_path / "part" / f"sh.{number}.png").read_bytes() == (
            tmp_path / f"sh.{number}.png"
        ).read_bytes()


def test_a_16_bit_png_review_copy_and_its_rerender(tmp_path: Path):
    options = _options(burn_in=True, guides="1.85", bit_depth=16)
    demo(tmp_path / "sh.####.png", options, example_size=SIZE)
    plain = _options(bit_depth=16)
    demo(tmp_path / "plain.####.png", plain, example_size=SIZE)
    written, base = _png(tmp_path / "sh.1001.png"), _png(tmp_path / "plain.1001.png")
    assert written.dtype == np.uint16 and _changed(written, base).any()
    (tmp_path / "again").mkdir()
    rerender(tmp_path / "sh.png.recipe.json", tmp_path / "again" / "sh.####.png")
    assert (tmp_path / "again" / "sh.1001.png").read_bytes() == (tmp_path / "sh.1001.png").read_bytes()


@pytest.mark.parametrize(
    ("output", "codec", "anyway", "message"),
    [
        ("s.mov", "prores-422hq", False, "--codec prores-422hq is a delivery codec"),
        ("s.mov", "dnxhr-hq", False, "--codec dnxhr-hq is a delivery codec"),
        ("s.mkv", "ffv1", False, "--codec ffv1 is a delivery codec"),
        ("s.mov", "prores-4444", True, "not on --codec prores-4444"),
        ("s.####.exr", "h264", False, "not on EXR frames"),
        ("s.####.exr", "h264", True, "not on EXR frames"),
    ],
)
def test_burn_ins_are_refused_on_deliveries_and_exr(output, codec, anyway, message):
    for fields in ({"burn_in": True}, {"guides": "2.39"}):
        settings = OutputSettings(codec=codec, burn_in_anyway=anyway, **fields)
        with pytest.raises(InputError) as error:
            check_output(parse_output(output), settings, Fraction(24))
        assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("output", "codec", "anyway"),
    [
        ("s.mp4", "h264", False),
        ("s.mov", "h265", False),
        ("s.####.png", "h264", False),
        ("s.mov", "prores-422hq", True),
        ("s.mov", "dnxhr-hq", True),
        ("s.mkv", "ffv1", True),
    ],
)
def test_burn_ins_are_accepted_on_review_copies_and_with_the_flag(output, codec, anyway):
    settings = OutputSettings(codec=codec, burn_in=True, guides="safe", burn_in_anyway=anyway)
    check_output(parse_output(output), settings, Fraction(24))


def test_a_refused_burn_in_is_one_line_before_any_work(tmp_path: Path, capsys):
    words = ["demo", "--example-size", SIZE, "--duration", "0.125", "--quiet", "--burn-in"]
    with pytest.raises(SystemExit) as exit_info:
        main([*words, "--codec", "prores-422hq", "-o", str(tmp_path / "x.mov")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "--burn-in-anyway" in err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as exit_info:
        main([*words, "--guides", "2.39,wide", "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "--guides '2.39,wide'" in err
    assert list(tmp_path.iterdir()) == []


def test_a_prores_review_copy_with_the_flag(tmp_path: Path):
    import av

    options = _options(burn_in=True, codec="prores-422hq", burn_in_anyway=True)
    demo(tmp_path / "s.mov", options, example_size=SIZE)
    with av.open(str(tmp_path / "s.mov")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 3


def test_chunks_leave_the_burn_in_to_the_encode():
    options = chunk_options(_options(burn_in=True, guides="2.39"), 1001, 1002)
    assert not options.output.burn_in and options.output.guides == ""


def test_the_options_round_trip_through_a_recipe_and_the_command_line():
    import shlex

    from stillcam.cli import build_parser, options_from
    from stillcam.options import command_line

    options = _options(burn_in=True, guides="2.39,safe", burn_in_anyway=True)
    assert RenderOptions.from_dict(options.to_dict()) == options
    words = shlex.split(command_line(options, "photo.png", None, "shot.mov"))
    assert "--burn-in" in words and words[words.index("--guides") + 1] == "2.39,safe"
    assert options_from(build_parser().parse_args(words[1:])).output == options.output


def test_a_bad_timecode_is_refused_for_burned_png_frames_too():
    settings = OutputSettings(burn_in=True, timecode="01:00:00:24")
    with pytest.raises(InputError, match="--timecode 01:00:00:24: out of range"):
        check_output(parse_output("s.####.png"), settings, Fraction(24))
