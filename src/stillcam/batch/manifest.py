"""The batch manifest: ``DIR/batch.json`` and ``DIR/batch.csv``, one record per shot (status,
outputs, recipe, seconds, frames, error, version), the batch's command and settings, and
totals; both rewritten whole (atomically) after every shot, so a killed batch leaves a
manifest that says what was done. Under ``-o URL`` they are written on the storage, each under
a temporary name then moved into place (:func:`~.storage.write_bytes`).

Statuses: ``queued`` (not finished yet: the batch is running, or was killed), ``done``,
``failed`` (``error`` says why, one line), ``skipped`` (done before: ``--resume``), ``not run``
(``--fail-fast`` stopped the batch first).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .._version import __version__
from ..io.files import remove_stale_partials, write_text_atomic
from . import storage
from .jobs import ShotResult

ManifestStatus = Literal["queued", "done", "failed", "skipped", "not run"]
STATUSES: tuple[ManifestStatus, ...] = ("done", "skipped", "failed", "not run", "queued")
#: Version of the manifest's layout.
MANIFEST_FORMAT = 1
JSON_NAME = "batch.json"
CSV_NAME = "batch.csv"
CSV_COLUMNS = (
    "name",
    "status",
    "version",
    "requested_version",
    "outputs",
    "recipe",
    "seconds",
    "frames",
    "error",
    "note",
    "where",
)


@dataclass(frozen=True)
class ShotRecord:
    """One shot in the manifest.

    Attributes:
        name: the shot's name.
        status: see the module docstring.
        version: the version it renders (or rendered) at.
        requested_version: the version the list asked for.
        where: where it stands in the list.
        outputs: the files written (the output first), as strings.
        recipe: the output's recipe.
        seconds: wall time of its render.
        frames: frames rendered (for a skipped shot: in its recipe).
        error: the one-line error of a failed shot.
        note: how its version was chosen (``v1 taken (...); rendered as v2``), or "".
    """

    name: str
    status: ManifestStatus
    version: int
    requested_version: int
    where: str = ""
    outputs: tuple[str, ...] = ()
    recipe: str | None = None
    seconds: float = 0.0
    frames: int = 0
    error: str | None = None
    note: str = ""

    def finished(self, result: ShotResult) -> ShotRecord:
        """This record with what rendering it gave (a backend's ``note`` added to its own)."""
        added = str(result.extra.get("note") or "")
        return ShotRecord(
            name=self.name,
            status=result.status,
            version=self.version,
            requested_version=self.requested_version,
            where=self.where,
            outputs=result.outputs,
            recipe=result.recipe,
            seconds=round(result.seconds, 3),
            frames=result.frames,
            error=result.error,
            note="; ".join(n for n in (self.note, added) if n),
        )


@dataclass(frozen=True)
class Manifest:
    """The whole manifest.

    Attributes:
        command: the command that ran the batch.
        settings: the batch's settings (list, output folder, backend, workers, flags).
        shots: one record per shot, in the list's order.
        started: when the batch started (ISO 8601).
        updated: when this manifest was written (ISO 8601).
    """

    command: str
    settings: Mapping[str, Any]
    shots: tuple[ShotRecord, ...]
    started: str = ""
    updated: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def totals(records: Sequence[ShotRecord]) -> dict[str, Any]:
    """Shots per status, all shots, frames rendered and render seconds summed."""
    counts: dict[str, Any] = {"shots": len(records)}
    for status in STATUSES:
        counts[status] = sum(r.status == status for r in records)
    counts["frames"] = sum(r.frames for r in records if r.status == "done")
    counts["seconds"] = round(sum(r.seconds for r in records), 3)
    return counts


def _header(manifest: Manifest) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "stillcam_version": __version__,
        "command": manifest.command,
        "settings": dict(manifest.settings),
        "started": manifest.started,
        "updated": manifest.updated,
        "totals": totals(manifest.shots),
    }


def manifest_json_reference(manifest: Manifest) -> str:
    """:func:`manifest_json` the slow, obviously right way: the whole manifest through one
    ``json.dumps`` (tests compare the two)."""
    data = {**_header(manifest), "shots": [asdict(r) for r in manifest.shots], **dict(manifest.extra)}
    return json.dumps(data, indent=2) + "\n"


#: Records serialised once (a record is frozen; the manifest is rewritten after every shot,
#: and serialising every record each time made a batch of 10 000 shots spend ~0.9 s a shot).
_CACHED_RECORDS = 1 << 16


@lru_cache(maxsize=_CACHED_RECORDS)
def _record_json(record: ShotRecord) -> str:
    """``record`` as it stands in ``batch.json``'s ``shots`` list (indented 4)."""
    return "    " + json.dumps(asdict(record), indent=2).replace("\n", "\n    ")


@lru_cache(maxsize=_CACHED_RECORDS)
def _record_row(record: ShotRecord) -> str:
    out = io.StringIO(newline="")
    row = asdict(record)
    row["outputs"] = ";".join(record.outputs)
    csv.writer(out, lineterminator="\n").writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


def manifest_json(manifest: Manifest) -> str:
    """The manifest as ``batch.json`` holds it (the bytes of :func:`manifest_json_reference`;
    each record serialised once and kept)."""
    head = json.dumps(_header(manifest), indent=2)[:-2]  # without its closing "\n}"
    shots = "[]" if not manifest.shots else "[\n" + ",\n".join(map(_record_json, manifest.shots)) + "\n  ]"
    tail = json.dumps(dict(manifest.extra), indent=2)[1:-1] if manifest.extra else "\n"
    return f'{head},\n  "shots": {shots}' + ("," + tail if manifest.extra else tail) + "}\n"


def manifest_csv(manifest: Manifest) -> str:
    """The shots of the manifest as ``batch.csv`` holds them (outputs joined with ``;``)."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
    return out.getvalue() + "".join(map(_record_row, manifest.shots))


def remove_stale(folder: Path) -> None:
    """Remove what a killed batch left of its manifest in ``folder`` (partials of a process
    that is gone, each with a warning)."""
    for name in (JSON_NAME, CSV_NAME):
        remove_stale_partials(folder / name)


def write_manifest(folder: Path | storage.Remote, manifest: Manifest) -> None:
    """Write ``folder/batch.json`` and ``folder/batch.csv`` (here or on storage), each atomically."""
    for name, text in ((JSON_NAME, manifest_json(manifest)), (CSV_NAME, manifest_csv(manifest))):
        if isinstance(folder, storage.Remote):
            storage.write_bytes(folder.child(name), text.encode("utf-8"), "the batch manifest")
        else:
            write_text_atomic(folder / name, text, "the batch manifest")


def read_manifest(folder: Path | storage.Remote) -> dict[str, Any]:
    """``folder/batch.json`` parsed, here or on storage (for tools and tests; the batch itself
    never reads it)."""
    if isinstance(folder, storage.Remote):
        data = storage.read_bytes(folder.child(JSON_NAME), max_bytes=1 << 30, what="manifest")
        return json.loads(data.decode("utf-8"))
    return json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
