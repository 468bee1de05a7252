"""Batch rendering (issue #16): the local process pool against Ray on this machine, a long shot
in frame chunks, and what the measured per-task costs say about N nodes (table + JSON).

* B1 - 20 shots, HD, 2 s at 24 fps each (each of the 5 photos under ../shared/data/photos 4
  times, moves varied), through the whole driver as ``stillcam batch`` runs it (a YAML shot list
  -> ``plan_batch`` -> ``run_batch``, manifest after every shot): ``LocalBackend`` with 1 and 2
  workers and ``RayBackend`` on a local Ray of this machine's cores with 1 and 2 tasks at a time
  (``cpus_per_task`` = cores / workers, so each render has as many numba threads as a local
  worker of the same count). Shots/min, and the per-shot overhead of Ray against the local pool
  at the same worker count (goal <= 5 %). Each configuration starts fresh workers (a new pool, a
  new Ray); ``ray.init`` itself is timed apart (a cluster is up before a batch).
* B2 - one long shot, 10 s UHD (240 frames): whole in one local worker, and on Ray in chunks of
  48 frames (5 chunk tasks, then one encode task) with 1 and 2 workers.
* Costs: Ray's own cost per task (no-op tasks with the backend's runtime environment), the
  driver's manifest rewrite per finished shot (at 20, 1,000 and 10,000 shots: it is rewritten
  whole after every shot), bytes read and written per shot (photo, depth, output; chunk frames).
* Projection to N nodes: per node the measured Ray throughput (scaled by ``--node-cores`` /
  this machine's cores), capped by the driver (one manifest write and one task's scheduling per
  shot, serial) and by storage (``--storage-gbps`` over the bytes a shot moves); for a long
  shot, Amdahl with its encode task, which no number of nodes shortens.

Depth: no model; each photo gets the synthetic layered depth of benchmarks/scene_build.py (a
ramp with 12 sharp-edged objects), saved once as ``.npy``. Configurations run interleaved in
rounds (``--repeat``), medians reported.

Run: python benchmarks/batch.py [--repeat N] [--node-cores C] [--storage-gbps B] [--skip-long]
     python benchmarks/batch.py --quick   # 3 shots, 640x360, 1 s (and a 3 s long shot): checks the script
Writes benchmarks/results/batch.json (``--quick``: batch_quick.json). Skips cleanly when the
photos, or Ray (extra ``cluster``), are absent.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scene_build import synthetic_depth
from stillcam_run import save_results

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "photos"
MOVES = (("orbit", ["degrees=8"]), ("dolly-in", []), ("pan", ["degrees=10"]), ("truck", []))


@dataclass(frozen=True)
class Scale:
    """The sizes of one run of the benchmark."""

    shots: int
    size: str
    seconds: float
    long_size: str
    long_seconds: float
    chunk_frames: int
    photo_width: int | None  # photos downscaled to this width (None: as they are)


FULL = Scale(
    shots=20, size="HD", seconds=2.0, long_size="UHD", long_seconds=10.0, chunk_frames=48, photo_width=None
)
QUICK = Scale(
    shots=3,
    size="640x360",
    seconds=1.0,
    long_size="640x360",
    long_seconds=3.0,
    chunk_frames=24,
    photo_width=1280,
)


@dataclass
class Recording:
    """A backend that passes everything to ``backend`` and keeps each :class:`ShotResult`."""

    backend: Any
    results: list[Any] = field(default_factory=list)

    def run(self, jobs: Sequence[Any], on_result: Callable[[Any], None], *, overwrite: bool) -> None:
        def record(result: Any) -> None:
            self.results.append(result)
            on_result(result)

        self.backend.run(jobs, record, overwrite=overwrite)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def prepare_inputs(folder: Path, scale: Scale) -> list[tuple[Path, Path]]:
    """(photo, depth .npy) for each photo here: the photo (or a downscaled copy) and its
    synthetic layered depth at its size."""
    from PIL import Image

    pairs = []
    for photo in sorted(PHOTOS.glob("*.jpg")):
        with Image.open(photo) as image:
            if scale.photo_width is not None and image.width > scale.photo_width:
                height = round(image.height * scale.photo_width / image.width)
                photo = folder / photo.name
                image.convert("RGB").resize((scale.photo_width, height), Image.Resampling.LANCZOS).save(
                    photo, quality=95
                )
        with Image.open(photo) as image:
            width, height = image.size
        depth = folder / f"{photo.stem}.depth.npy"
        np.save(depth, synthetic_depth(width, height))
        pairs.append((photo, depth))
    return pairs


def write_shot_list(
    path: Path, inputs: list[tuple[Path, Path]], count: int, size: str, seconds: float
) -> Path:
    """A YAML shot list (JSON is YAML) of ``count`` shots cycling over ``inputs`` and the moves."""
    shots = []
    for i in range(count):
        photo, depth = inputs[i % len(inputs)]
        move, params = MOVES[i % len(MOVES)]
        shots.append(
            {"name": f"SEQ010_SH{10 * (i + 1):03d}", "photo": str(photo), "depth": str(depth), "move": move}
            | ({"set": params} if params else {})
        )
    data = {"defaults": {"size": size, "duration": seconds, "fps": 24}, "shots": shots}
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def _ray_init(cores: int) -> float:
    """Start a local Ray of ``cores`` CPUs (no dashboard); seconds it took."""
    import ray

    start = time.perf_counter()
    ray.init(
        address="local",  # a Ray of its own, even when another runs on this machine
        num_cpus=cores,
        include_dashboard=False,
        object_store_memory=256 << 20,  # frames and files move by path: the store holds records
        logging_level="ERROR",
        log_to_driver=False,
    )
    return time.perf_counter() - start


def ray_task_cost(tasks: int, env: dict[str, str]) -> dict[str, float]:
    """Ray's own cost per task: ``tasks`` no-op tasks with the backend's runtime environment,
    all submitted then waited for, one at a time as the backend does (after a warm-up)."""
    import ray

    @ray.remote(num_cpus=1)
    def noop(i: int) -> int:
        return i

    options = {"runtime_env": {"env_vars": env}}
    ray.get([noop.options(**options).remote(i) for i in range(4)])  # workers up
    start = time.perf_counter()
    pending = [noop.options(**options).remote(i) for i in range(tasks)]
    while pending:
        _, pending = ray.wait(pending, num_returns=1)
    wall = time.perf_counter() - start
    return {"tasks": tasks, "wall_s": wall, "ms_per_task": 1000 * wall / tasks}


def run_config(
    kind: str, workers: int, shot_list: Path, out: Path, *, chunk_frames: int = 48
) -> dict[str, Any]:
    """One batch, start to end, on a fresh local pool or a fresh local Ray."""
    from stillcam.batch.local import LocalBackend
    from stillcam.batch.run import exit_code, plan_batch, run_batch

    cores = _cores()
    init_s = 0.0
    extra: dict[str, Any] = {}
    if kind == "local":
        backend: Any = LocalBackend(workers)
    else:
        from stillcam.batch.ray_backend import RayBackend

        init_s = _ray_init(cores)
        backend = RayBackend(
            chunk_frames=chunk_frames,
            cpus_per_task=max(1, cores // workers),
            scratch=out / "scratch",
            keep_chunks=True,  # measured below, then removed
        )
    recording = Recording(backend)
    try:
        start = time.perf_counter()
        plan = plan_batch(shot_list, out / "renders")
        planned = time.perf_counter()
        manifest = run_batch(plan, recording, command=f"benchmark {kind} {workers}")
        wall = time.perf_counter() - start
        if kind == "ray":
            extra["ray_task_cost"] = ray_task_cost(100, backend.environment())
    finally:
        if kind == "ray":
            import ray

            ray.shutdown()
    if exit_code(manifest) != 0:
        bad = next(r for r in manifest.shots if r.status != "done")
        raise SystemExit(f"{kind} x{workers}: shot {bad.name} {bad.status}: {bad.error}")
    scratch = out / "scratch"
    chunk_bytes = sum(f.stat().st_size for f in scratch.rglob("*") if f.is_file()) if scratch.exists() else 0
    output_bytes = sum(Path(p).stat().st_size for r in manifest.shots for p in r.outputs)
    results = recording.results
    shutil.rmtree(out, ignore_errors=True)
    return {
        "kind": kind,
        "workers": workers,
        "shots": len(results),
        "frames": sum(r.frames for r in results),
        "wall_s": wall,
        "plan_s": planned - start,
        "ray_init_s": init_s,
        "shot_seconds_mean": statistics.fmean(r.seconds for r in results),
        "encode_s": [r.extra.get("encode_seconds") for r in results if "encode_seconds" in r.extra],
        "chunk_s": [r.extra.get("chunk_seconds") for r in results if "chunk_seconds" in r.extra],
        "chunks": [r.extra.get("chunks") for r in results if "chunks" in r.extra],
        "chunk_bytes": chunk_bytes,
        "output_bytes": output_bytes,
        **extra,
    }


def manifest_cost(folder: Path, counts: Sequence[int]) -> dict[str, float]:
    """Seconds of one manifest rewrite (batch.json + batch.csv, atomic) at each shot count."""
    from stillcam.batch.manifest import Manifest, ShotRecord, write_manifest

    costs = {}
    for count in counts:
        records = tuple(
            ShotRecord(
                name=f"SEQ{i // 100:03d}_SH{i % 100:03d}",
                status="done",
                version=1,
                requested_version=1,
                where=f"shots.yaml: shots[{i}]",
                outputs=(f"/mnt/renders/SEQ_SH{i:05d}_v001.mp4",),
                recipe=f"/mnt/renders/SEQ_SH{i:05d}_v001.recipe.json",
                seconds=12.3,
                frames=48,
            )
            for i in range(count)
        )
        manifest = Manifest("stillcam batch shots.yaml -o renders", {"backend": "ray"}, records)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            write_manifest(folder, manifest)
            times.append(time.perf_counter() - start)
        costs[str(count)] = statistics.median(times)
    return costs


def interleaved(
    configs: list[tuple[str, int]], rounds: int, run: Callable[[str, int], dict]
) -> dict[str, list]:
    """Each configuration ``rounds`` times, in turn (the machine's speed drifts)."""
    runs: dict[str, list] = {f"{kind}_{workers}": [] for kind, workers in configs}
    for _ in range(rounds):
        for kind, workers in configs:
            runs[f"{kind}_{workers}"].append(run(kind, workers))
    return runs


def _median_run(runs: list[dict]) -> dict:
    """The run of median wall time (its other figures with it)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    return {**ordered[len(ordered) // 2], "walls_s": [r["wall_s"] for r in runs]}


def project(
    node_rate: float, driver_s: float, shot_bytes: float, storage_bps: float, nodes: Sequence[int]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Shots/s of N nodes: linear in N at ``node_rate`` until the driver (``driver_s`` serial
    seconds a shot) or storage (``shot_bytes`` a shot at ``storage_bps``) caps it."""
    caps = {"driver": 1 / driver_s if driver_s > 0 else math.inf, "storage": storage_bps / shot_bytes}
    rows = []
    for n in nodes:
        linear = n * node_rate
        limit, rate = min((("nodes", linear), *caps.items()), key=lambda item: item[1])
        rows.append(
            {"nodes": n, "shots_per_min": 60 * rate, "linear_shots_per_min": 60 * linear, "limit": limit}
        )
    knees = {name: cap / node_rate for name, cap in caps.items()}
    return rows, knees


def _print_batch_table(b1: dict[str, dict], scale: Scale) -> dict[str, float]:
    print(
        f"B1 {scale.shots} shots, {scale.size}, {scale.seconds:g} s at 24 fps "
        "(the whole driver, manifest included)"
    )
    print(f"{'backend':12} {'workers':>7} {'wall s':>8} {'shots/min':>10} {'s/shot':>7} {'vs local':>9}")
    overheads = {}
    for run in b1.values():
        kind, workers = run["kind"], run["workers"]
        local = b1.get(f"local_{workers}")
        versus = ""
        if kind == "ray" and local:
            overheads[str(workers)] = run["wall_s"] / local["wall_s"] - 1
            versus = f"{100 * overheads[str(workers)]:+.1f} %"
        rate = 60 * run["shots"] / run["wall_s"]
        print(
            f"{kind:12} {workers:7d} {run['wall_s']:8.1f} {rate:10.2f} "
            f"{run['shot_seconds_mean']:7.2f} {versus:>9}"
        )
    ray_init = [r["ray_init_s"] for r in b1.values() if r["kind"] == "ray"]
    if ray_init:
        print(f"ray.init (not in the walls above): {statistics.median(ray_init):.1f} s")
    return overheads


def _print_long_table(b2: dict[str, dict], scale: Scale) -> dict[str, Any]:
    whole = b2["local_1"]
    frames = whole["frames"]
    print(
        f"\nB2 one long shot, {scale.long_size}, {scale.long_seconds:g} s ({frames} frames), "
        f"chunks of {scale.chunk_frames}"
    )
    print(f"{'run':34} {'wall s':>8} {'vs whole':>9}")
    print(f"{'whole, local pool, 1 worker':34} {whole['wall_s']:8.1f} {'1.00x':>9}")
    out: dict[str, Any] = {}
    for workers in (1, 2):
        run = b2.get(f"ray_{workers}")
        if run is None:
            continue
        chunks = run["chunks"][0] if run["chunks"] else 1
        label = f"ray, {chunks} chunks + encode, {workers} worker{'s' if workers > 1 else ''}"
        print(f"{label:34} {run['wall_s']:8.1f} {whole['wall_s'] / run['wall_s']:8.2f}x")
        out[f"speedup_ray_{workers}"] = whole["wall_s"] / run["wall_s"]
    if "ray_1" in b2 and "ray_2" in b2:
        out["ray_2_vs_1"] = b2["ray_1"]["wall_s"] / b2["ray_2"]["wall_s"]
        print(f"ray 2 workers vs 1: {out['ray_2_vs_1']:.2f}x")
    ray = b2.get("ray_2") or b2.get("ray_1")
    if ray and ray["encode_s"] and ray["chunk_s"]:
        encode, chunk_total, chunks = ray["encode_s"][0], ray["chunk_s"][0], ray["chunks"][0]
        out.update(encode_s=encode, chunk_seconds_total=chunk_total, chunks=chunks)
        print(
            f"chunk tasks {chunk_total:.1f} s in all ({chunk_total / chunks:.1f} s each), encode task "
            f"{encode:.1f} s; chunk frames written and read back: {ray['chunk_bytes'] / 1e6:.1f} MB "
            f"(the output: {ray['output_bytes'] / 1e6:.1f} MB)"
        )
    return out


def _print_projection(results: dict, args: argparse.Namespace, cores: int) -> None:
    b1 = results["B1"]
    ray = b1.get("ray_2") or b1.get("ray_1")
    if ray is None:
        return
    node_rate = ray["shots"] / ray["wall_s"] * args.node_cores / cores
    task_s = ray["ray_task_cost"]["ms_per_task"] / 1000
    counts = [int(k) for k in results["manifest_s"]]
    slope, intercept = np.polyfit(counts, list(results["manifest_s"].values()), 1)
    driver_s = intercept + slope * args.batch_shots / 2 + task_s  # the mean manifest rewrite of the batch
    shot_bytes = results["bytes_per_shot"]
    rows, knees = project(
        node_rate, driver_s, shot_bytes, args.storage_gbps * 1e9, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    )
    results["projection"] = {
        "node_cores": args.node_cores,
        "storage_gbps": args.storage_gbps,
        "node_shots_per_min": 60 * node_rate,
        "driver_s_per_shot": driver_s,
        "batch_shots": args.batch_shots,
        "manifest_s_per_record": slope,
        "bytes_per_shot": shot_bytes,
        "linear_until_nodes": knees,
        "rows": rows,
    }
    print(
        f"\nProjection: nodes of {args.node_cores} cores at this machine's per-core Ray rate "
        f"({60 * node_rate:.1f} shots/min a node); driver {1000 * driver_s:.1f} ms a shot (the mean "
        f"manifest rewrite of a {args.batch_shots:,}-shot batch, {1e6 * slope:.0f} us a record, + one "
        f"task); storage {args.storage_gbps:g} GB/s over "
        f"{shot_bytes / 1e6:.1f} MB a shot"
    )
    print(f"{'nodes':>6} {'shots/min':>10} {'linear':>10}  limit")
    for row in rows:
        print(
            f"{row['nodes']:6d} {row['shots_per_min']:10.0f} "
            f"{row['linear_shots_per_min']:10.0f}  {row['limit']}"
        )
    print(
        "linear until ~"
        + ", ".join(f"{n:.3g} nodes ({name})" for name, n in sorted(knees.items(), key=lambda kv: kv[1]))
    )
    long = results.get("B2_summary", {})
    if "encode_s" in long:
        e, c, k = long["encode_s"], long["chunk_seconds_total"], long["chunks"]
        best = c / k + e
        print(
            f"long shot: {k} chunks; with >= {k} workers it takes ~{best:.0f} s (one chunk + the encode) of "
            f"{c + e:.0f} s of tasks: at most {(c + e) / best:.1f}x; the encode ({e:.0f} s, "
            f"{e / (c + e):.0%}) does not shrink with nodes"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 shots, 640x360, 1 s: checks the script")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of interleaved configurations")
    parser.add_argument(
        "--node-cores", type=int, default=None, help="cores a projected node has (default: here)"
    )
    parser.add_argument("--storage-gbps", type=float, default=1.0, help="shared storage bandwidth, GB/s")
    parser.add_argument("--batch-shots", type=int, default=1000, help="shots of a projected batch")
    parser.add_argument("--skip-long", action="store_true", help="no B2 (the long chunked shot)")
    parser.add_argument(
        "--b1-from",
        type=Path,
        default=None,
        help="take B1 and the costs from this earlier results JSON; run only B2 (after a B2 change)",
    )
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    cores = _cores()
    args.node_cores = args.node_cores or cores
    if not PHOTOS.is_dir() or not any(PHOTOS.glob("*.jpg")):
        print(f"skipped: no photos under {PHOTOS.relative_to(ROOT.parent)}")
        return 0
    if importlib.util.find_spec("ray") is None:
        print("skipped: ray is not installed (pip install 'stillcam[cluster]')")
        return 0
    configs = [("local", 1), ("ray", 1), ("local", 2), ("ray", 2)]
    results: dict[str, Any] = {"scale": scale.__dict__, "cores": cores, "repeat": args.repeat}
    with tempfile.TemporaryDirectory(prefix="stillcam-batch-bench-") as tmp:
        folder = Path(tmp)
        inputs = prepare_inputs(folder, scale)
        shots = write_shot_list(folder / "shots.yaml", inputs, scale.shots, scale.size, scale.seconds)
        counter = iter(range(10_000))

        def b1_run(kind: str, workers: int) -> dict:
            return run_config(kind, workers, shots, folder / f"run{next(counter)}")

        if args.b1_from is not None:
            earlier = json.loads(args.b1_from.read_text())
            earlier = earlier.get("results", earlier)
            for key in ("B1", "bytes_per_shot", "manifest_s"):
                results[key] = earlier[key]
            results["B1_from"] = str(args.b1_from)
        else:
            runs = interleaved(configs, args.repeat, b1_run)
            results["B1"] = {key: _median_run(v) for key, v in runs.items()}
            first = results["B1"]["local_1"]
            photo_bytes = statistics.fmean(
                inputs[i % len(inputs)][0].stat().st_size + inputs[i % len(inputs)][1].stat().st_size
                for i in range(scale.shots)
            )
            results["bytes_per_shot"] = photo_bytes + first["output_bytes"] / first["shots"]
            results["manifest_s"] = manifest_cost(folder, [20, 1000, 10000])
        if not args.skip_long:
            long_list = write_shot_list(
                folder / "long.yaml", inputs[:1], 1, scale.long_size, scale.long_seconds
            )

            def b2_run(kind: str, workers: int) -> dict:
                out = folder / f"run{next(counter)}"
                return run_config(kind, workers, long_list, out, chunk_frames=scale.chunk_frames)

            long_runs = interleaved([("local", 1), ("ray", 1), ("ray", 2)], args.repeat, b2_run)
            results["B2"] = {key: _median_run(v) for key, v in long_runs.items()}
    overheads = _print_batch_table(results["B1"], scale)
    results["ray_overhead_vs_local"] = overheads
    if overheads:
        worst = max(overheads.values())
        shown = ", ".join(f"{k} worker(s) {100 * v:+.1f} %" for k, v in overheads.items())
        print(
            f"Ray overhead per shot vs the local pool: {shown} "
            f"(goal <= 5 %: {'met' if worst <= 0.05 else 'missed'})"
        )
    ray = results["B1"].get("ray_2")
    if ray:
        print(f"Ray's own cost per task (no-op tasks): {ray['ray_task_cost']['ms_per_task']:.1f} ms")
    print(
        "manifest rewrite per finished shot: "
        + ", ".join(f"{int(k):,} shots {1000 * v:.1f} ms" for k, v in results["manifest_s"].items())
    )
    if "B2" in results:
        results["B2_summary"] = _print_long_table(results["B2"], scale)
    _print_projection(results, args, cores)
    path = save_results("batch_quick" if args.quick else "batch", results)
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
