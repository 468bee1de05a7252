from pathlib import Path

import pytest

from stillcam.errors import InputError
from stillcam.output import parse_output


def test_video_and_sequence_targets():
    video = parse_output("out/shot.mp4")
    assert video.kind == "video" and video.recipe_path == Path("out/shot.recipe.json")
    seq = parse_output("out/shot.####.png")
    assert seq.kind == "sequence" and seq.padding == 4
    assert seq.frame_path(1001) == Path("out/shot.1001.png")
    assert seq.recipe_path == Path("out/shot.png.recipe.json")
    printf = parse_output("a_%06d.png")
    assert printf.frame_path(7) == Path("a_000007.png") and printf.recipe_path == Path("a.png.recipe.json")
    assert parse_output("x.MOV").kind == "video"


@pytest.mark.parametrize("bad", ["shot.avi", "shot.png", "shot.##.##.png", "shot"])
def test_unsupported_outputs_are_rejected(bad):
    with pytest.raises(InputError, match=r"\.mp4"):
        parse_output(bad)
