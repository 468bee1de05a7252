"""No silent data loss (issue #15): no output of a command is one of its inputs or another of
its outputs, each output has its own recipe, final names are claimed atomically, a sequence
replaced with --overwrite keeps no old frame, and an output is published whole (frames,
passes and recipe) or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stillcam import pipeline
from stillcam.cli import main
from stillcam.errors import OutputError
from stillcam.io import files
from stillcam.options import RenderOptions
from stillcam.output.targets import parse_output

SMALL = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--move", "orbit", "--quiet"]


@pytest.fixture()
def decoding(monkeypatch) -> list[str]:
    """Counts every decode of a photo, depth file or the bundled example by the pipeline."""
    calls: list[str] = []
    for name in ("load_image", "read_depth_file", "example_inputs"):
        real = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, lambda *a, _n=name, _r=real, **k: calls.append(_n) or _r(*a, **k))
    return calls


def _run(argv: list[str], capsys) -> tuple[int, str]:
    """(exit code, stderr) of the CLI in this process."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


def _render(photo: Path, depth: Path, output: Path, *extra: str) -> list[str]:
    return ["render", str(photo), "--depth", str(depth), "-o", str(output), *SMALL, *extra]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_error_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("stillcam: error: ")


def test_each_output_has_its_own_recipe_name():
    names = {
        "shot.mp4": "shot.recipe.json",  # today's name for the common case
        "shot.mov": "shot.mov.recipe.json",
        "shot.mkv": "shot.mkv.recipe.json",
        "shot.####.png": "shot.png.recipe.json",
        "shot.%04d.png": "shot.png.recipe.json",  # the same frames as shot.####.png
        "shot.####.exr": "shot.exr.recipe.json",
    }
    assert {out: parse_output(out).recipe_path.name for out in names} == names


def test_a_video_and_a_sequence_of_one_stem_keep_their_recipes(photo_files, tmp_path, capsys):
    photo, depth = photo_files
    assert _run(_render(photo, depth, tmp_path / "shot.mp4"), capsys)[0] == 0
    assert _run(_render(photo, depth, tmp_path / "shot.####.png", "--overwrite"), capsys)[0] == 0
    video = json.loads((tmp_path / "shot.recipe.json").read_text())
    frames = json.loads((tmp_path / "shot.png.recipe.json").read_text())
    assert video["output"]["camera_path"] == "shot.mp4" and frames["output"]["camera_path"] == "shot.####.png"


def test_a_recipe_name_holding_another_outputs_recipe_is_refused(photo_files, tmp_path, capsys, decoding):
    """An old stillcam wrote shot.####.png's recipe as shot.recipe.json: shot.mp4 must not replace it."""
    photo, depth = photo_files
    old = json.dumps({"format": 1, "output": {"camera_path": "shot.####.png"}})
    (tmp_path / "shot.recipe.json").write_text(old)
    code, err = _run(_render(photo, depth, tmp_path / "shot.mp4", "--overwrite"), capsys)
    assert code == 1 and _one_error_line(err) and "is the recipe of shot.####.png" in err, err
    assert decoding == [] and (tmp_path / "shot.recipe.json").read_text() == old
    assert not (tmp_path / "shot.mp4").exists()


def test_a_pass_never_writes_over_the_depth_file_it_reads(photo_files, tmp_path, capsys, decoding):
    photo, depth = photo_files
    assert _run(_render(photo, depth, tmp_path / "shot.mp4", "--pass", "depth"), capsys)[0] == 0
    decoding.clear()
    pass_frame = tmp_path / "shot.depth.1001.exr"
    before = _snapshot(tmp_path)
    code, err = _run(
        _render(photo, pass_frame, tmp_path / "shot.mp4", "--pass", "depth", "--overwrite"), capsys
    )
    assert code == 2 and _one_error_line(err) and "--depth file this command reads" in err, err
    assert decoding == [] and _snapshot(tmp_path) == before


@pytest.mark.parametrize("link", [False, True])
def test_an_output_is_never_the_photo(photo_files, tmp_path, capsys, decoding, link):
    """A photo named like a frame of the output, or a symbolic link there to the photo."""
    photo, depth = photo_files
    out = tmp_path / "out"
    out.mkdir()
    named = out / "s.1001.png"
    if link:
        named.symlink_to(photo)
    else:
        named.write_bytes(photo.read_bytes())
    before = named.read_bytes()
    code, err = _run(_render(named, depth, out / "s.####.png", "--overwrite"), capsys)
    assert code == 2 and _one_error_line(err) and "the photo this command reads" in err, err
    assert decoding == [] and named.read_bytes() == before and [p.name for p in out.iterdir()] == [named.name]


def test_an_export_never_replaces_the_renders_own_recipe(photo_files, tmp_path, capsys, decoding):
    photo, depth = photo_files
    for extra in ([], ["--overwrite"]):
        argv = _render(
            photo, depth, tmp_path / "shot.mp4", "--export", str(tmp_path / "shot.recipe.json"), *extra
        )
        code, err = _run(argv, capsys)
        assert code == 2 and _one_error_line(err) and "would overwrite the recipe" in err, err
    assert decoding == [] and sorted(tmp_path.iterdir()) == sorted([photo, depth])


def test_an_export_never_replaces_the_camera_file_it_renders(photo_files, tmp_path, capsys, decoding):
    photo, depth = photo_files
    cams = tmp_path / "cam.json"
    assert _run(_render(photo, depth, tmp_path / "a.mp4", "--export", str(cams)), capsys)[0] == 0
    decoding.clear()
    before = cams.read_bytes()
    render = ["render", str(photo), "--depth", str(depth), "--path", str(cams), "-o", str(tmp_path / "b.mp4")]
    code, err = _run([*render, "--export", str(cams), "--overwrite", "--quiet"], capsys)
    assert code == 2 and _one_error_line(err) and "the --path file this command reads" in err, err
    export = [
        "export",
        str(photo),
        "--depth",
        str(depth),
        "--path",
        str(cams),
        "-o",
        str(cams),
        "--overwrite",
    ]
    code, err = _run(export, capsys)
    assert code == 2 and _one_error_line(err) and "the --path file this command reads" in err, err
    assert decoding == [] and cams.read_bytes() == before and not (tmp_path / "b.mp4").exists()


def test_a_sequence_rerendered_with_fewer_frames_keeps_no_old_frame(photo_files, tmp_path, capsys):
    photo, depth = photo_files
    out = tmp_path / "s.####.png"
    assert _run([*_render(photo, depth, out), "--fps", "24"], capsys)[0] == 0  # 6 frames
    (tmp_path / "s.0999.png").write_bytes(b"an older render's frame")
    (tmp_path / "s.1001.png.bak").write_bytes(b"not a frame of the sequence")
    assert _run([*_render(photo, depth, out), "--overwrite"], capsys)[0] == 0  # 3 frames
    frames = sorted(p.name for p in tmp_path.glob("s.*.png"))
    assert frames == ["s.1001.png", "s.1002.png", "s.1003.png"]
    assert json.loads((tmp_path / "s.png.recipe.json").read_text())["output"]["frames"] == 3
    assert (tmp_path / "s.1001.png.bak").exists()


def test_a_sequence_with_frames_on_disk_needs_overwrite(photo_files, tmp_path, capsys, decoding):
    """Even when the recipe is gone and the old frames are not the ones this render writes."""
    photo, depth = photo_files
    (tmp_path / "s.0007.png").write_bytes(b"keep")
    code, err = _run(_render(photo, depth, tmp_path / "s.####.png"), capsys)
    assert code == 1 and _one_error_line(err) and "--overwrite" in err and "s.0007.png" in err, err
    assert decoding == [] and (tmp_path / "s.0007.png").read_bytes() == b"keep"


@pytest.mark.parametrize("in_the_way", ["s.1002.png", "s.png.recipe.json", "s.depth.1003.exr"])
def test_a_folder_under_a_final_name_stops_the_render_before_work(
    photo_files, tmp_path, capsys, decoding, in_the_way
):
    photo, depth = photo_files
    out = tmp_path / "out"
    (out / in_the_way).mkdir(parents=True)
    code, err = _run(_render(photo, depth, out / "s.####.png", "--pass", "depth", "--overwrite"), capsys)
    assert code == 1 and _one_error_line(err) and "is a folder" in err and in_the_way in err, err
    assert decoding == [] and [p.name for p in out.iterdir()] == [in_the_way]


def test_a_final_name_taken_during_the_render_publishes_nothing(photo_files, tmp_path):
    """Everything publishable is checked before anything is published: the video, its pass
    and its recipe appear together or not at all."""
    photo, depth = photo_files
    options = RenderOptions.from_fields(
        {"size": "64x36", "duration": 0.25, "fps": "12", "passes": ("depth",)}
    )
    recipe = tmp_path / "shot.recipe.json"

    def take_the_recipe_name(done: int, total: int) -> None:
        if done == 1:
            recipe.mkdir()

    with pytest.raises(OutputError, match="is a folder"):
        pipeline.render(
            photo, depth, tmp_path / "shot.mp4", options, overwrite=True, on_frame=take_the_recipe_name
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([photo.name, depth.name, "shot.recipe.json"])


def test_the_second_of_two_publishes_to_one_name_fails_and_withdraws_its_files(tmp_path, monkeypatch):
    """The final names are claimed with hard links: a name taken after the check (another
    render finishing first) fails the publish, and what this one published is withdrawn."""
    partial = files.make_partial(tmp_path / "s.####.png")
    pairs = []
    for name in ("s.1001.png", "s.1002.png"):
        (partial / name).write_bytes(b"new " + name.encode())
        pairs.append((partial / name, tmp_path / name))
    monkeypatch.setattr(files, "check_final", lambda *args, **kwargs: None)  # taken after the check
    (tmp_path / "s.1002.png").write_bytes(b"the other render's")
    with pytest.raises(OutputError, match=r"s\.1002\.png: already exists"):
        files.publish_all(pairs, overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [partial.name, "s.1002.png"]
    assert (tmp_path / "s.1002.png").read_bytes() == b"the other render's"


def test_two_renders_to_one_output_at_once_one_wins(photo_files, tmp_path):
    """Neither with --overwrite: exactly one succeeds, the other fails with one line (refused
    at the start while the first one's partial exists, or when it publishes), nothing partial
    is left, and the output is the winner's, whole."""
    photo, depth = photo_files
    out = tmp_path / "out"
    out.mkdir()
    argv = [sys.executable, "-m", "stillcam", *_render(photo, depth, out / "shot.mp4"), "--duration", "2"]
    runs = [subprocess.Popen(argv, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.communicate(timeout=120)[1], run.returncode) for run in runs]
    results = [(code, err) for err, code in results]
    assert sorted(code for code, _ in results) == [0, 1], results
    err = next(err for code, err in results if code == 1)
    assert _one_error_line(err) and "--overwrite" in err, (
        err
    )  # (names shot.mp4, or its recipe if the first ended)
    assert sorted(p.name for p in out.iterdir()) == ["shot.mp4", "shot.recipe.json"]
    assert json.loads((out / "shot.recipe.json").read_text())["output"]["frames"] == 24


def test_a_live_renders_partial_refuses_a_second_render_without_overwrite(photo_files, tmp_path, capsys):
    photo, depth = photo_files
    partial = files.make_partial(tmp_path / "shot.mp4")  # this process: alive
    code, err = _run(_render(photo, depth, tmp_path / "shot.mp4"), capsys)
    assert code == 1 and _one_error_line(err) and f"(pid {os.getpid()}) is writing it" in err, err
    assert partial.is_dir()


def test_long_output_names_work_up_to_the_folders_limit(photo_files, tmp_path, capsys):
    """The partial names are short whatever the output's; a recipe name past the limit is
    refused before work."""
    photo, depth = photo_files
    video, frames = "v" * 236 + ".mp4", "f" * 231 + ".####.png"  # 240 characters each
    assert _run(_render(photo, depth, tmp_path / video), capsys)[0] == 0
    export = tmp_path / ("e" * 246 + ".glb")
    assert _run(_render(photo, depth, tmp_path / frames, "--export", str(export)), capsys)[0] == 0
    assert (tmp_path / ("v" * 236 + ".recipe.json")).is_file() and export.is_file()
    assert (tmp_path / ("f" * 231 + ".png.recipe.json")).is_file()
    code, err = _run(_render(photo, depth, tmp_path / ("w" * 250 + ".mp4")), capsys)
    assert code == 1 and _one_error_line(err) and "262 bytes" in err, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("w", "."))]


def test_rerender_never_writes_over_the_recipe_or_the_photo_it_reads(photo_files, tmp_path, capsys):
    photo, depth = photo_files
    video = tmp_path / "shot.mp4"
    assert _run(_render(photo, depth, video), capsys)[0] == 0
    recipe = tmp_path / "shot.recipe.json"
    before = _snapshot(tmp_path)
    code, err = _run(["rerender", str(recipe), "-o", str(video), "--overwrite", "--quiet"], capsys)
    assert code == 2 and _one_error_line(err) and "recipe" in err, err
    code, err = _run(["rerender", str(recipe), "-o", str(tmp_path / photo.name), "--overwrite"], capsys)
    assert code == 2 and _one_error_line(err), err
    assert _snapshot(tmp_path) == before
    assert _run(["rerender", str(recipe), "-o", str(tmp_path / "again.mp4"), "--quiet"], capsys)[0] == 0
