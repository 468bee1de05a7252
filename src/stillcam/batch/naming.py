"""Output names and versions: templates (``{shot}_v{version:03d}.mov``) under ``-o DIR``, and
the version each shot takes so that no existing version is ever overwritten.

A template is a :meth:`str.format` string of the fields :data:`FIELDS`: ``{shot}`` (the shot's
name), ``{version}`` (an integer: ``{version:03d}`` gives ``002``) and ``{seq}`` (the shot's
``seq``), with format specs; frame-number patterns (``####``, ``%04d``) pass through. Each shot
starts at its ``version`` (1 unless given) and, when that version's output, its recipe or one of
its exports exists, takes the next free one, unless ``--overwrite`` (replace it) or
``--resume`` finds that version done with the same recipe (the shot is skipped).

Under ``-o URL`` (:mod:`.storage`) the same choice is made against what is on the storage: a
job's output names are then relative to it (:attr:`~.jobs.ShotJob.store`).
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, StillcamError
from ..io.hashing import sha256_file
from ..output.recipe import MAX_RECIPE_BYTES, Recipe, read_recipe, recipe_from_dict
from ..output.targets import parse_output
from . import storage
from .jobs import ShotJob, localized
from .shotlist import MAX_VERSION, ShotSpec

#: The fields a template may use.
FIELDS = ("shot", "version", "seq")


def check_template(template: str) -> None:
    """Refuse a template that uses a field other than :data:`FIELDS`, positional or nested
    fields, or a format spec its field cannot take.

    Raises:
        InputError: naming the template and what to use instead.
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone { or }
        raise InputError(f"template {template!r}: {exc}; write {{{{ and }}}} for a brace") from None
    known = ", ".join(f"{{{f}}}" for f in FIELDS)
    for _, field, spec, _ in parts:
        if field is None:
            continue
        if field not in FIELDS:
            shown = f"{{{field}}}" if field else "{}"
            raise InputError(f"template {template!r}: unknown field {shown}; use {known}")
        if spec and "{" in spec:
            raise InputError(f"template {template!r}: a format spec cannot hold a field")
    try:
        template.format(shot="SHOT", version=1, seq="SEQ")
    except (ValueError, TypeError) as exc:
        raise InputError(f"template {template!r}: {exc}") from None


def uses_version(template: str) -> bool:
    """Whether ``template`` has a ``{version}`` (only then can a shot take another version)."""
    return any(field == "version" for _, field, _, _ in string.Formatter().parse(template))


def format_name(template: str, *, shot: str, version: int, seq: str | None) -> str:
    """``template`` filled in (checked with :func:`check_template` first).

    Raises:
        InputError: the template uses ``{seq}`` and the shot has none, or a field it cannot take.
    """
    check_template(template)
    if seq is None and any(field == "seq" for _, field, _, _ in string.Formatter().parse(template)):
        raise InputError(f"template {template!r} uses {{seq}}; give the shot a seq")
    return template.format(shot=shot, version=version, seq=seq)


def _under_store(name: str, template: str) -> Path:
    """A name under ``-o URL``: relative, inside it."""
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise InputError(f"template {template!r} gives {name!r}; under -o URL a name stays inside it")
    return path


def job_at(spec: ShotSpec, out_dir: Path | storage.Remote, version: int) -> ShotJob:
    """The :class:`ShotJob` of ``spec`` at ``version``, its outputs under ``out_dir`` (a folder,
    or a folder on storage: the job's ``store``, its names relative to it).

    Raises:
        InputError: a bad template, or an output name that is no output (its extension).
    """
    names = {"shot": spec.name, "version": version, "seq": spec.seq}
    store = out_dir if isinstance(out_dir, storage.Remote) else None
    templates = (spec.output, *spec.exports)
    if store is None:
        paths = [out_dir / format_name(t, **names) for t in templates]  # type: ignore[operator]
    else:
        paths = [_under_store(format_name(t, **names), t) for t in templates]
    parse_output(paths[0])
    return ShotJob(
        name=spec.name,
        photo=spec.photo,
        depth=spec.depth,
        options=spec.options,
        output=paths[0],
        exports=tuple(paths[1:]),
        version=version,
        where=spec.where,
        store=store,
        shot_file=spec.shot_file,
    )


def claim_keys(job: ShotJob) -> list[str]:
    """Keys of every file ``job`` writes (output, recipe, exports), equal for two paths of
    one file and for two sequence patterns of one stem (``a.####.png``, ``a.%04d.png``)."""
    target = parse_output(job.output)
    main = (
        job.output.with_name(f"{target.stem}#{target.path.suffix}")
        if target.kind == "sequence"
        else job.output
    )
    paths = [main, job.recipe, *job.exports]
    if job.store is not None:
        return [job.remote(p).url for p in paths]
    return [os.path.normcase(os.path.abspath(p)) for p in paths]


def _remote_frames(job: ShotJob) -> list[str]:
    """The names of the files on ``job.store`` under the names of its sequence's frames."""
    target = parse_output(job.output)
    regex = target.frame_regex()
    return [n for n in storage.names_in(job.remote(target.path.parent)) if regex.fullmatch(n)]


def _occupied_remote(job: ShotJob) -> str | None:
    """:func:`occupied` for a job whose outputs are on storage."""
    target = parse_output(job.output)
    if target.kind == "sequence":
        frames = _remote_frames(job)
        if frames:
            return f"{job.remote(target.path.parent).child(frames[0])} exists"
        paths = [job.recipe, *job.exports]
    else:
        paths = [job.output, job.recipe, *job.exports]
    for path in paths:
        if storage.exists(job.remote(path)):
            return f"{job.remote(path)} exists"
    return None


def occupied(job: ShotJob) -> str | None:
    """What of ``job``'s outputs exists already (``renders/A_v001.mp4 exists``), or None."""
    if job.store is not None:
        return _occupied_remote(job)
    target = parse_output(job.output)
    if target.kind == "sequence":
        frames = target.existing_frames()
        if frames:
            return f"{frames[0]} exists"
    elif os.path.lexists(job.output):
        return f"{job.output} exists"
    for path in (job.recipe, *job.exports):
        if os.path.lexists(path):
            return f"{path} exists"
    return None


def _json(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists)."""
    return json.loads(json.dumps(value))


def read_job_recipe(job: ShotJob) -> Recipe:
    """``job``'s recipe, on its ``store`` or here.

    Raises:
        StillcamError: missing, unreadable or not a recipe (one line).
    """
    if job.store is None:
        return read_recipe(job.recipe)
    where = job.remote(job.recipe)
    data = storage.read_bytes(where, max_bytes=MAX_RECIPE_BYTES, what="recipe")
    try:
        return recipe_from_dict(json.loads(data), where.url)
    except ValueError as exc:
        raise InputError(f"{where}: not a recipe ({exc})") from None


def _outputs_complete(job: ShotJob, frames: Any) -> bool:
    """Whether ``job``'s output (``frames`` of a sequence) and its exports are all there."""
    target = parse_output(job.output)
    if job.store is not None:
        if target.kind == "sequence":
            if len(_remote_frames(job)) != frames:
                return False
        elif not storage.is_file(job.remote(job.output)):
            return False
        return all(storage.is_file(job.remote(e)) for e in job.exports)
    if target.kind == "sequence":
        if len(target.existing_frames()) != frames:
            return False
    elif not job.output.is_file():
        return False
    return all(e.is_file() for e in job.exports)


def recipe_matches(job: ShotJob) -> bool:
    """Whether ``job``'s outputs are complete and its recipe records this job: the same options
    (``job.options.to_dict()``), the same photo and depth file (path and content), every export
    present. What cannot be read does not match. Inputs on storage are compared as the render
    saw them: their copies in this machine's cache (:func:`~.jobs.localized`)."""
    try:
        recipe = read_job_recipe(job)
        job = localized(job)
    except StillcamError:
        return False
    if recipe.options != _json(job.options.to_dict()):
        return False
    photo, depth = recipe.inputs.get("photo") or {}, recipe.inputs.get("depth") or {}
    if not _same_file(photo, job.photo):  # type: ignore[arg-type]
        return False
    if job.depth is None:
        if "path" in depth:
            return False
    elif not _same_file(depth, job.depth):  # type: ignore[arg-type]
        return False
    return _outputs_complete(job, recipe.output.get("frames"))


def _same_file(record: Mapping[str, Any], path: Path) -> bool:
    """Whether a recipe's input record names ``path`` and its content is unchanged."""
    try:
        return record.get("path") == str(path.resolve()) and record.get("sha256") == sha256_file(path)
    except OSError:
        return False


@dataclass(frozen=True)
class Naming:
    """The version a shot takes, and why.

    Attributes:
        job: the shot's job at that version.
        requested: the version the list asked for.
        skip: ``--resume`` found this version done with the same recipe.
        note: what happened, for the manifest (``v1 exists (...); rendered as v2``), or "".
    """

    job: ShotJob
    requested: int
    skip: bool = False
    note: str = ""


def choose_version(
    spec: ShotSpec,
    out_dir: Path | storage.Remote,
    *,
    overwrite: bool,
    resume: bool,
    claimed: Mapping[str, str],
) -> Naming:
    """The version ``spec`` renders at: the first from ``spec.version`` up whose outputs are
    free; with ``resume``, one done before with the same recipe (skipped); with ``overwrite``,
    the first one (replaced). ``claimed`` maps the files other shots of the batch write
    (:func:`claim_keys`) to where those shots stand in the list.

    Raises:
        InputError: an output another shot of the batch writes, a bad template, an existing
            output of a template without ``{version}`` (without ``--overwrite``), or no free
            version up to :data:`~stillcam.batch.shotlist.MAX_VERSION`.
    """
    versioned = uses_version(spec.output)
    version = spec.version
    first_busy = ""
    while True:
        job = job_at(spec, out_dir, version)
        for key in claim_keys(job):
            if key in claimed:
                raise InputError(
                    f"output {job.output} collides with {claimed[key]}'s outputs; give each shot its own "
                    "names (use {shot} in the template)"
                )
        busy = occupied(job)
        if busy is None:
            note = f"v{spec.version} taken ({first_busy}); rendered as v{version}" if first_busy else ""
            return Naming(job, spec.version, note=note)
        if resume and recipe_matches(job):
            return Naming(job, spec.version, skip=True, note="done before, same recipe (--resume)")
        if overwrite:
            return Naming(job, spec.version, note=f"replaces v{version} ({busy})")
        if not versioned:
            raise InputError(
                f"{busy}; the output template {spec.output!r} has no {{version}} to take the next one: "
                "pass --overwrite, or put {version} in it"
            )
        first_busy = first_busy or busy
        if version >= MAX_VERSION:
            raise InputError(f"{busy}: every version up to {MAX_VERSION} is taken")
        version += 1
