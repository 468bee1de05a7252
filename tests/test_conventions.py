from fractions import Fraction

import pytest

from stillcam.conventions import filmback_mm, focal_mm_to_px, focal_px_to_mm, parse_fps
from stillcam.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24", Fraction(24)),
        ("23.976", Fraction(24000, 1001)),
        ("24000/1001", Fraction(24000, 1001)),
        ("29.97", Fraction(30000, 1001)),
        ("12.5", Fraction(25, 2)),
    ],
)
def test_parse_fps_exact(text, expected):
    assert parse_fps(text) == expected


@pytest.mark.parametrize("text", ["0", "-24", "abc", "1/0", "5000"])
def test_parse_fps_rejects(text):
    with pytest.raises(InputError):
        parse_fps(text)


def test_focal_round_trip_and_3_2_frame_is_36x24():
    assert filmback_mm(3000, 2000) == pytest.approx((36.0, 24.0))
    assert focal_mm_to_px(50.0, 6000, 4000) == pytest.approx(50.0 / 36.0 * 6000)
    assert focal_px_to_mm(focal_mm_to_px(35.0, 1920, 1080), 1920, 1080) == pytest.approx(35.0)
