"""Boards (stillcam.review.board): the cell plan, cells equal to single renders bit for bit,
the contact sheet and grid video, --pick, and every error before any file is decoded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam import pipeline
from stillcam.cli import main
from stillcam.errors import InputError, MoveError, OutputError
from stillcam.options import RenderOptions
from stillcam.output.recipe import read_recipe
from stillcam.review import board as board_module
from stillcam.review.board import (
    MAX_CELLS,
    BoardSource,
    Cell,
    board_layout,
    distinct_moves,
    pick,
    plan_board,
    plan_cells,
    render_board,
)
from stillcam.review.sheet import PAGE_ROWS, fit_grid, grid_around, sheet_pages

#: 3 frames a cell (0.25 s at 12 fps), 64x36 cells.
SMALL = {"duration": 0.25, "fps": "12"}
CLI_SMALL = ["--duration", "0.25", "--fps", "12", "--cell-size", "64x36", "--quiet"]


def _video(path: Path) -> tuple[int, int, int]:
    """(frames, width, height) of a video, decoded."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, stream.codec_context.width, stream.codec_context.height


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A board of pan and orbit at 4 and 8 degrees, 64x36 cells of 3 frames, and its inputs."""
    folder = tmp_path_factory.mktemp("board")
    photo, depth = tiny_shot_inputs(folder)
    plan = plan_board(SMALL, moves="pan,orbit", sweeps=["degrees=4,8"], cell_size="64x36")
    index = render_board(plan, BoardSource(photo=photo, depth=depth), folder / "board")
    return folder, photo, depth, plan, index


# ----------------------------------------------------------------------------------------
# The cell plan


def test_all_is_every_move_once_without_aliases():
    cells = plan_cells("all")
    names = [c.move for c in cells]
    assert names == list(distinct_moves())
    assert "arc" not in names and "dutch" not in names and {"orbit", "roll", "static"} <= set(names)
    assert [c.number for c in cells] == list(range(1, len(cells) + 1))


def test_a_list_of_moves_keeps_its_order_and_parameters():
    cells = plan_cells("pan, orbit(degrees=8),zoom-in(factor=2, to_mm=none)")
    assert [c.expression for c in cells] == ["pan", "orbit(degrees=8)", "zoom-in(factor=2, to_mm=none)"]
    assert [c.label for c in cells] == [
        "pan(degrees=15 deg)",
        "orbit(degrees=8 deg)",
        "zoom-in(factor=2x, to_mm=none)",
    ]


def test_a_sweep_and_a_cross():
    sweep = plan_cells("orbit", ["degrees=4,8,12"])
    assert [c.expression for c in sweep] == ["orbit(degrees=4)", "orbit(degrees=8)", "orbit(degrees=12)"]
    assert sweep[1].label == "orbit(degrees=8 deg)" and sweep[1].name(3) == "02_orbit-degrees-8"
    cross = plan_cells("lemniscate,spiral", ["turns=1,2", "radius=0.05,0.1,0.2"])
    assert len(cross) == 2 * 2 * 3
    assert cross[0].expression == "lemniscate(turns=1, radius=0.05)"
    assert cross[5].expression == "lemniscate(turns=2, radius=0.2)"
    assert cross[6].label == "spiral(turns=1 turns, radius=0.05 x subject, push=0.2 x subject)"


@pytest.mark.parametrize(
    ("moves", "sweeps", "needle"),
    [
        ("all", ["degrees=4,8"], "move 'dolly-in' has no parameter 'degrees' (its parameters: distance"),
        ("all", ["degrees=4,8"], "moves with degrees: pan, tilt, orbit, roll, swing, handheld"),
        ("orbit", ["degres=4"], "(its parameters: degrees)"),
        (
            "orbit",
            ["degrees=4,99999"],
            "--sweep degrees=4,99999: move 'orbit': degrees=99999 is out of range",
        ),
        ("orbit", ["degrees=4,4"], "4 is given twice"),
        ("orbit", ["degrees=4,abc"], "'abc' is not a number"),
        ("orbit", ["degrees"], "write PARAM=V1,V2,..."),
        ("orbit", ["degrees=1", "degrees=2"], "swept twice"),
        ("orbit", ["degrees=1", "degrees=2", "degrees=3"], "at most 2 sweeps"),
        ("orbit(degrees=8)", ["degrees=1,2"], "give it in one place"),
        ("orbt", [], "--moves 'orbt': unknown move 'orbt'; choose one of: dolly-in"),
        ("orbit(degres=8)", [], "has no parameter 'degres'; valid parameters: degrees"),
        ("orbit(duration=2)", [], "duration is the board's"),
        ("pan,pan", [], "pan is given twice"),
        ("pan,all", [], "give all alone"),
        ("", [], "name moves separated by commas"),
        ("pan,,orbit", [], "name moves separated by commas"),
    ],
)
def test_a_bad_plan_says_what_is_wrong(moves, sweeps, needle):
    with pytest.raises(MoveError) as error:
        plan_cells(moves, sweeps)
    assert needle in str(error.value)


def test_too_many_cells_are_refused():
    values = ",".join(str(v) for v in range(MAX_CELLS + 1))
    with pytest.raises(MoveError, match=f"at most {MAX_CELLS}"):
        plan_cells("orbit", [f"degrees={values}"])


def test_cell_names_and_values():
    cell = Cell(3, "truck", (("distance", -0.5),))
    assert cell.expression == "truck(distance=-0.5)" and cell.name(120) == "003_truck-distance-m0.5"
    assert cell.label == "truck(distance=-0.5 m, fraction=0.1 x subject)"


# ----------------------------------------------------------------------------------------
# Layout and options


def test_the_default_board_is_hd():
    layout = board_layout(17)
    assert (layout.width, layout.height, layout.columns, layout.rows) == (1920, 1080, 5, 4)
    used_w, used_h = layout.used
    assert used_w <= 1920 and used_h <= 1080 and layout.cell_width % 2 == 0 == layout.cell_height % 2
    uhd = board_layout(17, "UHD")
    assert uhd.cell_width >= 2 * layout.cell_width - 8
    assert fit_grid(1, 1920, 1080).columns == 1


def test_a_cell_size_makes_the_grid_around_it():
    layout = board_layout(4, cell_size="64x36")
    assert layout == grid_around(4, 64, 36) and (layout.cell_width, layout.cell_height) == (64, 36)
    assert layout.width % 2 == 0 == layout.height % 2


@pytest.mark.parametrize(
    ("size", "cell_size", "needle"),
    [
        ("HD", "64x36", "give one"),
        ("source", None, "a board needs its own size"),
        ("1921x1080", None, "even sides"),
        (None, "65x36", "even sides"),
        (None, "8x8", "--cell-size 8x8: each side"),
        ("64x36", None, "do not fit"),
    ],
)
def test_bad_sizes_are_refused(size, cell_size, needle):
    with pytest.raises(InputError, match=needle):
        board_layout(17, size, cell_size)


def test_each_cell_gets_the_board_options_with_its_move_and_size():
    plan = plan_board({**SMALL, "crf": 20}, moves="pan,orbit", cell_size="64x36")
    assert [o.shot.move for o in plan.options] == ["pan", "orbit"]
    assert all(o.shot.size == "64x36" and o.output.crf == 20 and o.shot.fps == "12" for o in plan.options)


@pytest.mark.parametrize(
    ("given", "needle"),
    [
        ({"move": "pan"}, "--move is the cells'"),
        ({"params": ("degrees=3",)}, "--set is the cells'"),
        ({"stereo": "sbs"}, "no --stereo on a board"),
        ({"crf": 99}, "crf"),
    ],
)
def test_options_a_board_refuses(given, needle):
    with pytest.raises(InputError, match=needle):
        plan_board(given, moves="pan", cell_size="64x36")


# ----------------------------------------------------------------------------------------
# The rendered board


def test_the_board_folder(board):
    folder, photo, _, _, index = board
    out = folder / "board"
    assert sorted(p.name for p in out.iterdir()) == [
        "board.json",
        "board.mp4",
        "board.pdf",
        "board.png",
        "cells",
    ]
    assert json.loads((out / "board.json").read_text()) == index
    assert [c["output"] for c in index["cells"]] == [
        "cells/01_pan-degrees-4.mp4",
        "cells/02_pan-degrees-8.mp4",
        "cells/03_orbit-degrees-4.mp4",
        "cells/04_orbit-degrees-8.mp4",
    ]
    assert index["cells"][3]["expression"] == "orbit(degrees=8)"
    assert index["cells"][3]["label"] == "orbit(degrees=8 deg)"
    assert index["source"]["photo"] == str(photo.resolve()) and index["frames"] == 3
    for cell in index["cells"]:
        recipe = read_recipe(out / cell["recipe"])
        assert recipe.options["shot"]["move"] == cell["expression"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]


def test_every_cell_equals_a_single_render_and_its_rerender_bit_for_bit(board, tmp_path):
    folder, photo, depth, plan, index = board
    for cell, options in zip(index["cells"], plan.options, strict=True):
        cell_bytes = (folder / "board" / cell["output"]).read_bytes()
        recipe = read_recipe(folder / "board" / cell["recipe"])
        single = tmp_path / f"single{cell['number']}.mp4"
        pipeline.render(photo, depth, single, RenderOptions.from_dict(recipe.options))
        assert single.read_bytes() == cell_bytes
        # the cell's options as planned (renderer auto) render the same bytes too
        planned = tmp_path / f"planned{cell['number']}.mp4"
        pipeline.render(photo, depth, planned, options)
        assert planned.read_bytes() == cell_bytes
        again = tmp_path / f"again{cell['number']}.mp4"
        pipeline.rerender(folder / "board" / cell["recipe"], again)
        assert again.read_bytes() == cell_bytes


def test_the_contact_sheet(board):
    from PIL import Image

    folder, *_ = board
    out = folder / "board"
    with Image.open(out / "board.png") as png:
        size = png.size
    tile_w = 3 * 64 + 2 * 2  # three frames, two gaps
    assert size[0] == 2 * tile_w + 3 * 2  # two tiles a row, three gaps
    pdf = (out / "board.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    # the sheet's pixels: cell 1's first frame is the cell video's first frame as it was encoded
    with Image.open(out / "board.png") as png:
        pixels = np.asarray(png.convert("RGB"))
    assert pixels.shape[1] == size[0] and pixels.std() > 5


def test_pdf_pages_hold_page_rows_of_cells():
    tiles = [np.full((50, 200, 3), i * 20, np.uint8) for i in range(9)]
    (png,) = sheet_pages(tiles, "title")
    pages = sheet_pages(tiles, "title", rows=PAGE_ROWS)
    assert len(pages) == 2 and all(p.shape == pages[0].shape for p in pages)
    assert png.shape[0] > pages[0].shape[0] and png.shape[1] == pages[0].shape[1]


def test_the_grid_video_plays_every_cell_in_sync(board):
    folder, _, _, plan, index = board
    frames, width, height = _video(folder / "board" / "board.mp4")
    assert (frames, width, height) == (3, plan.layout.width, plan.layout.height)
    assert (index["grid"]["width"], index["grid"]["height"]) == (width, height)
    for cell in index["cells"]:
        assert _video(folder / "board" / cell["output"]) == (3, 64, 36)


def test_pick_without_overrides_gives_the_cells_bytes(board, tmp_path):
    folder, *_ = board
    out = tmp_path / "shot.mp4"
    recipe = pick(folder / "board", 2, out)
    assert out.read_bytes() == (folder / "board" / "cells" / "02_pan-degrees-8.mp4").read_bytes()
    assert recipe.options["shot"]["move"] == "pan(degrees=8)" and (tmp_path / "shot.recipe.json").is_file()


def test_pick_with_a_size_renders_the_cell_larger(board, tmp_path, capsys):
    folder, *_ = board
    out = tmp_path / "big.mp4"
    code, err = _run(
        ["board", str(folder / "board"), "--pick", "4", "-o", str(out), "--size", "128x72"], capsys
    )
    assert code == 0, err
    assert _video(out) == (3, 128, 72)
    recipe = read_recipe(tmp_path / "big.recipe.json")
    assert recipe.options["shot"]["move"] == "orbit(degrees=8)" and recipe.options["shot"]["size"] == "128x72"
    # the picked shot's recipe re-renders it exactly
    again = tmp_path / "again.mp4"
    pipeline.rerender(tmp_path / "big.recipe.json", again)
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--pick", "9"], "--pick 9: the board has cells 1..4"),
        (["--pick", "0"], "--pick 0: the board has cells 1..4"),
        (["--pick", "x"], "invalid int value"),
        (["--pick", "1", "--move", "pan"], "--move would change the cell's camera"),
        (["--pick", "1", "--sweep", "degrees=3"], "--sweep makes a board"),
        (["--pick", "1", "--size", "12x"], "--size"),
    ],
)
def test_bad_picks_fail_before_any_file_is_decoded(argv, needle, board, tmp_path, capsys, decoding):
    folder, *_ = board
    code, err = _run(["board", str(folder / "board"), *argv, "-o", str(tmp_path / "x.mp4")], capsys)
    assert code == 2 and needle in err and decoding == []
    assert not (tmp_path / "x.mp4").exists()


def test_pick_of_a_folder_that_is_no_board(tmp_path, capsys):
    code, err = _run(["board", str(tmp_path), "--pick", "1", "-o", str(tmp_path / "x.mp4")], capsys)
    assert code == 2 and "not a board (no board.json)" in err


# ----------------------------------------------------------------------------------------
# The command line


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--moves", "pan,orbt"], "--moves 'orbt': unknown move"),
        (["--moves", "all", "--sweep", "degrees=4"], "has no parameter 'degrees'"),
        (["--moves", "pan", "--move", "tilt"], "--move is the cells'"),
        (["--moves", "pan", "--size", "HD", "--cell-size", "64x36"], "give one"),
        (["--moves", "pan", "--fps", "abc"], "--fps"),
        (["--moves", "pan", "--codec", "prores-422hq"], "prores"),
        (["--moves", "pan", "--example"], "not both"),
    ],
)
def test_a_bad_board_fails_before_any_file_is_decoded(argv, needle, tmp_path, capsys, decoding):
    photo, depth = tiny_shot_inputs(tmp_path)
    out = tmp_path / "b"
    code, err = _run(["board", str(photo), "--depth", str(depth), *CLI_SMALL, *argv, "-o", str(out)], capsys)
    assert code == 2, err
    assert needle in err and decoding == []
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_a_folder_of_other_files_is_refused(tmp_path, capsys, decoding):
    photo, depth = tiny_shot_inputs(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("keep")
    code, err = _run(
        ["board", str(photo), "--depth", str(depth), "-o", str(tmp_path / "b"), *CLI_SMALL], capsys
    )
    assert code == 1 and "holds other files, not a board" in err and decoding == []
    assert (tmp_path / "b" / "notes.txt").read_text() == "keep"


def test_the_example_board_and_overwrite(tmp_path, capsys):
    out = tmp_path / "b"
    argv = [
        "board",
        "--example",
        "--example-size",
        "128x72",
        "--moves",
        "pan,tilt",
        "-o",
        str(out),
        *CLI_SMALL,
    ]
    code, err = _run(argv, capsys)
    assert code == 0, err
    index = json.loads((out / "board.json").read_text())
    assert index["source"] == {"example": "128x72"} and len(index["cells"]) == 2
    first = (out / "cells" / "01_pan.mp4").read_bytes()
    code, err = _run(argv, capsys)
    assert code == 1 and "a board is there already; pass --overwrite" in err
    code, err = _run([*argv, "--overwrite"], capsys)
    assert code == 0, err
    assert (out / "cells" / "01_pan.mp4").read_bytes() == first  # the same recipe, the same bytes
    single = tmp_path / "single.mp4"
    pipeline.rerender(out / "cells" / "01_pan.recipe.json", single)
    assert single.read_bytes() == first
    demo = tmp_path / "demo.mp4"  # stillcam demo with the cell's recipe options: the same bytes
    options = RenderOptions.from_dict(read_recipe(out / "cells" / "01_pan.recipe.json").options)
    pipeline.demo(demo, options, example_size="128x72")
    assert demo.read_bytes() == first
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_a_failing_board_leaves_no_folder(tmp_path, monkeypatch, caplog):
    photo, depth = tiny_shot_inputs(tmp_path)
    plan = plan_board(SMALL, moves="pan", cell_size="64x36")

    def broken(*args, **kwargs):
        raise OutputError("disk full")

    monkeypatch.setattr(board_module, "_write_contact_sheet", broken)
    with pytest.raises(OutputError, match="disk full"):
        render_board(plan, BoardSource(photo=photo, depth=depth), tmp_path / "b")
    assert not (tmp_path / "b").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    # the guard's warnings (a 64x36 pan of a 64x36 photo upscales) name their cell
    warnings = [r.getMessage() for r in caplog.records if r.name == "stillcam"]
    assert warnings and all(w.startswith("cell 1 pan: ") for w in warnings)


def test_board_help_names_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["board", "--help"])
    out = capsys.readouterr().out
    for word in ("--moves", "--sweep", "--pick", "--cell-size", "--example", "grid video's size"):
        assert word in out
