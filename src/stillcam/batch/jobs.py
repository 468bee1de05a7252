"""One shot of a batch: what to render (:class:`ShotJob`) and what came of it
(:class:`ShotResult`); :func:`run_shot` renders one in this process.

A job's inputs may be on storage by URL (:class:`~.storage.Remote`: fetched into this
machine's cache first, :func:`localized`), and so may its outputs (``store``: rendered into a
staging folder of this process, then uploaded, :func:`run_shot`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ..errors import StillcamError
from ..options import RenderOptions
from ..output.provenance import Signing, load_signing
from ..output.recipe import Recipe
from ..output.stereo import eye_targets
from ..output.targets import parse_output
from ..pipeline import render
from .storage import Remote, fetch, publish

Status = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class ShotJob:
    """One shot of a shot list, fully resolved (no template, default or version left open).

    Attributes:
        name: the shot's name, unique in the batch (e.g. ``SEQ010_SH020``).
        photo: the still: a path, or a file on storage.
        depth: its depth file (a path or on storage); None: estimated by
            ``options.depth.depth_model``.
        options: every option of the shot (the list's defaults, then the shot's own).
        output: the final output (``renders/SEQ010_SH020_v001.mov``, ``….####.png``); with
            ``store``, its path under it (``SEQ010_SH020_v001.mov``).
        exports: scene/camera exports written with it (``.glb``, ``.usda``, ``.chan`` ...), as
            ``output`` is.
        version: the version number the output name carries.
        where: where the shot stands in the list, for messages (``shots.csv row 4``).
        store: the ``-o URL`` folder on storage the outputs go to; None: ``output`` and
            ``exports`` are paths of this machine.
        shot_file: the shot file (``options.shot.camera_file``, its URL) when it is on storage.
        sign: ``(KEY, CERT)`` of ``--sign``: paths (on storage every node sees) of the identity
            that signs the output's content credentials, read by the process that renders it
            (:func:`signing`); None: unsigned.
    """

    name: str
    photo: Path | Remote
    depth: Path | Remote | None
    options: RenderOptions
    output: Path
    exports: tuple[Path, ...] = ()
    version: int = 1
    where: str = ""
    store: Remote | None = None
    shot_file: Remote | None = None
    sign: tuple[str, str] | None = None

    @property
    def recipe(self) -> Path:
        """The output's recipe (beside it, :attr:`OutputTarget.recipe_path`)."""
        return parse_output(self.output).recipe_path

    def remote(self, path: Path) -> Remote:
        """``path`` (the output, its recipe, an export) on the job's ``store``."""
        if self.store is None:
            raise ValueError(f"{self.name}: its outputs are not on storage")
        return self.store.child(path.as_posix())

    def location(self, path: Path) -> str:
        """``path`` (the output, its recipe, an export) as the manifest names it: the path, or
        its URL on ``store``."""
        return str(path) if self.store is None else self.remote(path).url

    @property
    def outputs(self) -> tuple[str, ...]:
        """The output (``--stereo separate``: each eye's) and the exports, as the manifest
        names them (:meth:`location`)."""
        eyes = eye_targets(parse_output(self.output), self.options.render.stereo)
        mains = [target.path for _, target in eyes] or [self.output]
        return tuple(self.location(p) for p in (*mains, *self.exports))


@dataclass(frozen=True)
class ShotResult:
    """What rendering one :class:`ShotJob` gave.

    Attributes:
        name: the job's name.
        status: ``done``, ``failed`` (``error`` says why, one line) or ``skipped`` (already
            done: ``--resume``).
        outputs: the files written (the output, its passes and exports), as strings.
        recipe: the recipe's path, None when the shot failed.
        seconds: wall time of the render.
        frames: frames rendered.
        error: the one-line error of a failed shot.
    """

    name: str
    status: Status
    outputs: tuple[str, ...] = ()
    recipe: str | None = None
    seconds: float = 0.0
    frames: int = 0
    error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def with_local_shot_file(job: ShotJob) -> ShotJob:
    """``job`` with its shot file fetched into this machine's cache when it is on storage (what
    the checks before a render read: ``pipeline.camera_plan``)."""
    if job.shot_file is None:
        return job
    shot = replace(job.options.shot, camera_file=str(fetch(job.shot_file, "shot file")))
    return replace(job, options=replace(job.options, shot=shot), shot_file=None)


def localized(job: ShotJob) -> ShotJob:
    """``job`` with its inputs on storage (photo, depth file, shot file) fetched into this
    machine's cache (:func:`~.storage.fetch`: once per process); ``job`` itself when it has none.

    Raises:
        InputError: an input that is missing or cannot be fetched.
    """
    job = with_local_shot_file(job)
    if isinstance(job.photo, Remote):
        job = replace(job, photo=fetch(job.photo, "photo"))
    if isinstance(job.depth, Remote):
        job = replace(job, depth=fetch(job.depth, "depth"))
    return job


def local_inputs(job: ShotJob) -> dict[str, Path | None]:
    """``job``'s photo and depth file for ``pipeline.destination``'s check that no output is an
    input (those on storage cannot be: None)."""
    return {
        "photo": job.photo if isinstance(job.photo, Path) else None,
        "--depth file": job.depth if isinstance(job.depth, Path) else None,
    }


def staged(job: ShotJob, folder: Path) -> ShotJob:
    """``job`` with its outputs under the local ``folder`` instead of its ``store``."""
    return replace(
        job, output=folder / job.output, exports=tuple(folder / e for e in job.exports), store=None
    )


@lru_cache(maxsize=4)
def _signing(key: str, cert: str) -> Signing:
    return load_signing(key, cert)


def signing(job: ShotJob) -> Signing | None:
    """The identity that signs ``job``'s output (``--sign``), read and checked once per process;
    None when unsigned.

    Raises:
        InputError: the key or certificate is unreadable or unfit (one line).
    """
    return None if job.sign is None else _signing(*job.sign)


def _render(
    job: ShotJob, overwrite: bool, on_frame: Callable[[int, int], None] | None
) -> tuple[Recipe, tuple[str, ...]]:
    """``pipeline.render`` of ``job`` (its inputs local): (the recipe, every file written)."""
    if job.store is None:
        recipe = render(
            job.photo,  # type: ignore[arg-type]
            job.depth,  # type: ignore[arg-type]
            job.output,
            job.options,
            overwrite=overwrite,
            quiet=True,
            exports=job.exports,
            on_frame=on_frame,
            sign=signing(job),
        )
        return recipe, job.outputs
    folder = Path(tempfile.mkdtemp(prefix=f"stillcam-{job.name}-"))
    try:
        local = staged(job, folder)
        for parent in {p.parent for p in (local.output, *local.exports)}:
            parent.mkdir(parents=True, exist_ok=True)
        recipe, _ = _render(local, False, on_frame)
        upload_folder(job, folder, overwrite=overwrite)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return recipe, job.outputs


def upload_folder(job: ShotJob, folder: Path, *, overwrite: bool) -> None:
    """Publish every file under the staging ``folder`` (the output, its recipe, passes and
    exports) to the same names under ``job.store``, the recipe last (:func:`~.storage.publish`)."""
    recipe = folder / job.recipe
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p != recipe)
    if recipe.is_file():
        files.append(recipe)
    publish([(p, job.remote(p.relative_to(folder))) for p in files], overwrite=overwrite)


def run_shot(
    job: ShotJob, *, overwrite: bool = False, on_frame: Callable[[int, int], None] | None = None
) -> ShotResult:
    """Render ``job`` in this process (``pipeline.render``, as ``stillcam render`` does): its
    inputs on storage fetched first (:func:`localized`); with a ``store``, rendered into a
    staging folder of this process, uploaded (:func:`upload_folder`), the staging folder removed.

    Every stillcam error becomes a ``failed`` result with its one-line message; anything
    else (a bug) propagates.
    """
    start = time.perf_counter()
    try:
        recipe, outputs = _render(localized(job), overwrite, on_frame)
    except StillcamError as exc:
        return ShotResult(job.name, "failed", seconds=time.perf_counter() - start, error=str(exc))
    return ShotResult(
        job.name,
        "done",
        outputs=outputs,
        recipe=job.location(job.recipe),
        seconds=time.perf_counter() - start,
        frames=int(recipe.output.get("frames", 0)),
    )
