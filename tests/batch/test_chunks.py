"""Chunked shots without Ray (issue #16): frames rendered in chunks into raw (lossless)
intermediates, then joined by one encode, give the same files as one ``stillcam render``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam.batch.chunks import (
    FRAMES,
    RAW_SUFFIX,
    RECORD,
    ReplayRenderer,
    check_shot,
    chunk_folder,
    chunk_frames,
    chunk_ranges,
    encode_chunks,
    remove_chunks,
    render_chunk,
    unchunkable,
)
from stillcam.batch.jobs import ShotJob, run_shot
from stillcam.camera.plan import ShotSettings
from stillcam.errors import OutputError
from stillcam.options import RenderOptions
from stillcam.output.writers import OutputSettings
from stillcam.render.frame import DisplayRenderer

FPS = "12"


def _inputs(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    return tiny_shot_inputs(folder, seed)


def _options(seconds: float = 2.5, **output: object) -> RenderOptions:
    shot = ShotSettings(move="orbit", size="64x36", duration=seconds, fps=FPS)
    return RenderOptions(shot=shot, output=OutputSettings(**output))  # type: ignore[arg-type]


def _job(photo: Path, depth: Path, output: Path, options: RenderOptions) -> ShotJob:
    output.parent.mkdir(parents=True, exist_ok=True)
    return ShotJob("SH010", photo, depth, options, output)


def _chunked(job: ShotJob, scratch: Path, size: int) -> tuple[list[Path], object]:
    first, count = check_shot(job, overwrite=False)
    folders = []
    for a, b in chunk_ranges(first, count, size):
        folder = chunk_folder(job, scratch, a, b)
        result = render_chunk(job, a, b, folder)
        assert result.error is None and result.frames == b - a + 1 and not result.reused
        folders.append(folder)
    return folders, encode_chunks(job, folders)


def _files(folder: Path) -> dict[str, bytes]:
    return {file.name: file.read_bytes() for file in sorted(folder.iterdir()) if file.is_file()}


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _same_frames(a: Path, b: Path) -> int:
    """How many frames the videos ``a`` and ``b`` decode to, checked equal, pixel for pixel."""
    frames_a, frames_b = _decoded(a), _decoded(b)
    assert len(frames_a) == len(frames_b)
    assert all(np.array_equal(x, y) for x, y in zip(frames_a, frames_b, strict=True))
    return len(frames_a)


def test_chunk_ranges_cover_the_shot_in_order():
    assert chunk_ranges(1001, 30, 8) == [(1001, 1008), (1009, 1016), (1017, 1024), (1025, 1030)]
    assert chunk_ranges(1, 5, 48) == [(1, 5)]
    assert chunk_ranges(10, 4, 1) == [(10, 10), (11, 11), (12, 12), (13, 13)]
    spans = chunk_ranges(1001, 97, 48)
    frames = [n for a, b in spans for n in range(a, b + 1)]
    assert frames == list(range(1001, 1098))
    with pytest.raises(ValueError):
        chunk_ranges(1001, 0, 8)
    with pytest.raises(ValueError):
        chunk_ranges(1001, 8, 0)


@pytest.mark.parametrize(
    ("output", "codec", "bit_depth"),
    [
        ("shot.####.png", "h264", 8),
        ("shot.####.png", "h264", 16),
        ("shot.mp4", "h264", 8),
        ("shot.mkv", "ffv1", 16),
    ],
)
def test_a_chunked_shot_is_the_single_process_render(tmp_path, output, codec, bit_depth):
    photo, depth = _inputs(tmp_path / "in")
    options = _options(codec=codec, bit_depth=bit_depth)
    whole = run_shot(_job(photo, depth, tmp_path / "whole" / output, options))
    job = _job(photo, depth, tmp_path / "chunked" / output, options)
    folders, result = _chunked(job, tmp_path / "scratch", 8)
    assert whole.status == result.status == "done" and whole.frames == result.frames == 30
    assert len(folders) == 4
    a, b = _files(tmp_path / "whole"), _files(tmp_path / "chunked")
    assert a.keys() == b.keys()
    if output.endswith(".mkv"):  # Matroska writes a random segment UID: the frames are the same
        assert a["shot.mkv.recipe.json"] == b["shot.mkv.recipe.json"]
    else:  # PNG frames, h264 .mp4 and the recipe: the same bytes
        assert a == b
    if not output.endswith(".png"):
        assert _same_frames(tmp_path / "whole" / output, tmp_path / "chunked" / output) == 30


def test_a_frame_span_renders_in_chunks_too(tmp_path):
    photo, depth = _inputs(tmp_path / "in", seed=3)
    options = replace(_options(), shot=replace(_options().shot, frames="1004-1020"))
    whole_job = _job(photo, depth, tmp_path / "whole" / "s.####.png", options)
    whole = run_shot(
        replace(whole_job, exports=(tmp_path / "whole" / "s.chan", tmp_path / "whole" / "s.json"))
    )
    job = _job(photo, depth, tmp_path / "chunked" / "s.####.png", options)
    job = replace(job, exports=(tmp_path / "chunked" / "s.chan", tmp_path / "chunked" / "s.json"))
    assert check_shot(job, overwrite=False) == (1004, 17)
    folders, result = _chunked(job, tmp_path / "scratch", 8)
    assert len(folders) == 3 and whole.frames == result.frames == 17
    assert result.outputs == (str(job.output), *map(str, job.exports))
    files = _files(tmp_path / "whole")
    assert {"s.chan", "s.json", "s.1004.png", "s.1020.png"} <= files.keys() and len(files) == 17 + 3
    assert files == _files(tmp_path / "chunked")  # the frames, the recipe and the exports


def test_a_chunk_rendered_twice_has_the_same_files_and_is_reused_when_asked(tmp_path):
    photo, depth = _inputs(tmp_path / "in")
    job = _job(photo, depth, tmp_path / "out" / "shot.mp4", _options())
    folder = chunk_folder(job, tmp_path / "scratch", 1009, 1016)
    first = render_chunk(job, 1009, 1016, folder)
    before = _files(folder)
    assert first.error is None and len(before) == 8 + 2  # the frames, the chunk's recipe, its record
    again = render_chunk(job, 1009, 1016, folder)  # a retried task: rewrites the same files
    assert again.error is None and not again.reused and _files(folder) == before
    kept = render_chunk(job, 1009, 1016, folder, reuse=True)
    assert kept.reused and kept.frames == 8 and kept.renderer == first.renderer and _files(folder) == before
    record = json.loads((folder / RECORD).read_text())
    assert (record["first"], record["last"], len(record["files"])) == (1009, 1016, 8)
    stored = np.load(folder / record["files"][0])  # the display pixels, raw
    assert record["files"][0] == "frame.000001009.npy" and (stored.shape, stored.dtype) == (
        (36, 64, 3),
        np.uint8,
    )
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no partial left
    other = replace(job, options=_options(seconds=3.0))  # other options: not this job's chunk
    redone = render_chunk(other, 1009, 1016, folder, reuse=True)
    assert not redone.reused and redone.error is None


def test_encode_refuses_missing_incomplete_foreign_or_unordered_chunks(tmp_path):
    photo, depth = _inputs(tmp_path / "in")
    job = _job(photo, depth, tmp_path / "out" / "shot.mp4", _options(seconds=1.0))  # 12 frames
    scratch = tmp_path / "scratch"
    folders = [chunk_folder(job, scratch, a, b) for a, b in chunk_ranges(1001, 12, 6)]
    for folder, (a, b) in zip(folders, chunk_ranges(1001, 12, 6), strict=True):
        assert render_chunk(job, a, b, folder).error is None
    with pytest.raises(OutputError, match="starts at frame 1001"):
        chunk_frames(job, folders[::-1])
    with pytest.raises(OutputError, match="other inputs or options"):
        chunk_frames(replace(job, options=_options(seconds=1.0, crf=20)), folders)
    next(folders[1].glob("frame.*.npy")).unlink()
    with pytest.raises(OutputError, match="incomplete"):
        chunk_frames(job, folders)
    failed = encode_chunks(job, [folders[0], scratch / "missing"])
    assert failed.status == "failed" and "chunk.json" in (failed.error or "")
    assert not (tmp_path / "out" / "shot.mp4").exists()
    short = encode_chunks(job, folders[:1])  # 6 frames for a 12-frame shot: nothing published
    assert short.status == "failed" and "hold 6 frames" in (short.error or "")
    assert not list((tmp_path / "out").iterdir())
    remove_chunks(folders)
    assert not scratch.exists() or not any(scratch.iterdir())


def test_only_outputs_of_display_pixels_are_chunked(tmp_path):
    photo, depth = _inputs(tmp_path / "in")

    def reason(output: str, **settings: object) -> str | None:
        return unchunkable(_job(photo, depth, tmp_path / output, _options(**settings)))

    assert reason("s.mp4") is None and reason("s.####.png") is None and reason("s.mkv", codec="ffv1") is None
    assert reason("s.mov", codec="prores-422hq") is None
    assert "alpha" in (reason("s.mov", codec="prores-4444") or "")
    assert "EXR" in (reason("s.####.exr") or "")
    assert "--pass" in (reason("s.mp4", passes=("depth",)) or "")


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("fstop", 2.8, "--fstop"),
        ("shutter", 180.0, "--shutter"),
        ("distortion", "-0.1,0,0,0", "--distortion"),
    ],
)
def test_lens_effects_render_the_shot_whole(tmp_path, field, value, flag):
    """The encode replays display pixels through ``render_with``: a lens effect there would
    be applied to the replayed frames again, so such shots are one task."""
    photo, depth = _inputs(tmp_path / "in")
    options = _options()
    lensed = replace(options, render=replace(options.render, **{field: value}))
    assert flag in (unchunkable(_job(photo, depth, tmp_path / "s.mp4", lensed)) or "")
    assert unchunkable(_job(photo, depth, tmp_path / "s.mp4", options)) is None


@pytest.mark.parametrize("stored", ["raw", "png"])  # png: chunks an earlier stillcam stored
def test_the_replay_renderer_hands_over_stored_pixels(tmp_path, stored):
    pixels = np.arange(6 * 4 * 3, dtype=np.uint16).reshape(6, 4, 3) * 1000
    file = tmp_path / FRAMES.replace("#########", "000001001")
    if stored == "raw":
        file = file.with_suffix(RAW_SUFFIX)
        np.save(file, pixels)
    else:
        cv2.imwrite(str(file), pixels[..., ::-1])
    replay = ReplayRenderer([file])
    assert isinstance(replay, DisplayRenderer)
    out = np.zeros_like(pixels)
    assert replay.render_display(None, None, True, np.zeros(3), np.float32(65535), out)  # type: ignore[arg-type]
    assert np.array_equal(out, pixels)
    with pytest.raises(OutputError, match="hold 1 frames"):
        replay.render_display(None, None, True, np.zeros(3), np.float32(65535), out)  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="needs"):
        ReplayRenderer([file]).render_display(
            None, None, True, np.zeros(3), np.float32(255), np.zeros((6, 4, 3), np.uint8)
        )  # type: ignore[arg-type]
