"""Render jobs of the web app: one folder per job on disk, a bounded worker pool.

A job folder ``<data>/jobs/<id>/`` holds ``job.json`` (state, progress, request, files,
command, error), the render (``shot.mp4`` or another output) and its recipe and exports. The
state is written (temporary file, then rename) at every change, so a server restart loses no
finished render; jobs that were queued or running when the server stopped are marked failed
and what they had written (partial files, half a render) is removed. Job ids are random (128
bits).

A render that finishes ``done`` becomes a **version** of the session (the server's data folder):
it is given the next number, one more than the highest number kept (``Job.version``, 1 for the
first), so versions are numbered in the order they finished and a pruned one's number is not
reused while a later one is kept. A version's ``note`` (:meth:`JobStore.set_note`) lives in its
``job.json`` (rewritten atomically, like every change); ``approves`` marks the full-quality render
of another version (:mod:`.versions`). Done jobs of an older ``job.json`` without a number are
numbered at start-up in the order they were created.

Admission is atomic: at most ``workers`` jobs run and ``max_queued`` wait, counted and added
under one lock (a burst of submissions cannot slip past the limit). Only the newest ``keep``
finished jobs are kept; older ones are deleted with their folders as new ones finish.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import RequestError, StillcamError
from ..io.files import write_text_atomic

JOB_FILE = "job.json"
#: Finished (done or failed) jobs kept by default.
KEEP_JOBS = 100
#: Longest note of a version, in characters.
MAX_NOTE = 2000


@dataclass(frozen=True)
class Job:
    """A render job's state (what ``job.json`` and the API hold)."""

    id: str
    state: str  # queued | running | done | failed
    created: float
    request: dict[str, Any]
    command: str
    progress: float = 0.0
    files: tuple[str, ...] = ()
    error: str = ""
    finished: float | None = None
    #: The output's file name in the job folder (``shot.mp4``).
    output: str = ""
    #: The version number, once the render is done (None before, and for failed renders).
    version: int | None = None
    #: The version this render is the full-quality (approved) render of, or None.
    approves: int | None = None
    #: The reviewer's note on this version (at most MAX_NOTE characters).
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JobStore:
    """Jobs on disk under ``root`` and a pool of ``workers`` threads running them; at most
    ``max_queued`` jobs wait besides the running ones (more are refused as busy rather than
    piling up in memory), and the newest ``keep`` finished ones are kept."""

    root: Path
    workers: int = 1
    max_queued: int = 8
    keep: int = KEEP_JOBS
    _jobs: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="stillcam-web-render")
        for folder in sorted(self.root.iterdir()):
            job = _read_job(folder)
            if job is None:
                if _is_id(folder.name) and not (folder / JOB_FILE).exists():
                    _remove(folder)  # a job made as the server stopped, before its job.json
                continue  # an unreadable job.json (another version's?) is left as it is
            if job.state in ("queued", "running"):
                job = replace(job, state="failed", error="the server stopped before this render finished")
                for leftover in folder.iterdir():  # its partial files and half-written outputs
                    if leftover.name != JOB_FILE:
                        _remove(leftover)
                self._save(job)
            else:
                for partial in folder.glob(".*.partial-*"):
                    _remove(partial)
            self._jobs[job.id] = job
        unnumbered = sorted(
            (j for j in self._jobs.values() if j.state == "done" and j.version is None),
            key=lambda j: j.created,
        )
        for job in unnumbered:  # done renders of a job.json written before versions
            self._jobs[job.id] = job = replace(job, version=self._next_version())
            self._save(job)
        self._prune()

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def _save(self, job: Job) -> None:
        write_text_atomic(self.folder(job.id) / JOB_FILE, json.dumps(job.to_dict(), indent=1), "job state")

    def _update(self, job_id: str, **changes: Any) -> Job:
        with self._lock:  # saved under the lock too: job.json is never older than the record
            job = replace(self._jobs[job_id], **changes)
            if changes.get("state") == "done":
                job = replace(job, version=self._next_version())
            self._jobs[job_id] = job
            self._save(job)
        return job

    def _next_version(self) -> int:
        """One more than the highest version number kept (1 for the first); under the lock."""
        return 1 + max((j.version for j in self._jobs.values() if j.version is not None), default=0)

    def versions(self) -> list[Job]:
        """The done jobs, by version number."""
        with self._lock:
            done = [j for j in self._jobs.values() if j.state == "done" and j.version is not None]
        return sorted(done, key=lambda j: j.version or 0)

    def version(self, number: int) -> Job | None:
        return next((j for j in self.versions() if j.version == number), None)

    def set_note(self, job_id: str, note: str) -> Job:
        """Store the note of a version in its ``job.json`` (atomically).

        Raises:
            RequestError: 422 for a note over MAX_NOTE characters.
        """
        if len(note) > MAX_NOTE:
            raise RequestError(f"note: at most {MAX_NOTE} characters, got {len(note)}", 422)
        try:
            return self._update(job_id, note=note)
        except (KeyError, FileNotFoundError):  # pruned meanwhile
            raise RequestError("no such version (deleted as newer renders finished)", 404) from None

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def pending(self) -> list[Job]:
        """The jobs queued or running."""
        with self._lock:
            return [j for j in self._jobs.values() if j.state in ("queued", "running")]

    def busy(self) -> bool:
        """Whether a job submitted now would be refused."""
        return len(self.pending()) >= self.max_queued + self.workers

    def submit(
        self,
        request: dict[str, Any],
        command: str,
        run: Callable[[Path, Callable[[int, int], None]], None],
        *,
        output: str = "",
        approves: int | None = None,
    ) -> Job:
        """Queue ``run(folder, on_frame)``; the job's files are what it leaves in its folder
        (``output`` names the render among them; ``approves``: see :class:`Job`).

        Raises:
            RequestError: 429 when ``workers`` jobs run and ``max_queued`` wait already.
        """
        job = Job(
            id=secrets.token_hex(16),
            state="queued",
            created=time.time(),
            request=request,
            command=command,
            output=output,
            approves=approves,
        )
        with self._lock:  # the count and the admission are one step
            if sum(j.state in ("queued", "running") for j in self._jobs.values()) >= (
                self.max_queued + self.workers
            ):
                raise RequestError("busy: too many renders queued; wait for one to finish", 429)
            self._jobs[job.id] = job
        try:
            self.folder(job.id).mkdir(parents=True)
            self._save(job)
            assert self._pool is not None
            self._pool.submit(self._finish, job.id, run)
        except BaseException:
            with self._lock:
                del self._jobs[job.id]
            _remove(self.folder(job.id))
            raise
        return job

    def _run(self, job_id: str, run: Callable[[Path, Callable[[int, int], None]], None]) -> None:
        folder = self.folder(job_id)
        self._update(job_id, state="running")
        last = [0.0]

        def on_frame(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] > 0.5:  # job.json at most twice a second
                last[0] = now
                self._update(job_id, progress=done / total)

        try:
            run(folder, on_frame)
        except StillcamError as exc:
            self._update(job_id, state="failed", error=str(exc), finished=time.time())
            return
        except Exception as exc:
            self._update(job_id, state="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
            return
        files = tuple(sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != JOB_FILE))
        self._update(job_id, state="done", progress=1.0, files=files, finished=time.time())

    def _finish(self, job_id: str, run: Callable[[Path, Callable[[int, int], None]], None]) -> None:
        try:
            self._run(job_id, run)
        finally:
            self._prune()

    def _prune(self) -> None:
        """Delete the finished jobs older than the newest ``keep``, with their folders."""
        with self._lock:
            finished = sorted(
                (j for j in self._jobs.values() if j.state in ("done", "failed")),
                key=lambda j: j.created,
                reverse=True,
            )
            gone = finished[self.keep :]
            for job in gone:
                del self._jobs[job.id]
        for job in gone:
            _remove(self.folder(job.id))

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)


def _is_id(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def _read_job(folder: Path) -> Job | None:
    """The job of a folder, or None when it has no readable, well-typed ``job.json``."""
    try:
        data = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
        job = Job(**{**data, "files": tuple(data.get("files", ()))})
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    typed = (
        job.id == folder.name
        and job.state in ("queued", "running", "done", "failed")
        and isinstance(job.created, (int, float))
        and isinstance(job.request, dict)
        and isinstance(job.command, str)
        and isinstance(job.error, str)
        and all(isinstance(name, str) and "/" not in name for name in job.files)
        and isinstance(job.output, str)
        and "/" not in job.output
        and isinstance(job.note, str)
        and all(_is_number(v) for v in (job.version, job.approves))
    )
    return job if typed else None


def _is_number(value: Any) -> bool:
    """None or a version number (a positive int, not a bool)."""
    return value is None or (type(value) is int and value > 0)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
