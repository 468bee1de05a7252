"""Editorial in and out (issue #16): an OpenTimelineIO cut of stills as shot rows, and the
rendered shots back as a timeline (names, durations and order kept)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stillcam.batch.editorial import (
    TIMELINE_NAME,
    TimelineError,
    read_timeline,
    safe_name,
    shots_from_timeline,
    timeline_of_results,
)
from stillcam.batch.jobs import ShotJob, ShotResult
from stillcam.errors import InputError, MissingExtraError
from stillcam.options import RenderOptions

otio = pytest.importorskip("opentimelineio")
rt = otio.opentime


def _still(path: Path, shade: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((36, 64, 3), shade, np.uint8)).save(path)
    return path


def _range(frames: float, rate: float, start: float = 0) -> object:
    return rt.TimeRange(rt.RationalTime(start, rate), rt.RationalTime(frames, rate))


def _clip(name: str, url: str, frames: float, rate: float, **metadata: object) -> object:
    return otio.schema.Clip(
        name=name,
        media_reference=otio.schema.ExternalReference(target_url=url),
        source_range=_range(frames, rate),
        metadata={"stillcam": metadata} if metadata else {},
    )


def _timeline(*tracks: object) -> object:
    return otio.schema.Timeline(name="cut", tracks=list(tracks))


def _write(timeline: object, path: Path) -> Path:
    otio.adapters.write_to_file(timeline, str(path))
    return path


@pytest.fixture()
def cut(tmp_path: Path) -> Path:
    """cut.otio: three stills on V1 (24 and 25 fps, a relative path, a file:// URL, an image
    sequence), a gap and a transition between them, a second video track and an audio track."""
    a = _still(tmp_path / "stills" / "a.png", 60)
    b = _still(tmp_path / "elsewhere" / "b photo.png", 120)
    _still(tmp_path / "seq" / "c.1001.png", 180)
    _still(tmp_path / "seq" / "c.1002.png", 200)
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    v1.append(_clip("SEQ010 SH010", "stills/%61.png", 48, 24))  # percent-encoded, as OTIO writes paths
    v1.append(otio.schema.Gap(source_range=_range(12, 24)))
    v1.append(_clip("SEQ010/SH020", b.as_uri(), 50, 25, move="orbit", set={"degrees": 8}, stride=2))
    v1.append(otio.schema.Transition(in_offset=rt.RationalTime(6, 24), out_offset=rt.RationalTime(6, 24)))
    sequence = otio.schema.ImageSequenceReference(
        target_url_base="seq/",
        name_prefix="c.",
        name_suffix=".png",
        start_frame=1001,
        frame_zero_padding=4,
        rate=24,
        available_range=_range(2, 24, 1001),
    )
    v1.append(
        otio.schema.Clip(name="SEQ010 SH010", media_reference=sequence, source_range=_range(30, 24, 1002))
    )
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(_clip("overlay", a.as_uri(), 10, 24))
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    audio.append(_clip("music", "music.wav", 200, 24))
    return _write(_timeline(v1, v2, audio), tmp_path / "cut.otio")


def test_clips_become_shot_rows_in_order(cut: Path) -> None:
    rows = shots_from_timeline(cut)
    folder = cut.parent
    assert [r["name"] for r in rows] == ["SEQ010_SH010", "SEQ010_SH020", "SEQ010_SH010_2"]
    assert [(r["frames"], r["fps"]) for r in rows] == [(48, "24"), (50, "25"), (30, "24")]
    assert [Path(r["photo"]) for r in rows] == [
        folder / "stills" / "a.png",
        folder / "elsewhere" / "b photo.png",
        folder / "seq" / "c.1002.png",  # the frame the clip starts on
    ]
    assert rows[1]["move"] == "orbit"
    assert rows[1]["set"] == ["degrees=8"]
    assert rows[1]["options"] == {"stride": 2}
    assert "move" not in rows[0] and "options" not in rows[0]
    shots, errors = read_timeline(cut)
    assert errors == ()
    assert [row for _, row in shots] == rows
    assert [where for where, _ in shots] == [
        f"{cut} clip 1 'SEQ010 SH010'",
        f"{cut} clip 3 'SEQ010/SH020'",
        f"{cut} clip 5 'SEQ010 SH010'",
    ]


def _job(row: dict, renders: Path, suffix: str) -> ShotJob:
    fps = row["fps"]
    seconds = row["frames"] / int(fps)
    options = RenderOptions.from_fields({"duration": seconds, "fps": fps, "size": "64x36"})
    return ShotJob(row["name"], Path(row["photo"]), None, options, renders / f"{row['name']}_v001{suffix}")


def test_round_trip_keeps_names_durations_and_order(cut: Path, tmp_path: Path) -> None:
    """In, (pretend) render, out: the output timeline has the input's clips, named and timed
    as cut; the failed shot is a gap of its duration carrying its error."""
    renders = tmp_path / "renders"
    rows = shots_from_timeline(cut)
    jobs = [
        _job(rows[0], renders, ".mov"),
        _job(rows[1], renders, ".mov"),
        _job(rows[2], renders, ".####.exr"),
    ]
    results = [
        ShotResult(jobs[2].name, "done", frames=30),  # in any order
        ShotResult(jobs[0].name, "done", frames=48),
        ShotResult(jobs[1].name, "failed", error="shots.otio clip 3: the move left the photo"),
    ]
    written = timeline_of_results(jobs, results, renders / TIMELINE_NAME)
    assert written == renders / TIMELINE_NAME
    assert sorted(p.name for p in renders.iterdir()) == [TIMELINE_NAME]  # no partial left behind
    back = otio.adapters.read_from_file(str(written))
    (track,) = back.video_tracks()
    items = list(track)
    assert [i.name for i in items] == [r["name"] for r in rows]
    assert [(i.duration().value, i.duration().rate) for i in items] == [(48, 24), (50, 25), (30, 24)]
    assert isinstance(items[1], otio.schema.Gap)
    assert items[1].metadata["stillcam"]["status"] == "failed"
    assert "left the photo" in items[1].metadata["stillcam"]["error"]
    video, frames = items[0].media_reference, items[2].media_reference
    assert isinstance(video, otio.schema.ExternalReference)
    assert video.target_url == "SEQ010_SH010_v001.mov"  # relative to the timeline: relinks when moved
    assert isinstance(frames, otio.schema.ImageSequenceReference)
    assert (frames.start_frame, frames.rate, frames.frame_zero_padding) == (1001, 24, 4)
    assert frames.target_url_for_image_number(0) == "SEQ010_SH010_2_v001.1001.exr"
    assert frames.number_of_images_in_sequence() == 30
    assert items[2].metadata["stillcam"]["shot"] == "SEQ010_SH010_2"


def test_unrun_shots_are_gaps_and_rates_stay_exact(tmp_path: Path) -> None:
    """The manifest's records serve as results too; a shot without one was not run."""
    manifest = pytest.importorskip("stillcam.batch.manifest")
    photo = _still(tmp_path / "p.png")
    options = RenderOptions.from_fields({"duration": 2.0, "fps": "24000/1001"})
    jobs = [ShotJob(n, photo, None, options, tmp_path / "out" / f"{n}.mp4") for n in ("SH1", "SH2", "SH3")]
    records = [
        manifest.ShotRecord("SH2", "queued", 1, 1),
        manifest.ShotRecord("SH3", "done", 1, 1, frames=48),
    ]
    path = timeline_of_results(jobs, records, tmp_path / "elsewhere" / "t.otio")
    items = list(otio.adapters.read_from_file(str(path)).video_tracks()[0])
    assert [type(i).__name__ for i in items] == ["Gap", "Gap", "Clip"]
    assert [i.metadata["stillcam"]["status"] for i in items] == ["not run", "queued", "done"]
    for item in items:
        assert item.duration().value == 48 and abs(item.duration().rate - 24000 / 1001) < 1e-9
    assert items[2].media_reference.target_url == (tmp_path / "out" / "SH3.mp4").as_uri()  # outside: absolute


def test_rendered_timing_comes_from_the_recipe(tmp_path: Path) -> None:
    """A shot's recipe (its fps, frames and first frame) and timecode place its media."""
    import json

    photo = _still(tmp_path / "p.png")
    options = RenderOptions.from_fields({"duration": 1.0, "fps": "25", "timecode": "01:00:00:00"})
    video = ShotJob("SH1", photo, None, options, tmp_path / "r" / "SH1_v002.mov", version=2)
    frames = ShotJob("SH2", photo, None, options, tmp_path / "r" / "SH2.%04d.png")
    frames.recipe.parent.mkdir(parents=True)
    record = {"frames": 12, "first_frame": 101, "fps": "25/1"}  # a shot file's own timing
    frames.recipe.write_text(json.dumps({"output": record}))
    results = {"SH1": ShotResult("SH1", "skipped"), "SH2": ShotResult("SH2", "done", frames=12)}
    path = timeline_of_results([video, frames], results, tmp_path / "r" / TIMELINE_NAME)
    first, second = otio.adapters.read_from_file(str(path)).video_tracks()[0]
    assert first.media_reference.available_range.start_time == rt.RationalTime(90000, 25)  # 01:00:00:00
    assert first.duration() == rt.RationalTime(25, 25)
    assert first.metadata["stillcam"]["version"] == 2
    sequence = second.media_reference
    assert (sequence.start_frame, sequence.number_of_images_in_sequence()) == (101, 12)
    assert sequence.target_url_for_image_number(11) == "SH2.0112.png"
    assert second.metadata["stillcam"]["recipe"] == "SH2.png.recipe.json"


def test_bundles_otiod_and_otioz(tmp_path: Path) -> None:
    photo = _still(tmp_path / "src" / "still.png")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(_clip("SH010", photo.as_uri(), 24, 24))
    timeline = _timeline(track)
    otiod = _write(timeline, tmp_path / "cut.otiod")
    otioz = _write(timeline, tmp_path / "cut.otioz")
    (row,) = shots_from_timeline(otiod)
    assert Path(row["photo"]).read_bytes() == photo.read_bytes()
    assert Path(row["photo"]).is_relative_to(otiod)
    (row,) = shots_from_timeline(otioz, media_dir=tmp_path / "media")
    assert Path(row["photo"]).read_bytes() == photo.read_bytes()
    assert Path(row["photo"]).is_relative_to(tmp_path / "media")
    assert shots_from_timeline(otioz, media_dir=tmp_path / "media") == [row]  # extracted once, reused


def _problems(path: Path) -> list[str]:
    with pytest.raises(TimelineError) as info:
        shots_from_timeline(path)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2
    assert str(info.value).splitlines() == list(info.value.problems)
    return list(info.value.problems)


def test_bad_clips_are_reported_at_once_naming_each(tmp_path: Path) -> None:
    good = _still(tmp_path / "good.png")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(_clip("SH010", good.name, 24, 24))
    track.append(otio.schema.Clip(name="SH020", source_range=_range(24, 24)))  # no media reference
    track.append(_clip("SH030", "missing.png", 24, 24))
    track.append(_clip("SH 040", "https://example.com/x.png", 24, 24))
    track.append(_clip("SH050", good.name, 24, 24, fps="25"))
    track.append(_clip("SH060", good.name, 24, 24, moove="orbit"))
    track.append(otio.schema.Clip(name="SH070", media_reference=otio.schema.ExternalReference(good.name)))
    track.append(otio.schema.Stack(name="SH080"))
    disabled = _clip("SH090", "missing.png", 24, 24)
    disabled.enabled = False  # skipped, so not an error
    track.append(disabled)
    path = _write(_timeline(track), tmp_path / "bad.otio")
    problems = _problems(path)
    expected = [
        ("clip 2 (SH020)", "has no media reference"),
        ("clip 3 (SH030)", "missing.png does not exist"),
        ("clip 4 'SH 040' (SH_040)", "is not a local file"),
        ("clip 5 (SH050)", "the cut sets the fps"),
        ("clip 6 (SH060)", '["moove"] is no shot field'),
        ("clip 7 (SH070)", "has no duration"),
        ("clip 8 (SH080)", "a nested Stack"),
    ]
    assert len(problems) == len(expected), problems
    for line, (clip, what) in zip(problems, expected, strict=True):
        assert line.startswith(f"{path} {clip}: ") and what in line, line
    shots, errors = read_timeline(path)
    assert [row["name"] for _, row in shots] == ["SH010"] and errors == tuple(problems)


def test_rows_are_what_the_shot_list_checker_takes(cut: Path) -> None:
    """The rows go through the shot-list checks like a YAML list's shots: frames and fps give
    the duration, metadata the move, its parameters and options; its errors name the clip."""
    shotlist = pytest.importorskip("stillcam.batch.shotlist")
    checked = shotlist.check_shots(shotlist.RawList(str(cut), cut.parent, {}, *read_timeline(cut)))
    assert checked.errors == ()
    specs = {spec.name: spec for spec in checked.specs}
    assert list(specs) == ["SEQ010_SH010", "SEQ010_SH020", "SEQ010_SH010_2"]
    shot = specs["SEQ010_SH020"].options.shot
    assert (shot.move, shot.params, shot.fps, shot.duration) == ("orbit", ("degrees=8",), "25", 2.0)
    assert specs["SEQ010_SH020"].options.scene.stride == 2
    assert specs["SEQ010_SH010"].options.shot.duration == 2.0
    timeline = otio.adapters.read_from_file(str(cut))
    timeline.video_tracks()[0][2].metadata["stillcam"]["move"] = "orbitt"
    _write(timeline, cut)
    checked = shotlist.check_shots(shotlist.RawList(str(cut), cut.parent, {}, *read_timeline(cut)))
    (line,) = checked.errors
    assert line.startswith(f"{cut} clip 3 'SEQ010/SH020' (SEQ010_SH020): ") and "orbitt" in line, line


def test_timeline_without_video_track_or_clips(tmp_path: Path) -> None:
    audio = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
    audio.append(_clip("music", "music.wav", 24, 24))
    gaps = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    gaps.append(otio.schema.Gap(source_range=_range(24, 24)))
    for track, name, what in ((audio, "sound.otio", "has no video track"), (gaps, "empty.otio", "no clips")):
        path = _write(_timeline(track), tmp_path / name)
        with pytest.raises(InputError) as info:
            shots_from_timeline(path)
        assert str(info.value).startswith(f"{path}: ") and what in str(info.value)


def test_unreadable_files_are_one_line_input_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.otio").write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": ')
    (tmp_path / "cut.edl").write_text("TITLE: cut\n")
    for name, what in (
        ("broken.otio", "not a readable"),
        ("cut.edl", "not an OpenTimelineIO"),
        ("no.otio", "no such"),
    ):
        with pytest.raises(InputError) as info:
            shots_from_timeline(tmp_path / name)
        assert what in str(info.value) and "\n" not in str(info.value)


def test_safe_names() -> None:
    assert safe_name("SEQ010_SH020", "x") == "SEQ010_SH020"
    assert safe_name("../../etc/passwd", "x") == "etc_passwd"
    assert safe_name("", "clip004") == "clip004"
    assert len(safe_name("A" * 500, "x")) == 80


def test_missing_extra_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentimelineio", None)
    with pytest.raises(MissingExtraError, match=r"stillcam\[editorial\]"):
        shots_from_timeline(tmp_path / "cut.otio")
