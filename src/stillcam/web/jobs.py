"""Render jobs of the web app: one folder per job on disk, a bounded worker pool.

A job folder ``<data>/jobs/<id>/`` holds ``job.json`` (state, progress, request, files,
command, error), the render (``shot.mp4`` or another output) and its recipe and exports. The
state is written (temporary file, then rename) at every change, so a server restart loses no
finished render; jobs that were queued or running when the server stopped are marked failed.
Job ids are random (128 bits).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import StillcamError
from ..io.files import write_text_atomic

JOB_FILE = "job.json"


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JobStore:
    """Jobs on disk under ``root`` and a pool of ``workers`` threads running them; at most
    ``max_queued`` jobs wait (more are refused as busy rather than piling up in memory)."""

    root: Path
    workers: int = 1
    max_queued: int = 8
    _jobs: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="stillcam-web-render")
        for folder in sorted(self.root.iterdir()):
            record = folder / JOB_FILE
            if not record.is_file():
                continue
            try:
                data = json.loads(record.read_text())
                job = Job(**{**data, "files": tuple(data.get("files", ()))})
            except (OSError, ValueError, TypeError):
                continue
            if job.state in ("queued", "running"):
                job = replace(job, state="failed", error="the server stopped before this render finished")
                self._save(job)
            self._jobs[job.id] = job

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def _save(self, job: Job) -> None:
        write_text_atomic(self.folder(job.id) / JOB_FILE, json.dumps(job.to_dict(), indent=1), "job state")

    def _update(self, job_id: str, **changes: Any) -> Job:
        with self._lock:
            job = replace(self._jobs[job_id], **changes)
            self._jobs[job_id] = job
        self._save(job)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def busy(self) -> bool:
        return sum(j.state == "queued" for j in self._jobs.values()) >= self.max_queued

    def submit(
        self, request: dict[str, Any], command: str, run: Callable[[Path, Callable[[int, int], None]], None]
    ) -> Job:
        """Queue ``run(folder, on_frame)``; the job's files are what it leaves in its folder."""
        job = Job(
            id=secrets.token_hex(16), state="queued", created=time.time(), request=request, command=command
        )
        self.folder(job.id).mkdir(parents=True)
        with self._lock:
            self._jobs[job.id] = job
        self._save(job)
        assert self._pool is not None
        self._pool.submit(self._run, job.id, run)
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

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
