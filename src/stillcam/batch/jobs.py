"""One shot of a batch: what to render (:class:`ShotJob`) and what came of it
(:class:`ShotResult`); :func:`run_shot` renders one in this process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import StillcamError
from ..options import RenderOptions
from ..output.targets import parse_output
from ..pipeline import render

Status = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class ShotJob:
    """One shot of a shot list, fully resolved (no template, default or version left open).

    Attributes:
        name: the shot's name, unique in the batch (e.g. ``SEQ010_SH020``).
        photo: the still.
        depth: its depth file; None: estimated by ``options.depth.depth_model``.
        options: every option of the shot (the list's defaults, then the shot's own).
        output: the final output (``renders/SEQ010_SH020_v001.mov``, ``….####.png``).
        exports: scene/camera exports written with it (``.glb``, ``.usda``, ``.chan`` ...).
        version: the version number the output name carries.
        where: where the shot stands in the list, for messages (``shots.csv row 4``).
    """

    name: str
    photo: Path
    depth: Path | None
    options: RenderOptions
    output: Path
    exports: tuple[Path, ...] = ()
    version: int = 1
    where: str = ""

    @property
    def recipe(self) -> Path:
        """The output's recipe (beside it, :attr:`OutputTarget.recipe_path`)."""
        return parse_output(self.output).recipe_path


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


def run_shot(
    job: ShotJob, *, overwrite: bool = False, on_frame: Callable[[int, int], None] | None = None
) -> ShotResult:
    """Render ``job`` in this process (``pipeline.render``, as ``stillcam render`` does).

    Every stillcam error becomes a ``failed`` result with its one-line message; anything
    else (a bug) propagates.
    """
    start = time.perf_counter()
    try:
        recipe = render(
            job.photo,
            job.depth,
            job.output,
            job.options,
            overwrite=overwrite,
            quiet=True,
            exports=job.exports,
            on_frame=on_frame,
        )
    except StillcamError as exc:
        return ShotResult(job.name, "failed", seconds=time.perf_counter() - start, error=str(exc))
    outputs = (str(job.output), *(str(e) for e in job.exports))
    return ShotResult(
        job.name,
        "done",
        outputs=outputs,
        recipe=str(job.recipe),
        seconds=time.perf_counter() - start,
        frames=int(recipe.output.get("frames", 0)),
    )
