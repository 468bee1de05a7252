"""``stillcam batch`` end to end: errors before any work, the manifest, exit codes,
``--fail-fast``, versions, and ``--resume`` after a killed driver."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stillcam.cli import main

# One encoder thread: libx264 on several threads gives other bytes under CPU load (measured:
# 4 in 18 960x540 shots), the renders themselves are bit-identical (PNG sequences).
SMALL = {"size": "64x36", "duration": 0.25, "fps": 12, "encoder_threads": 1}
SMALL_FLAGS = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--encoder-threads", "1"]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    """(exit code, stderr) of the CLI run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


def _manifest(out: Path) -> dict:
    return json.loads((out / "batch.json").read_text())


def _statuses(out: Path) -> dict[str, str]:
    return {s["name"]: s["status"] for s in _manifest(out)["shots"]}


def test_a_list_with_five_kinds_of_errors_exits_2_and_renders_nothing(tmp_path, stills, write_csv, capsys):
    rows = [
        ["name", "photo", "depth", "move", "size", "output"],
        ["SEQ010_SH010", "in/a.png", "in/depth.npy", "orbit", "", ""],
        ["SEQ010_SH020", "in/missing.jpg", "in/depth.npy", "", "", ""],
        ["SEQ010_SH030", "in/a.png", "in/depth.npy", "orbt", "", ""],
        ["SEQ010_SH040", "in/a.png", "in/depth.npy", "", "0x36", ""],
        ["SEQ010_SH010", "in/b.png", "in/depth.npy", "", "", ""],
        ["SEQ010_SH060", "in/a.png", "in/depth.npy", "", "", "blocked/{shot}.mp4"],
    ]
    path = write_csv(tmp_path / "shots.csv", rows)
    out = tmp_path / "renders"
    out.mkdir()
    (out / "blocked").write_text("a file")
    code, err = _run(["batch", str(path), "-o", str(out), *SMALL_FLAGS], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 6, err  # five problems and the count
    assert all(line.startswith("stillcam: error: ") for line in lines)
    for row, name, word in [
        (3, "SEQ010_SH020", "photo in/missing.jpg: no such file"),
        (4, "SEQ010_SH030", "'orbt'"),
        (5, "SEQ010_SH040", "--size"),
        (6, "SEQ010_SH010", "duplicate shot name"),
        (7, "SEQ010_SH060", "blocked"),
    ]:
        assert any(f"{path} row {row} ({name}): " in line and word in line for line in lines), (row, err)
    assert lines[-1].endswith("5 problems; nothing was rendered")
    assert sorted(p.name for p in out.iterdir()) == ["blocked"]


def test_manifest_records_every_shot_and_a_failure_exits_1(tmp_path, stills, write_yaml, capsys):
    shots = [
        {"name": "A", "photo": "in/a.png"},
        {"name": "B", "photo": "in/corrupt.png"},
        {"name": "C", "photo": "in/b.png", "exports": ["{shot}_v{version:03d}.glb"]},
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy"})
    out = tmp_path / "renders"
    code, err = _run(
        ["batch", str(path), "-o", str(out), "--workers", "2", *SMALL_FLAGS, "--move", "pan"], capsys
    )
    assert code == 1, err
    lines = err.strip().splitlines()
    assert any(line.startswith("A done ") and line.endswith(" s") for line in lines), (
        err
    )  # plain lines: no TTY
    assert any(line.startswith("B failed ") and "corrupt.png" in line for line in lines), err
    assert lines[-1] == f"batch: 2 done, 1 failed of 3 shots; manifest {out / 'batch.json'}"
    manifest = _manifest(out)
    assert manifest["totals"] == {
        "shots": 3,
        "done": 2,
        "skipped": 0,
        "failed": 1,
        "not run": 0,
        "queued": 0,
        "frames": 6,
        "seconds": pytest.approx(manifest["totals"]["seconds"]),
    }
    assert manifest["command"].startswith("stillcam batch ") and "--workers 2" in manifest["command"]
    assert manifest["settings"]["defaults"]["move"] == "pan" and manifest["settings"]["backend"] == "local"
    a, b, c = manifest["shots"]
    assert (a["name"], a["status"], a["version"], a["frames"]) == ("A", "done", 1, 3)
    assert a["outputs"] == [str(out / "A_v001.mp4")] and a["recipe"] == str(out / "A_v001.recipe.json")
    assert Path(a["recipe"]).is_file() and a["seconds"] > 0 and a["error"] is None
    assert b["status"] == "failed" and "corrupt.png" in b["error"] and "\n" not in b["error"]
    assert b["outputs"] == [] and b["recipe"] is None and not list(out.glob("B_*"))
    assert c["outputs"] == [str(out / "C_v001.mp4"), str(out / "C_v001.glb")]
    assert all(Path(p).is_file() for p in c["outputs"])
    assert json.loads(Path(c["recipe"]).read_text())["options"]["shot"]["move"] == "pan"
    with open(out / "batch.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert [(r["name"], r["status"]) for r in rows] == [("A", "done"), ("B", "failed"), ("C", "done")]
    assert (
        rows[2]["outputs"] == f"{out / 'C_v001.mp4'};{out / 'C_v001.glb'}" and rows[1]["error"] == b["error"]
    )


def test_fail_fast_leaves_the_later_shots_not_run(tmp_path, stills, write_yaml, capsys):
    shots = [{"name": "A", "photo": "in/a.png"}, {"name": "B", "photo": "in/corrupt.png"}]
    shots += [{"name": "C", "photo": "in/a.png"}, {"name": "D", "photo": "in/b.png"}]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL})
    out = tmp_path / "renders"
    code, err = _run(["batch", str(path), "-o", str(out), "--workers", "1", "--fail-fast", "--quiet"], capsys)
    assert code == 1, err
    assert _statuses(out) == {"A": "done", "B": "failed", "C": "not run", "D": "not run"}
    assert _manifest(out)["totals"]["not run"] == 2 and "2 not run" in err.strip().splitlines()[-1]
    assert not list(out.glob("C_*")) and not list(out.glob("D_*"))


def test_an_existing_version_is_never_overwritten_unless_asked(tmp_path, stills, write_yaml, capsys):
    path = write_yaml(
        tmp_path / "shots.yaml", [{"name": "A", "photo": "in/a.png"}], {"depth": "in/depth.npy"}
    )
    out = tmp_path / "renders"
    argv = ["batch", str(path), "-o", str(out), "--workers", "1", "--quiet", *SMALL_FLAGS]
    assert _run(argv, capsys)[0] == 0
    first = (out / "A_v001.mp4").read_bytes()
    assert _run([*argv, "--move", "pan"], capsys)[0] == 0
    shot = _manifest(out)["shots"][0]
    assert (shot["version"], shot["requested_version"]) == (2, 1) and "rendered as v2" in shot["note"]
    assert (out / "A_v001.mp4").read_bytes() == first and (out / "A_v002.mp4").is_file()
    assert _run([*argv, "--move", "pan", "--overwrite"], capsys)[0] == 0
    shot = _manifest(out)["shots"][0]
    assert shot["version"] == 1 and "replaces v1" in shot["note"]
    assert (out / "A_v001.mp4").read_bytes() == (out / "A_v002.mp4").read_bytes() != first
    assert not (out / "A_v003.mp4").exists()


def test_resume_skips_a_shot_stillcam_render_made_with_the_same_recipe(tmp_path, stills, write_yaml, capsys):
    shots = [{"name": "A", "photo": "in/a.png"}, {"name": "B", "photo": "in/b.png"}]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL, "move": "orbit"})
    out = tmp_path / "renders"
    out.mkdir()
    render = ["render", str(stills.a), "--depth", str(stills.depth), "-o", str(out / "A_v001.mp4")]
    assert _run([*render, *SMALL_FLAGS, "--move", "orbit", "--quiet"], capsys)[0] == 0
    code, err = _run(["batch", str(path), "-o", str(out), "--resume", "--workers", "1", "--quiet"], capsys)
    assert code == 0, err
    assert _statuses(out) == {"A": "skipped", "B": "done"}
    assert "1 done, 1 skipped of 2 shots" in err
    a = _manifest(out)["shots"][0]
    assert a["version"] == 1 and a["frames"] == 3 and a["outputs"] == [str(out / "A_v001.mp4")]
    assert not (out / "A_v002.mp4").exists()


def _wait_for_done(out: Path, proc: subprocess.Popen, deadline_s: float = 120.0) -> None:
    """Poll the manifest until a shot is done (or the driver has ended, or the deadline)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if "done" in _statuses(out).values():
                return
        except (OSError, ValueError):  # not written yet
            pass
        time.sleep(0.005)  # a poll interval, not a wait for an outcome
    pytest.fail(f"no shot was done before the deadline (driver exit {proc.poll()})")


def test_resume_after_a_killed_driver_renders_what_was_left(tmp_path, stills, write_yaml, capsys):
    big = {"size": "960x540", "duration": 2.0, "output": "{shot}_v{version:03d}.####.png"}  # slow enough
    shots = [{"name": "A", "photo": "in/a.png"}] + [{"name": n, "photo": "in/b.png", **big} for n in "BCD"]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL})
    out = tmp_path / "renders"
    command = [
        sys.executable,
        "-m",
        "stillcam",
        "batch",
        str(path),
        "-o",
        str(out),
        "--workers",
        "1",
        "--quiet",
    ]
    with open(tmp_path / "driver.log", "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        try:
            _wait_for_done(out, proc)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the driver, its forkserver and its workers
            proc.wait()
    killed = _statuses(out)
    assert killed["A"] == "done" and "queued" in killed.values(), killed
    code, err = _run(["batch", str(path), "-o", str(out), "--resume", "--workers", "1", "--quiet"], capsys)
    assert code == 0, err
    resumed = _manifest(out)
    done_before = sum(s == "done" for s in killed.values())
    assert resumed["totals"]["skipped"] == done_before and resumed["totals"]["done"] == 4 - done_before
    assert f"{4 - done_before} done, {done_before} skipped of 4 shots" in err
    assert all(s["version"] == 1 for s in resumed["shots"])
    whole = tmp_path / "whole"
    assert _run(["batch", str(path), "-o", str(whole), "--workers", "1", "--quiet"], capsys)[0] == 0
    assert (out / "A_v001.mp4").read_bytes() == (whole / "A_v001.mp4").read_bytes()
    for name in "BCD":
        frames = sorted(p.name for p in whole.glob(f"{name}_v001.*.png"))
        assert len(frames) == 24
        for frame in frames:
            assert (out / frame).read_bytes() == (whole / frame).read_bytes(), frame
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


def test_cluster_must_name_ray(tmp_path, stills, write_yaml, capsys):
    path = write_yaml(tmp_path / "shots.yaml", [{"name": "A", "photo": "in/a.png"}])
    code, err = _run(["batch", str(path), "-o", str(tmp_path / "out"), "--cluster", "slurm"], capsys)
    assert code == 2 and "--cluster 'slurm': give ray, auto or ray://HOST:PORT" in err
    code, err = _run(["batch", str(path), "-o", str(tmp_path / "out"), "--workers", "0"], capsys)
    assert code == 2 and "--workers" in err


def test_a_batch_writes_the_timeline_of_its_clips_back_to_editorial(tmp_path, stills, write_yaml, capsys):
    otio = pytest.importorskip("opentimelineio")
    shots = [{"name": "A", "photo": "in/a.png"}, {"name": "B", "photo": "in/corrupt.png"}]
    shots.append({"name": "C", "photo": "in/b.png"})
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy"})
    out = tmp_path / "renders"
    code, err = _run(["batch", str(path), "-o", str(out), *SMALL_FLAGS], capsys)
    assert code == 1, err
    timeline = otio.adapters.read_from_file(str(out / "batch.otio"))
    items = list(timeline.video_tracks()[0])
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["Clip", "Gap", "Clip"], kinds  # the failed shot keeps its place as a gap
    assert [items[0].name, items[2].name] == ["A", "C"]
    assert items[0].media_reference.target_url.endswith("A_v001.mp4")
    assert all(item.duration().to_frames() == 3 for item in items)


def test_workers_on_ray_bound_the_tasks_in_flight():
    import argparse

    pytest.importorskip("ray")
    from stillcam.cli import _batch_backend

    backend = _batch_backend(argparse.Namespace(cluster="ray", workers=3, chunk_frames=None))
    assert type(backend).__name__ == "RayBackend" and backend.max_in_flight == 3 and backend.address is None
    remote = _batch_backend(argparse.Namespace(cluster="ray://head:10001", workers=None, chunk_frames=120))
    assert (
        remote.address == "ray://head:10001" and remote.max_in_flight is None and remote.chunk_frames == 120
    )


def test_chunk_frames_is_checked_and_needs_the_cluster(tmp_path, stills, write_yaml, capsys):
    from stillcam.batch.chunks import CHUNK_FRAMES
    from stillcam.cli import DEFAULT_CHUNK_FRAMES

    assert DEFAULT_CHUNK_FRAMES == CHUNK_FRAMES
    path = write_yaml(tmp_path / "shots.yaml", [{"name": "A", "photo": "in/a.png"}])
    out = str(tmp_path / "out")
    code, err = _run(["batch", str(path), "-o", out, "--cluster", "ray", "--chunk-frames", "0"], capsys)
    assert code == 2 and "--chunk-frames" in err and len(err.strip().splitlines()) == 1
    code, err = _run(["batch", str(path), "-o", out, "--chunk-frames", "96"], capsys)
    assert code == 2 and "give it with --cluster" in err
    assert not (tmp_path / "out").exists()
