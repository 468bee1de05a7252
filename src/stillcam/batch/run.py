"""The batch driver: checks a whole shot list before any work (:func:`plan_batch`), hands the
:class:`~.jobs.ShotJob` s to a :class:`Backend` and keeps the manifest (:func:`run_batch`).

A backend (the local process pool in :mod:`stillcam.batch.local`, Ray in
:mod:`stillcam.batch.ray_backend`) only renders; the driver, in this process, decides names and
versions, records every result and writes ``batch.json``/``batch.csv`` after each shot. The
output folder may be a URL on storage (:mod:`.storage`): the names, versions and manifest are
then decided and written there.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from ..camera.plan import plan_timing
from ..errors import InputError, StillcamError
from ..export import EXPORT_FORMATS
from ..output.targets import parse_output
from ..pipeline import Destination, camera_plan, destination
from . import storage
from .jobs import ShotJob, ShotResult, local_inputs, with_local_shot_file
from .manifest import JSON_NAME, Manifest, ShotRecord, remove_stale, totals, write_manifest
from .naming import choose_version, claim_keys, read_job_recipe
from .shotlist import ShotListErrors, check_shots, cli_level, read_raw


class Backend(Protocol):
    """Something that renders shots.

    ``run`` renders every job of ``jobs`` (each with :func:`stillcam.batch.jobs.run_shot`, or the
    same code path), calls ``on_result`` in the driver process once for each job as it finishes (in
    any order), and returns when all are done. ``on_result`` may raise :class:`StopBatch` (the
    driver's ``--fail-fast``): the backend then submits nothing more, cancels what it can, may
    still report the shots already running, and lets the exception propagate; jobs it never
    reported are recorded as ``not run``. A failing shot is a ``failed`` :class:`ShotResult`,
    never an exception.
    """

    def run(
        self, jobs: Sequence[ShotJob], on_result: Callable[[ShotResult], None], *, overwrite: bool
    ) -> None:
        """Render ``jobs``, calling ``on_result`` for each as it finishes."""
        ...


#: Under ``-o URL``, the manifest is uploaded at most this often while shots finish (each
#: upload is the whole manifest, ~0.65 kB a shot), and always when the batch starts and ends.
STORAGE_MANIFEST_INTERVAL_S = 5.0


class StopBatch(Exception):
    """Raised by the driver's ``on_result`` to stop a batch (``--fail-fast``)."""


@dataclass(frozen=True)
class PlannedShot:
    """One shot of a checked batch.

    Attributes:
        job: what to render (names and version chosen).
        requested: the version the list asked for.
        skip: done before with the same recipe (``--resume``): not rendered.
        note: how the version was chosen, for the manifest.
        frames: its frame count (for progress; a skipped shot's from its recipe).
    """

    job: ShotJob
    requested: int
    skip: bool = False
    note: str = ""
    frames: int = 0


@dataclass(frozen=True)
class BatchPlan:
    """A shot list checked whole: every shot's job, in the list's order; ``out_dir`` is a folder
    of this machine or on storage (``-o URL``)."""

    label: str
    out_dir: Path | storage.Remote
    shots: tuple[PlannedShot, ...]

    @property
    def jobs(self) -> list[ShotJob]:
        """The jobs to render (not the skipped ones)."""
        return [s.job for s in self.shots if not s.skip]


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = path.absolute()
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    return path


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written into ``folder`` (made first if missing), or None."""
    if folder.is_dir():
        return None if os.access(folder, os.W_OK) else f"{folder}: folder is not writable"
    existing = _nearest_existing(folder)
    if existing == folder.absolute():
        return f"{folder}: is a file, not a folder"
    if not existing.is_dir():
        return f"{folder}: cannot be made, {existing} is a file"
    if not os.access(existing, os.W_OK):
        return f"{folder}: cannot be made, {existing} is not writable"
    return None


def check_job(job: ShotJob, *, overwrite: bool) -> int:
    """Every check ``stillcam render`` makes before it reads the photo, for ``job``: its
    outputs (:func:`~stillcam.pipeline.destination`; only the names and folders while its
    folders do not exist yet) and its camera and output options
    (:func:`~stillcam.pipeline.camera_plan`). Returns its frame count.

    Outputs on storage (``job.store``): only their names (the storage was asked in
    :func:`~.naming.choose_version`); a shot file on storage is fetched to be read.

    Raises:
        StillcamError: the first problem.
    """
    job = with_local_shot_file(job)
    paths = (job.output, *job.exports) if job.store is None else ()  # on storage: no folders here
    folders = dict.fromkeys(p.parent for p in paths)
    for folder in folders:
        if problem := folder_problem(folder):
            raise InputError(problem)
    if job.store is None and all(f.is_dir() for f in folders):
        inputs = local_inputs(job)
        dest = destination(job.output, job.options, overwrite=overwrite, exports=job.exports, inputs=inputs)
    else:  # made when the batch starts, or on storage: nothing here can be in the way
        for export in job.exports:
            if export.suffix.lower() not in EXPORT_FORMATS:
                raise InputError(
                    f"export {export}: unknown format {export.suffix!r}; use {', '.join(EXPORT_FORMATS)}"
                )
        dest = Destination(parse_output(job.output), job.exports, overwrite)
    plan = camera_plan(job.options, dest)
    return plan_timing(plan, job.options.shot).frames


def signed_plan(plan: BatchPlan, key: str | Path, cert: str | Path) -> BatchPlan:
    """``plan`` with every shot's output signed by ``--sign KEY CERT`` (C2PA content
    credentials, :mod:`stillcam.output.provenance`): the identity read and checked here in the
    driver, before any work, and every output's container checked (MP4, MOV, PNG sequences
    carry credentials). Each process that renders a shot reads the identity again from the
    paths (a private key never travels with the jobs), so they must be where every node sees them.

    Raises:
        InputError: the key or certificate is unfit (one line).
        ShotListErrors: outputs that cannot carry credentials, each with its shot's row.
    """
    from ..output.provenance import check_signable, load_signing

    load_signing(key, cert)
    paths = (str(Path(key).resolve()), str(Path(cert).resolve()))
    problems = []
    for shot in plan.shots:
        try:
            check_signable(parse_output(shot.job.output))
        except InputError as exc:
            problems.append(f"{shot.job.where or shot.job.name}: {exc}")
    if problems:
        raise ShotListErrors(problems)
    return replace(plan, shots=tuple(replace(s, job=replace(s.job, sign=paths)) for s in plan.shots))


def plan_batch(
    shot_list: str | Path,
    out_dir: str | Path,
    cli: Mapping[str, Any] | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    cwd: Path | None = None,
) -> BatchPlan:
    """Read and check the whole shot list, choose every shot's names and version, and make
    every check a render makes before it reads its photo: nothing is rendered or written.

    Args:
        shot_list: the YAML, JSON or CSV list (:mod:`.shotlist`).
        out_dir: ``-o DIR``: output templates are relative to it; a URL (``s3://bucket/renders``):
            a folder on storage (:mod:`.storage`).
        cli: the command line's defaults (option fields, ``output``, ``exports``); they
            override the list's ``defaults:``, a shot's own fields override them.
        overwrite: replace existing versions instead of taking the next free one.
        resume: skip shots whose output exists with the same recipe.
        cwd: the folder the command line's paths are relative to (default: the working one).

    Raises:
        ShotListErrors: every problem of the list, each located, one line each.
        InputError: the list as a whole cannot be read, or ``-o URL`` names storage that
            cannot be used (an unknown protocol, its package not installed: with the hint).
    """
    out: Path | storage.Remote
    if storage.is_url(out_dir):
        try:
            out = storage.remote(str(out_dir))
        except InputError as exc:
            raise InputError(f"-o {exc}") from None
        problem = storage.folder_problem(out)
    else:
        out = Path(out_dir).absolute()  # workers need not share this process's working folder
        problem = folder_problem(Path(out_dir))
    raw = read_raw(shot_list)
    checked = check_shots(raw, cli_level(cli or {}, cwd or Path.cwd()))
    errors = list(checked.errors)
    if problem:
        errors.insert(0, f"-o {problem}")
    claimed: dict[str, str] = {}
    shots = []
    for spec in checked.specs:
        try:
            naming = choose_version(spec, out, overwrite=overwrite, resume=resume, claimed=claimed)
            frames = _recipe_frames(naming.job) if naming.skip else check_job(naming.job, overwrite=overwrite)
        except StillcamError as exc:
            errors.append(f"{spec.where}: {exc}")
            continue
        claimed.update(dict.fromkeys(claim_keys(naming.job), spec.where))
        shots.append(PlannedShot(naming.job, naming.requested, naming.skip, naming.note, frames))
    if errors:
        raise ShotListErrors(errors)
    return BatchPlan(checked.label, out, tuple(shots))


def _recipe_frames(job: ShotJob) -> int:
    return int(read_job_recipe(job).output.get("frames", 0))


def make_folders(plan: BatchPlan) -> None:
    """Make ``-o DIR`` and the folders the templates name under it (on storage: made as files
    are written, where it has folders)."""
    if isinstance(plan.out_dir, storage.Remote):
        return
    folders = {plan.out_dir, *(p.parent for s in plan.shots for p in (s.job.output, *s.job.exports))}
    for folder in sorted(folders, key=lambda f: len(f.parts)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{folder}: cannot make the folder ({exc.strerror or exc})") from None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def initial_records(plan: BatchPlan) -> list[ShotRecord]:
    """The manifest's records before any render: ``queued``, or ``skipped`` with the outputs
    done before."""
    records = []
    for shot in plan.shots:
        job = shot.job
        record = ShotRecord(
            name=job.name,
            status="skipped" if shot.skip else "queued",
            version=job.version,
            requested_version=shot.requested,
            where=job.where,
            note=shot.note,
        )
        if shot.skip:
            record = replace(record, outputs=job.outputs, recipe=job.location(job.recipe), frames=shot.frames)
        records.append(record)
    return records


class _ManifestWriter:
    """Writes the manifest ``make()`` gives into ``folder`` each time it is asked to; on storage
    at most every :data:`STORAGE_MANIFEST_INTERVAL_S` (``now``: whatever the time)."""

    def __init__(self, folder: Path | storage.Remote, make: Callable[[], Manifest]) -> None:
        self.folder = folder
        self.make = make
        self.interval = STORAGE_MANIFEST_INTERVAL_S if isinstance(folder, storage.Remote) else 0.0
        self.written = -math.inf
        self.held = False

    def write(self, *, now: bool = False) -> None:
        if now or time.monotonic() - self.written >= self.interval:
            write_manifest(self.folder, self.make())
            self.written, self.held = time.monotonic(), False
        else:
            self.held = True

    def flush(self) -> None:
        """When interrupted: write what was held back, if anything (an error here is dropped:
        the interruption is what to report)."""
        if self.held:
            try:
                self.write(now=True)
            except Exception:
                pass


def run_batch(
    plan: BatchPlan,
    backend: Backend,
    *,
    overwrite: bool = False,
    fail_fast: bool = False,
    command: str = "",
    settings: Mapping[str, Any] | None = None,
    on_record: Callable[[ShotRecord], None] | None = None,
) -> Manifest:
    """Render ``plan``'s jobs on ``backend`` and keep the manifest in ``plan.out_dir``, written
    whole after every shot (on storage: at most every :data:`STORAGE_MANIFEST_INTERVAL_S`);
    returns the final manifest (:func:`exit_code` gives the command's status). With
    ``fail_fast`` the first failure stops the batch: what was not reported is ``not run``. An
    interruption (Ctrl-C, SIGTERM) leaves the manifest as it was (on storage: with the shots
    finished since its last upload), the unfinished shots ``queued``, and propagates."""
    make_folders(plan)
    if isinstance(plan.out_dir, Path):  # (temporaries on storage cannot be told alive or dead)
        remove_stale(plan.out_dir)
    records = {r.name: r for r in initial_records(plan)}
    started = _now()
    stopped = False

    def manifest() -> Manifest:
        return Manifest(command, dict(settings or {}), tuple(records.values()), started, _now())

    writer = _ManifestWriter(plan.out_dir, manifest)

    def on_result(result: ShotResult) -> None:
        nonlocal stopped
        record = records[result.name].finished(result)
        records[result.name] = record
        writer.write()
        if on_record is not None:
            on_record(record)
        if record.status == "failed" and fail_fast and not stopped:
            stopped = True
            raise StopBatch(result.name)

    writer.write(now=True)
    jobs = plan.jobs
    try:
        if jobs:
            backend.run(jobs, on_result, overwrite=overwrite)
    except StopBatch:
        pass
    except BaseException:
        writer.flush()
        raise
    for name, record in records.items():
        if record.status == "queued":
            if stopped:
                records[name] = replace(record, status="not run", note="--fail-fast stopped the batch first")
            else:
                records[name] = replace(record, status="failed", error="the backend did not report this shot")
    final = manifest()
    write_manifest(plan.out_dir, final)
    return final


def exit_code(manifest: Manifest) -> int:
    """0 when every shot is done or skipped, else 1."""
    return 0 if all(r.status in ("done", "skipped") for r in manifest.shots) else 1


def summary(manifest: Manifest, folder: str | Path | storage.Remote) -> str:
    """The batch's last line: shots per status, and where the manifest is (``folder`` as the
    command line gave it)."""
    count = totals(manifest.shots)
    parts = [f"{count[s]} {s}" for s in ("done", "skipped", "failed", "not run") if count[s] or s == "done"]
    where = f"{str(folder).rstrip('/')}/{JSON_NAME}" if storage.is_url(folder) else Path(folder) / JSON_NAME
    return f"batch: {', '.join(parts)} of {count['shots']} shots; manifest {where}"


@contextmanager
def progress(plan: BatchPlan, *, bar: bool) -> Iterator[Callable[[ShotRecord], None]]:
    """A reporter of finished shots: one aggregated Rich bar on stderr (shots, frames, ETA)
    when ``bar``, else a plain line a shot (``SEQ010_SH020 done 12.3 s``)."""
    if not bar:

        def line(record: ShotRecord) -> None:
            text = f"{record.name} {record.status} {record.seconds:.1f} s"
            if record.error:
                text += f": {record.error}"
            print(text, file=sys.stderr, flush=True)

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    todo = [s for s in plan.shots if not s.skip]
    frames_total = sum(s.frames for s in todo)
    frames_done = 0
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("shots, {task.fields[frames]} frames"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bars.add_task("batch", total=len(todo), frames=f"0/{frames_total}")

    def advance(record: ShotRecord) -> None:
        nonlocal frames_done
        frames_done += record.frames
        if record.status == "failed":
            bars.console.print(f"{record.name} failed: {record.error}")
        bars.update(task, advance=1, frames=f"{frames_done}/{frames_total}")

    with bars:
        yield advance
