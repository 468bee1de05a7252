"""The local backend: pool sizing, the same bytes as ``stillcam render``, failures and stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from stillcam.batch import local
from stillcam.batch.jobs import ShotJob, ShotResult
from stillcam.batch.local import BASE_BYTES, BYTES_PER_PIXEL, LocalBackend, footprint, pool_size
from stillcam.batch.run import StopBatch, plan_batch, run_batch
from stillcam.cli import main
from stillcam.options import RenderOptions

# One encoder thread: libx264 on several threads may give other bytes under CPU load.
SMALL = {"size": "64x36", "duration": 0.25, "fps": 12, "encoder_threads": 1}
SMALL_FLAGS = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--encoder-threads", "1"]


def _job(name: str, size: str = "64x36", photo: Path = Path("nowhere.png"), **options) -> ShotJob:
    opts = RenderOptions.from_fields({"size": size, "duration": 0.25, **options})
    return ShotJob(name, photo, None, opts, Path(f"{name}.mp4"))


def test_pool_size_is_bounded_by_cores_memory_and_jobs():
    jobs = [_job(f"s{i}") for i in range(5)]
    each = footprint(jobs[0])
    assert each == BASE_BYTES + BYTES_PER_PIXEL * 64 * 36  # no photo header: the frame's pixels
    assert pool_size(jobs, cores=8, memory=100 * each) == 5  # no more workers than shots
    assert pool_size(jobs, cores=2, memory=100 * each) == 2
    assert pool_size(jobs, cores=8, memory=3 * each + 1) == 3
    assert pool_size(jobs, cores=8, memory=each // 2) == 1  # always one
    assert pool_size(jobs, cores=3, memory=None) == 3  # memory unknown: the cores
    assert pool_size(jobs, 4, cores=1, memory=1) == 4  # --workers wins
    assert pool_size(jobs[:2], 4) == 2
    big = _job("big", size="UHD", supersample=2)
    assert footprint(big) == BASE_BYTES + BYTES_PER_PIXEL * 3840 * 2160 * 4


def test_footprint_is_the_measured_peak_of_a_24_mp_photo_to_uhd(monkeypatch):
    monkeypatch.setattr(local, "photo_pixels", lambda photo: 6000 * 4000)
    estimate = footprint(_job("p4", size="UHD"))
    assert 2280e6 * 0.95 <= estimate / 1.048576 <= 2280e6 * 1.15  # benchmarks/speed.py P4: 2280 MB


def test_two_workers_give_the_bytes_of_stillcam_render(tmp_path, stills, write_yaml, capsys):
    shots = [
        {"name": "A", "photo": "in/a.png", "move": "orbit", "set": ["degrees=8"]},
        {"name": "B", "photo": "in/b.png", "move": "pan", "output": "{shot}_v{version:03d}.####.png"},
        {"name": "C", "photo": "in/a.png", "move": "dolly-in", "options": {"stride": 2}},
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL})
    plan = plan_batch(path, tmp_path / "out")
    backend = LocalBackend(workers=2)
    manifest = run_batch(plan, backend)
    assert backend.used_workers == 2
    assert [r.status for r in manifest.shots] == ["done"] * 3, manifest.shots
    ref = tmp_path / "ref"
    ref.mkdir()
    renders = [
        ("a.png", ["--move", "orbit", "--set", "degrees=8"], "A_v001.mp4"),
        ("b.png", ["--move", "pan"], "B_v001.####.png"),
        ("a.png", ["--move", "dolly-in", "--stride", "2"], "C_v001.mp4"),
    ]
    for photo, flags, name in renders:
        argv = ["render", str(stills.folder / photo), "--depth", str(stills.depth), "-o", str(ref / name)]
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, *flags, *SMALL_FLAGS, "--quiet"])
        assert exit_info.value.code == 0, capsys.readouterr().err
    for name in ("A_v001.mp4", "C_v001.mp4"):
        assert (tmp_path / "out" / name).read_bytes() == (ref / name).read_bytes(), name
    frames = sorted(p.name for p in ref.glob("B_v001.*.png"))
    assert frames == ["B_v001.1001.png", "B_v001.1002.png", "B_v001.1003.png"]
    for frame in frames:
        assert (tmp_path / "out" / frame).read_bytes() == (ref / frame).read_bytes(), frame


def test_a_stop_ends_the_pool_after_the_running_shots(tmp_path, stills, write_yaml):
    shots = [{"name": "bad", "photo": "in/corrupt.png"}, {"name": "A", "photo": "in/a.png"}]
    shots += [{"name": f"late{i}", "photo": "in/b.png"} for i in range(3)]
    plan = plan_batch(
        write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", **SMALL}), tmp_path
    )
    seen: list[ShotResult] = []

    def on_result(result: ShotResult) -> None:
        seen.append(result)
        if result.status == "failed":
            raise StopBatch(result.name)

    with pytest.raises(StopBatch):
        LocalBackend(workers=1).run(plan.jobs, on_result, overwrite=False)
    assert [(r.name, r.status) for r in seen] == [("bad", "failed")]
    assert "corrupt.png" in (seen[0].error or "")
    assert not list(tmp_path.glob("late*"))
