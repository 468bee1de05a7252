"""The Ray backend (issue #16) on Ray's own local modes, never a remote address: a local Ray
with 2 CPUs, and a two-node :class:`ray.cluster_utils.Cluster` on this machine whose second
node is removed mid-batch. Every output is compared, byte for byte, with the same shot
rendered in this process (:func:`stillcam.batch.jobs.run_shot`)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import save_depth_anything, tiny_shot_inputs
from stillcam.batch.jobs import ShotJob, ShotResult, run_shot
from stillcam.batch.ray_backend import RayBackend, init_arguments, shot_memory
from stillcam.batch.run import StopBatch
from stillcam.camera.plan import ShotSettings
from stillcam.errors import MissingExtraError
from stillcam.options import RenderOptions

ray = pytest.importorskip("ray")


def _inputs(folder: Path, seed: int) -> tuple[Path, Path]:
    return tiny_shot_inputs(folder, seed, numbered=True)


def _options(seconds: float, move: str = "orbit", **depth: object) -> RenderOptions:
    from stillcam.depth.convert import DepthSettings

    shot = ShotSettings(move=move, size="64x36", duration=seconds, fps="12")
    return RenderOptions(shot=shot, depth=DepthSettings(**depth))  # type: ignore[arg-type]


def _shots(inputs: Path, out: Path) -> list[ShotJob]:
    """Three tiny shots (0.5 s at 12 fps) and a long one (2.5 s: 30 frames, chunked by 8)."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for seed, (move, output) in enumerate([("orbit", "a.mp4"), ("dolly-in", "b.####.png"), ("pan", "c.mov")]):
        photo, depth = _inputs(inputs, seed)
        jobs.append(ShotJob(f"SH{seed + 1}0", photo, depth, _options(0.5, move), out / output))
    photo, depth = _inputs(inputs, 7)
    jobs.append(ShotJob("SH40", photo, depth, _options(2.5), out / "long.mp4"))
    jobs.append(ShotJob("SH50", photo, depth, _options(2.5, "dolly-in"), out / "long.####.png"))
    return jobs


def _files(folder: Path) -> dict[str, bytes]:
    return {file.name: file.read_bytes() for file in sorted(folder.iterdir()) if file.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The shots' inputs and every file of their in-process renders."""
    root = tmp_path_factory.mktemp("reference")
    for job in _shots(root / "in", root / "out"):
        assert run_shot(job).status == "done"
    return root / "in", _files(root / "out")


@pytest.fixture(scope="module")
def module_ray():
    """One local Ray for the module's tests (shut down after them)."""
    yield
    ray.shutdown()


@pytest.fixture()
def local_ray(module_ray):
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    yield


def _run(backend: RayBackend, jobs: list[ShotJob], **kwargs: object) -> dict[str, ShotResult]:
    results: list[ShotResult] = []
    backend.run(jobs, results.append, overwrite=False, **kwargs)  # type: ignore[arg-type]
    assert len(results) == len(jobs)
    return {result.name: result for result in results}


def test_the_address_decides_how_ray_is_started():
    assert init_arguments(None) == init_arguments("auto") == init_arguments(" ") == {}
    assert init_arguments("ray://head:10001") == {"address": "ray://head:10001"}
    assert init_arguments("head:6379") == {"address": "head:6379"}


def test_without_ray_the_cluster_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"stillcam\[cluster\]"):
        RayBackend().run([], lambda result: None, overwrite=False)


def test_task_memory_grows_with_the_photo_and_the_frame(tmp_path):
    photo, depth = _inputs(tmp_path, 0)
    job = ShotJob("s", photo, depth, _options(0.5), tmp_path / "s.mp4")
    uhd = replace(job, options=replace(job.options, shot=replace(job.options.shot, size="3840x2160")))
    assert 300 * 2**20 < shot_memory(job) < shot_memory(uhd) < 1024 * 2**20


def test_shots_and_a_chunked_long_shot_on_a_local_ray_match_in_process_renders(
    tmp_path, reference, local_ray
):
    inputs, expected = reference
    jobs = _shots(inputs, tmp_path / "out")
    results = _run(RayBackend(chunk_frames=8, scratch=tmp_path / "scratch"), jobs)
    assert {name: result.status for name, result in results.items()} == dict.fromkeys(results, "done")
    assert _files(tmp_path / "out") == expected  # mp4, mov, PNG frames and recipes: the same bytes
    assert results["SH40"].frames == 30 and results["SH40"].extra["chunks"] == 4
    assert results["SH50"].extra["chunks"] == 4 and "chunks" not in results["SH10"].extra
    assert not (tmp_path / "scratch").exists() or not any((tmp_path / "scratch").iterdir())


def test_at_most_one_task_in_flight_still_renders_everything(tmp_path, reference, local_ray):
    inputs, expected = reference
    jobs = _shots(inputs, tmp_path / "out")[2:4]
    results = _run(RayBackend(chunk_frames=8, max_in_flight=1, keep_chunks=True), jobs)
    assert all(result.status == "done" for result in results.values())
    assert _files(tmp_path / "out") == {
        name: data for name, data in expected.items() if name.startswith(("c.", "long.mp4", "long.recipe"))
    }
    assert len(list((tmp_path / "out" / ".stillcam-chunks").glob("*/*/chunk.json"))) == 4  # kept
    again = _run(RayBackend(chunk_frames=8), [replace(jobs[1], output=tmp_path / "out" / "again.mp4")])
    assert again["SH40"].status == "done" and again["SH40"].extra["chunks_reused"] == 0  # another output


def test_failures_are_results_and_a_stop_cancels_the_rest(tmp_path, reference, local_ray):
    inputs, _ = reference
    jobs = _shots(inputs, tmp_path / "out")
    broken = [
        replace(jobs[0], photo=tmp_path / "missing.png"),
        replace(jobs[1], output=tmp_path / "no-such-folder" / "b.####.png"),
    ]
    results = _run(RayBackend(), broken)
    assert all(result.status == "failed" and result.error for result in results.values())
    assert "missing.png" in (results["SH10"].error or "") and "does not exist" in (
        results["SH20"].error or ""
    )

    seen: list[str] = []

    def stop(result: ShotResult) -> None:
        seen.append(result.name)
        raise StopBatch()

    with pytest.raises(StopBatch):
        RayBackend(max_in_flight=1).run(jobs, stop, overwrite=False)
    assert len(seen) == 1


def test_depth_is_estimated_once_per_photo_by_the_node_actor(tmp_path, monkeypatch, local_ray):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    model = str(save_depth_anything(tmp_path / "model"))
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))  # passed on to every task
    photo, _ = _inputs(tmp_path / "in", 4)
    options = _options(0.5, model_dir=model)
    jobs = [
        ShotJob("SH10", photo, None, options, tmp_path / "out" / "a.####.png"),
        ShotJob("SH20", photo, None, _options(2.5, "dolly-in", model_dir=model), tmp_path / "out" / "b.mp4"),
    ]
    (tmp_path / "out").mkdir()
    backend = RayBackend(chunk_frames=8)
    asked: list[list[str]] = []

    def record(result: ShotResult) -> None:
        asked.append(ray.get(backend.estimators[0].estimates.remote()))
        assert result.status == "done", result.error

    backend.run(jobs, record, overwrite=False)
    assert asked[-1] == [str(photo)]  # one estimate for both shots, by the one node's actor
    assert len(list((tmp_path / "cache" / "depth").glob("*.npy"))) == 1
    (tmp_path / "here").mkdir()
    for job in jobs:  # in this process: the cached depth, the same frames and recipe
        assert run_shot(replace(job, output=tmp_path / "here" / job.output.name)).status == "done"
    assert _files(tmp_path / "out") == _files(tmp_path / "here")


@pytest.mark.slow
def test_a_node_removed_mid_batch_loses_nothing(tmp_path, reference, module_ray):
    """Two nodes of 1 CPU each; the second is removed when the first shot is done: its tasks
    are retried on the head, and every output is still the in-process render's."""
    from ray.cluster_utils import Cluster

    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        node = cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address)
        cluster.wait_for_nodes()
        inputs, expected = reference
        jobs = _shots(inputs, tmp_path / "out")
        results: list[ShotResult] = []

        def on_result(result: ShotResult) -> None:
            if not results:
                cluster.remove_node(node)
            results.append(result)

        RayBackend(chunk_frames=8).run(jobs, on_result, overwrite=False)
        assert sorted(r.name for r in results) == sorted(job.name for job in jobs)
        assert all(result.status == "done" for result in results), [r.error for r in results]
        assert _files(tmp_path / "out") == expected
        assert len([n for n in ray.nodes() if n["Alive"]]) == 1
    finally:
        ray.shutdown()
        cluster.shutdown()


def _foreign_partial(final: Path, owner: str) -> Path:
    """A partial of ``final`` as a killed attempt on another host leaves it."""
    from stillcam.io import files

    host = "ffffff" if files._host() != "ffffff" else "eeeeee"
    path = final.parent / f"{files._prefix(final)}{host}-4242-{owner}-abc_1234{files.PARTIAL_SUFFIX}"
    path.mkdir(parents=True)
    (path / final.name).write_bytes(b"half")
    return path


def test_a_retry_removes_its_dead_attempts_partial_from_another_host(tmp_path, reference, local_ray):
    """Ray retried a shot task whose node died: the dead attempt's partial (made on that
    host, so its liveness cannot be told here) has the task's owner tag and is removed; a
    partial of another task still refuses the output."""
    from stillcam.batch.ray_backend import shot_task, task_owner

    inputs, expected = reference
    job = _shots(inputs, tmp_path / "out")[0]
    owner = task_owner("0123abcd", job)
    dead = _foreign_partial(job.output, owner)
    other = replace(job, output=tmp_path / "out" / "other.mp4")
    _foreign_partial(other.output, task_owner("0123abcd", replace(job, name="SH99")))

    result = shot_task(job, False, None, owner)
    assert result.status == "done", result.error
    assert not dead.exists()
    assert job.output.read_bytes() == expected[job.output.name]
    refused = shot_task(other, False, None, task_owner("0123abcd", other))
    assert refused.status == "failed" and "another host" in str(refused.error)
