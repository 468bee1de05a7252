"""Output names and versions: templates (``{shot}_v{version:03d}.mov``) under ``-o DIR``, and
the version each shot takes so that no existing version is ever overwritten.

A template is a :meth:`str.format` string of the fields :data:`FIELDS`: ``{shot}`` (the shot's
name), ``{version}`` (an integer: ``{version:03d}`` gives ``002``) and ``{seq}`` (the shot's
``seq``), with format specs; frame-number patterns (``####``, ``%04d``) pass through. Each shot
starts at its ``version`` (1 unless given) and, when that version's output, its recipe or one of
its exports exists, takes the next free one, unless ``--overwrite`` (replace it) or
``--resume`` finds that version done with the same recipe (the shot is skipped).
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
from ..output.recipe import read_recipe
from ..output.targets import parse_output
from .jobs import ShotJob
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


def job_at(spec: ShotSpec, out_dir: Path, version: int) -> ShotJob:
    """The :class:`ShotJob` of ``spec`` at ``version``, its outputs under ``out_dir``.

    Raises:
        InputError: a bad template, or an output name that is no output (its extension).
    """
    names = {"shot": spec.name, "version": version, "seq": spec.seq}
    output = out_dir / format_name(spec.output, **names)
    parse_output(output)
    exports = tuple(out_dir / format_name(e, **names) for e in spec.exports)
    return ShotJob(
        name=spec.name,
        photo=spec.photo,
        depth=spec.depth,
        options=spec.options,
        output=output,
        exports=exports,
        version=version,
        where=spec.where,
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
    return [os.path.normcase(os.path.abspath(p)) for p in paths]


def occupied(job: ShotJob) -> str | None:
    """What of ``job``'s outputs exists already (``renders/A_v001.mp4 exists``), or None."""
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


def recipe_matches(job: ShotJob) -> bool:
    """Whether ``job``'s outputs are complete and its recipe records this job: the same options
    (``job.options.to_dict()``), the same photo and depth file (path and content), every export
    present. What cannot be read does not match."""
    try:
        recipe = read_recipe(job.recipe)
    except StillcamError:
        return False
    if recipe.options != _json(job.options.to_dict()):
        return False
    photo, depth = recipe.inputs.get("photo") or {}, recipe.inputs.get("depth") or {}
    if not _same_file(photo, job.photo):
        return False
    if job.depth is None:
        if "path" in depth:
            return False
    elif not _same_file(depth, job.depth):
        return False
    target = parse_output(job.output)
    if target.kind == "sequence":
        if len(target.existing_frames()) != recipe.output.get("frames"):
            return False
    elif not job.output.is_file():
        return False
    return all(e.is_file() for e in job.exports)


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
    spec: ShotSpec, out_dir: Path, *, overwrite: bool, resume: bool, claimed: Mapping[str, str]
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
