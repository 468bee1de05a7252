"""Batch rendering on Ray (extra ``cluster``): Ray tasks scheduled by Ray, not by stillcam.

Per shot (:class:`RayBackend`):

* a shot of at most ``chunk_frames`` frames, or one whose output cannot be joined from chunks
  (:func:`~stillcam.batch.chunks.unchunkable`): one task, :func:`~stillcam.batch.jobs.run_shot`;
* a longer one: one task per chunk of frames (:func:`~stillcam.batch.chunks.render_chunk`, into
  a folder under ``scratch``), then one encode task that depends on them (their ObjectRefs are
  its arguments; :func:`~stillcam.batch.chunks.encode_chunks`) and removes them once the shot
  is published;
* a shot without a depth file: first its photo's depth, estimated by a :class:`DepthEstimator`
  actor (one per node) into the depth cache that every task then reads (``$STILLCAM_CACHE_DIR``
  on shared storage; the driver's cache folder is passed to every task).

Frames and files move by path on storage every node sees at the same path (the photos, the
outputs, ``scratch``, the depth cache), or by URL (:mod:`.storage`: inputs fetched into each
node's cache, outputs under ``-o URL`` rendered whole into the task's own staging folder and
uploaded); only small records go through Ray's object store. Each
task declares ``num_cpus`` and ``memory`` (:func:`shot_memory`, from the photo's and the
frame's size) and is retried (``max_retries``) when its worker or node dies: every task writes
under temporary names and renames, so a retried task rewrites the same files. At most
``max_in_flight`` tasks are submitted and not finished at once (``ray.wait``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..camera.plan import with_lens
from ..depth.estimate import cache_dir, estimate_depth
from ..errors import StillcamError, missing_extra
from ..io.files import owned_by, partials_of, remove_owned_partials
from ..io.image import load_image, open_header
from ..io.limits import one_line
from ..options import RenderOptions
from .chunks import (
    CHUNK_FRAMES,
    ChunkResult,
    check_shot,
    chunk_folder,
    chunk_ranges,
    encode_chunks,
    remove_chunks,
    render_chunk,
    unchunkable,
)
from .jobs import ShotJob, ShotResult, run_shot
from .storage import Remote, fetch, image_size

_LOG = logging.getLogger("stillcam")

#: Environment variables passed from the driver to every task when set there (besides the
#: depth cache folder and the numba thread count, always passed).
FORWARDED_ENV = ("HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "STILLCAM_MAX_INPUT_MP", "STILLCAM_FILL_DIR")

#: Memory a task needs besides its pixels (Python, numba, OpenCV, the encoder).
BASE_MEMORY = 300 * 2**20
#: Peak bytes per photo pixel (decoded photo, depth, scene mesh and texture atlas) and per
#: output sample (the renderer's buffers, the display frame, the encoder's queue), from the
#: measured peak of a whole render (benchmarks/speed.py P4: 24 MP photo to UHD, 2.3 GB) with
#: ~15 % headroom.
PHOTO_BYTES_PER_PIXEL = 80
FRAME_BYTES_PER_SAMPLE = 48
#: Assumed photo size when its header cannot be read (the task then fails on its own).
DEFAULT_PHOTO_PIXELS = 12_000_000


def _ray() -> Any:
    """The ``ray`` module, imported on first use (extra ``cluster``)."""
    try:
        import ray
    except ImportError:
        raise missing_extra("ray", "cluster") from None
    return ray


def init_arguments(address: str | None) -> dict[str, Any]:
    """What ``ray.init`` gets for ``--cluster ADDRESS``: None or ``auto``/``ray``: no address
    (``$RAY_ADDRESS`` when set, else a local Ray on this machine); anything else as it is
    (``ray://head:10001`` for Ray Client, ``head:6379`` for a node of the cluster).

    >>> init_arguments(None), init_arguments("auto"), init_arguments("ray://head:10001")
    ({}, {}, {'address': 'ray://head:10001'})
    """
    if address is None or address.strip() in ("", "auto", "ray"):
        return {}
    return {"address": address.strip()}


def shot_memory(job: ShotJob) -> int:
    """Bytes a task rendering (or encoding) ``job`` may need at its peak: :data:`BASE_MEMORY`
    plus the photo's pixels and the frame's samples (``--supersample`` squared) at the rates
    measured for a whole render."""
    try:
        if isinstance(job.photo, Remote):  # its header, read from the storage
            size = image_size(job.photo)
            if size is None:
                raise FileNotFoundError(job.photo.url)
            photo_w, photo_h = size
        else:
            with open_header(Path(job.photo)) as header:
                photo_w, photo_h = header.size
    except Exception:  # unreadable here: the task says why
        photo_w, photo_h = DEFAULT_PHOTO_PIXELS, 1
    size = job.options.shot.size_px
    width, height = size if size is not None else (photo_w, photo_h)
    samples = width * height * job.options.render.supersample**2
    return int(BASE_MEMORY + photo_w * photo_h * PHOTO_BYTES_PER_PIXEL + samples * FRAME_BYTES_PER_SAMPLE)


@dataclass(frozen=True)
class TaskResources:
    """What one task asks Ray for (``.options(num_cpus=..., memory=...)``)."""

    num_cpus: float
    memory: int

    def options(self, retries: int, env: dict[str, str]) -> dict[str, Any]:
        return {
            "num_cpus": self.num_cpus,
            "memory": self.memory,
            "max_retries": retries,
            "runtime_env": {"env_vars": env},
        }


class DepthEstimator:
    """Depth estimation for the shots without a depth file: a Ray actor, one per node, so the
    depth model's libraries (torch, transformers) are loaded once per node, not once per shot.

    :meth:`estimate` runs :func:`~stillcam.depth.estimate.estimate_depth` (which reads the
    cache first), so the estimate lands in the depth cache that every task's
    ``pipeline.render`` then reads: the shots never run the model themselves.
    """

    def __init__(self) -> None:
        self.estimated: list[str] = []

    def estimate(self, photo: str | Remote, options: RenderOptions) -> dict[str, Any]:
        """Estimate (or find cached) the depth of ``photo`` (a path, or a file on storage:
        fetched first) with ``options.depth``'s model; returns ``{"cache": file, "sha256": ...}``,
        or ``{"error": one line}``."""
        settings = options.depth
        try:
            local = fetch(photo, "photo") if isinstance(photo, Remote) else photo
            picture = with_lens(load_image(local), options.shot)
            estimate = estimate_depth(
                picture,
                settings.depth_model,
                model_dir=settings.model_dir,
                allow_noncommercial=settings.allow_noncommercial,
                upsample=settings.upsample,
            )
        except StillcamError as exc:
            return {"error": str(exc)}
        self.estimated.append(str(photo))
        return {"cache": str(estimate.cache_file), "sha256": estimate.sha256}

    def estimates(self) -> list[str]:
        """The photos this actor was asked for, in order (for tests and logs)."""
        return list(self.estimated)


def _node() -> str:
    return str(_ray().get_runtime_context().get_node_id())


def _depth_error(depth: dict[str, Any] | None) -> str | None:
    return None if depth is None else depth.get("error")


#: Seconds a task waits for a live partial of its output to go: when Ray retries a task whose
#: worker or node was killed, the dead attempt's process can outlive the retry's start by a
#: moment, and its partial would make the retry refuse the output (a two-node test on one
#: machine failed so about one run in three).
RETRY_WAIT_S = 30.0


def _wait_for_writers(output: Path, seconds: float = RETRY_WAIT_S) -> None:
    """Return once no live process on this host holds a partial of ``output`` (or after
    ``seconds``; the render then says who is writing it)."""
    deadline = time.monotonic() + seconds
    while any(p.state == "alive" for p in partials_of(output)) and time.monotonic() < deadline:
        time.sleep(0.2)


def _claim(job: ShotJob, owner: str) -> None:
    """Before a shot's output is written: wait for a dying attempt on this host to go, and
    remove the partials of earlier attempts of this task (``owner``, on any host: Ray
    retries a task only once its attempt's worker or node is dead)."""
    _wait_for_writers(job.output)
    for folder in dict.fromkeys([job.output.parent, *(export.parent for export in job.exports)]):
        remove_owned_partials(folder, owner)


def task_owner(run: str, job: ShotJob) -> str:
    """The owner tag (``io.files.owned_by``) of ``job``'s output tasks in the batch run ``run``."""
    return hashlib.sha256(f"{run}/{job.name}".encode()).hexdigest()[:12]


def shot_task(job: ShotJob, overwrite: bool, depth: dict[str, Any] | None, owner: str) -> ShotResult:
    """A Ray task: the whole shot in this worker (:func:`run_shot`), its partials under ``owner``."""
    error = _depth_error(depth)
    if error is not None:
        return ShotResult(job.name, "failed", error=error)
    if job.store is None:  # (outputs on storage are staged in this task's own folder)
        _claim(job, owner)
    with owned_by(owner):
        result = run_shot(job, overwrite=overwrite)
    return replace(result, extra={**result.extra, "nodes": [_node()]})


def chunk_task(job: ShotJob, first: int, last: int, folder: str, depth: dict[str, Any] | None) -> ChunkResult:
    """A Ray task: frames ``first..last`` of ``job`` into ``folder`` (a folder that already
    holds this chunk of this job is kept: a resumed batch does not render it again)."""
    error = _depth_error(depth)
    if error is not None:
        return ChunkResult(job.name, first, last, folder, error=error)
    result = render_chunk(job, first, last, folder, reuse=True)
    return replace(result, folder=folder) if result.folder != folder else result


def encode_task(job: ShotJob, overwrite: bool, keep: bool, owner: str, *chunks: ChunkResult) -> ShotResult:
    """A Ray task: join ``chunks`` (the chunk tasks' results, in frame order) into the shot's
    output, its partials under ``owner``; the chunk folders are removed once it is published
    (unless ``keep``)."""
    failed = next((chunk for chunk in chunks if chunk.error is not None), None)
    chunk_seconds = sum(chunk.seconds for chunk in chunks)
    extra = {
        "chunks": len(chunks),
        "chunks_reused": sum(chunk.reused for chunk in chunks),
        "chunk_seconds": chunk_seconds,
    }
    if failed is not None:
        return ShotResult(job.name, "failed", seconds=chunk_seconds, error=failed.error, extra=extra)
    folders = [chunk.folder for chunk in chunks]
    _claim(job, owner)
    with owned_by(owner):
        result = encode_chunks(job, folders, overwrite=overwrite)
    if result.status == "done" and not keep:
        remove_chunks(folders)
    extra = {**extra, "encode_seconds": result.seconds, "nodes": [_node()]}
    return replace(result, seconds=chunk_seconds + result.seconds, extra=extra)


@dataclass
class _Task:
    """A submitted task: its shot, whether its result is the shot's, and when the shot started."""

    job: ShotJob
    final: bool
    started: float


class RayBackend:
    """Renders a batch's shots as Ray tasks (:class:`~stillcam.batch.run.Backend`).

    Args:
        address: the cluster (:func:`init_arguments`): None or ``auto`` for ``$RAY_ADDRESS`` or
            a local Ray, ``ray://head:10001`` for a remote one through Ray Client. A Ray already
            initialised in this process is used as it is (and left running).
        chunk_frames: frames per chunk of a long shot; a shot of at most this many is one task.
        max_in_flight: tasks submitted and not yet finished, at most; default twice the
            cluster's CPUs (so that every CPU has the next task queued).
        cpus_per_task: CPUs a render task declares, and the numba threads it runs.
        max_retries: how often Ray retries a task whose worker or node died.
        scratch: the folder of the chunk folders (on storage every node sees); default
            ``.stillcam-chunks`` beside each shot's output.
        keep_chunks: keep a shot's chunk folders after its output is published.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        chunk_frames: int = CHUNK_FRAMES,
        max_in_flight: int | None = None,
        cpus_per_task: int = 1,
        max_retries: int = 3,
        scratch: str | Path | None = None,
        keep_chunks: bool = False,
    ) -> None:
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, got {chunk_frames}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        if cpus_per_task < 1:
            raise ValueError(f"cpus_per_task must be at least 1, got {cpus_per_task}")
        self.address = address
        self.chunk_frames = chunk_frames
        self.max_in_flight = max_in_flight
        self.cpus_per_task = cpus_per_task
        self.max_retries = max_retries
        self.scratch = Path(scratch) if scratch is not None else None
        self.keep_chunks = keep_chunks
        #: The depth actors of the last run (alive until the run ends).
        self.estimators: list[Any] = []

    def run(
        self, jobs: Sequence[ShotJob], on_result: Callable[[ShotResult], None], *, overwrite: bool
    ) -> None:
        """Render ``jobs``, calling ``on_result`` in this process as each shot finishes."""
        ray = _ray()
        started = not ray.is_initialized()
        if started:
            ray.init(**init_arguments(self.address))
        try:
            _Run(self, ray, overwrite).run(jobs, on_result)
        finally:
            if started:
                ray.shutdown()

    def environment(self) -> dict[str, str]:
        """The environment every task gets: the driver's depth cache folder, the numba thread
        count, and :data:`FORWARDED_ENV` where set."""
        env = {"STILLCAM_CACHE_DIR": str(cache_dir().resolve()), "NUMBA_NUM_THREADS": str(self.cpus_per_task)}
        env.update({name: os.environ[name] for name in FORWARDED_ENV if name in os.environ})
        return env


class _Run:
    """One :meth:`RayBackend.run`: the submission queue, the tasks in flight, the actors."""

    def __init__(self, backend: RayBackend, ray: Any, overwrite: bool) -> None:
        self.backend = backend
        self.ray = ray
        self.overwrite = overwrite
        self.env = backend.environment()
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        self.node_ids = [str(node["NodeID"]) for node in nodes if node.get("Resources", {}).get("CPU", 0) > 0]
        self.node_cpus = max((node["Resources"].get("CPU", 0) for node in nodes), default=1)
        self.node_memory = max((node["Resources"].get("memory", 0) for node in nodes), default=0)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.limit = backend.max_in_flight or max(2, 2 * cpus)
        self.shot = ray.remote(shot_task)
        self.chunk = ray.remote(chunk_task)
        self.encode = ray.remote(encode_task)
        self.depths: dict[str, Any] = {}
        self.started: dict[str, float] = {}
        #: Notes for the manifest, by shot (a long shot on storage rendered whole).
        self.notes: dict[str, str] = {}
        self.turn = 0
        #: This run's name: with a shot's name, the owner tag of its output's partials.
        self.run_id = os.urandom(6).hex()

    def resources(self, job: ShotJob, *, encode: bool = False) -> TaskResources:
        """A task's CPUs and memory; the memory held to the largest node's (else Ray would
        wait for a node that never comes)."""
        memory = shot_memory(job)
        if self.node_memory and memory > self.node_memory:
            _LOG.warning(f"{job.name}: needs ~{memory >> 20} MiB, more than any node has; asking for less")
            memory = int(self.node_memory)
        cpus: float = self.backend.cpus_per_task
        if encode:
            cpus = max(1, min(job.options.output.encoder_threads, self.node_cpus))
        return TaskResources(min(cpus, self.node_cpus), memory)

    def _estimators(self) -> list[Any]:
        if not self.backend.estimators:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            actor = self.ray.remote(DepthEstimator)
            for node in self.node_ids or [None]:
                strategy = NodeAffinitySchedulingStrategy(node, soft=True) if node else "DEFAULT"
                self.backend.estimators.append(
                    actor.options(
                        num_cpus=0,
                        max_restarts=self.backend.max_retries,
                        max_task_retries=self.backend.max_retries,
                        scheduling_strategy=strategy,
                        runtime_env={"env_vars": self.env},
                    ).remote()
                )
        return self.backend.estimators

    def _depth(self, job: ShotJob) -> tuple[Any, bool]:
        """(the depth record's ref, whether it was submitted just now) for a shot without a
        depth file; one estimate per photo and model settings."""
        depth, shot = job.options.depth, job.options.shot
        where = str(job.photo) if isinstance(job.photo, Remote) else str(Path(job.photo).resolve())
        parts = [where, depth.depth_model, depth.model_dir, depth.upsample]
        parts += [depth.allow_noncommercial, shot.focal_mm, shot.fov]
        key = hashlib.sha256(repr(parts).encode()).hexdigest()
        if key in self.depths:
            return self.depths[key], False
        estimators = self._estimators()
        actor = estimators[self.turn % len(estimators)]
        self.turn += 1
        photo = job.photo if isinstance(job.photo, Remote) else str(job.photo)
        self.depths[key] = actor.estimate.remote(photo, job.options)
        return self.depths[key], True

    def tasks(self, job: ShotJob, first: int, count: int) -> Iterator[tuple[Any, bool]]:
        """Submit ``job``'s tasks one at a time (each ``next`` submits one): (its ref, whether
        its result is the shot's)."""
        retries = self.backend.max_retries
        depth = None
        if job.depth is None:
            depth, new = self._depth(job)
            if new:
                yield depth, False
        size = self.backend.chunk_frames
        if count <= size or unchunkable(job) is not None:
            if job.store is not None and count > size:
                self.notes[job.name] = f"rendered whole, not in chunks: {unchunkable(job)}"
            options = self.resources(job).options(retries, self.env)
            owner = task_owner(self.run_id, job)
            yield self.shot.options(**options).remote(job, self.overwrite, depth, owner), True
            return
        scratch = self.backend.scratch or Path(job.output).parent / ".stillcam-chunks"
        options = self.resources(job).options(retries, self.env)
        refs = []
        for a, b in chunk_ranges(first, count, size):
            folder = str(chunk_folder(job, scratch, a, b))
            refs.append(self.chunk.options(**options).remote(job, a, b, folder, depth))
            yield refs[-1], False
        encode = self.resources(job, encode=True).options(retries, self.env)
        owner = task_owner(self.run_id, job)
        keep = self.backend.keep_chunks
        yield self.encode.options(**encode).remote(job, self.overwrite, keep, owner, *refs), True

    def result(self, ref: Any, task: _Task) -> ShotResult:
        """The shot's result from its final task; Ray's own failures (a task that failed
        after its retries, a bug's exception) as a ``failed`` result, one line."""
        try:
            result = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None)
            text = f"{type(cause).__name__}: {cause}" if cause is not None else f"{type(exc).__name__}: {exc}"
            result = ShotResult(task.job.name, "failed", error="ray: " + one_line(text, 300))
        wall = time.perf_counter() - task.started
        extra = {**result.extra, "wall_seconds": wall}
        if task.job.name in self.notes:
            extra["note"] = self.notes[task.job.name]
        return replace(result, extra=extra)

    def queue(
        self, jobs: Sequence[ShotJob], on_result: Callable[[ShotResult], None]
    ) -> deque[tuple[ShotJob, Iterator[tuple[Any, bool]]]]:
        """Every job's checks that need no photo, here in the driver before any task (a job
        that fails them is reported at once), then its tasks, not yet submitted."""
        waiting: deque[tuple[ShotJob, Iterator[tuple[Any, bool]]]] = deque()
        for job in jobs:
            try:
                first, count = check_shot(job, overwrite=self.overwrite)
            except StillcamError as exc:
                on_result(ShotResult(job.name, "failed", error=str(exc)))
                continue
            waiting.append((job, self.tasks(job, first, count)))
        return waiting

    def submit(
        self, waiting: deque[tuple[ShotJob, Iterator[tuple[Any, bool]]]], pending: dict[Any, _Task]
    ) -> None:
        """Submit tasks, in the order of the jobs, while fewer than the limit are in flight."""
        while waiting and len(pending) < self.limit:
            job, tasks = waiting[0]
            step = next(tasks, None)
            if step is None:
                waiting.popleft()
                continue
            started = self.started.setdefault(job.name, time.perf_counter())
            pending[step[0]] = _Task(job, step[1], started)

    def run(self, jobs: Sequence[ShotJob], on_result: Callable[[ShotResult], None]) -> None:
        """Submit, wait for one task at a time, report each shot's result as it comes."""
        pending: dict[Any, _Task] = {}
        try:
            waiting = self.queue(jobs, on_result)
            while waiting or pending:
                self.submit(waiting, pending)
                if not pending:
                    break
                (ready,), _ = self.ray.wait(list(pending), num_returns=1)
                task = pending.pop(ready)
                if task.final:
                    on_result(self.result(ready, task))
        except BaseException:
            for ref in pending:
                try:
                    self.ray.cancel(ref)
                except Exception:
                    pass
            raise
        finally:
            for actor in self.backend.estimators:
                try:
                    self.ray.kill(actor)
                except Exception:
                    pass
            self.backend.estimators = []
