"""Versions of the web app's session, and their frames for the A/B compare (no HTTP here).

**The session** is the server's data folder: every render in it that finished ``done`` is a
version, numbered in the order they finished (:mod:`.jobs` gives the numbers; they survive a
restart). A version's record (:func:`version_records`) has its number, job id, dates, the
options the client gave, its output's frames, size and fps, its note, which version it
approves (if it is an approval) and which approvals of it exist, and the changes from the
version before it: :func:`stillcam.review.diff.diff_recipes` of the two recipes, each change
also as the line ``stillcam diff`` prints (``orbit.degrees 8 deg -> 12 deg``). The version
before is the next lower number still kept; a recipe that cannot be read gives an ``error``
and no changes (the next version is compared with the last readable one).

**Approve** (:func:`approval_options`) is "the full-quality render" of a version: its options
with ``supersample`` 2 (the version's own when higher) and, when the request gives one,
another ``size``; nothing else changes, so the approval's changes from the version are exactly
``render.supersample 1x -> 2x`` (and the size).

**Frames** (:class:`FrameCache`): frame N of a version's video, decoded with PyAV from the job's
output file (frames counted from the first as the decoder returns them, 0-based, converted to
8-bit RGB by ``to_ndarray(format="rgb24")``), as a PNG: the same pixels as decoding the file
yourself. Decoding runs from the file's start to frame N; frame N and the 48 frames before it
are kept as PNGs in a least-recently-used cache of at most ``max_bytes`` (64 MiB by default),
so scrubbing back over them is answered from memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import RecipeError, RequestError
from ..output.recipe import Recipe, read_recipe
from ..review.diff import diff_recipes, format_change
from .jobs import Job

#: Supersampling of an approved (full-quality) render, at least.
APPROVE_SUPERSAMPLE = 2
#: Bytes of PNG frames kept for the A/B compare.
FRAME_CACHE_BYTES = 64 * 2**20
#: Frames before the one asked for that a decode keeps too (as PNGs).
PASSED_FRAMES = 48


def recipe_name(job: Job) -> str | None:
    """The name of a job's recipe among its files (``shot.recipe.json``), or None."""
    if job.output:
        name = Path(job.output).stem + ".recipe.json"
        if name in job.files:
            return name
    return next((n for n in job.files if n.endswith(".recipe.json")), None)


def output_name(job: Job) -> str | None:
    """The name of a job's rendered video among its files, or None."""
    if job.output in job.files:
        return job.output
    return next((n for n in job.files if not n.endswith((".json", ".glb"))), None)


def summary(options: dict[str, Any]) -> str:
    """The options a client gave, as ``name=value`` in their order (``move=orbit(degrees=8)
    duration=0.5 size=160x90``); "defaults" for none."""
    parts = []
    for name, value in options.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        parts.append(f"{name}={value}")
    return " ".join(parts) or "defaults"


class RecipeCache:
    """Parsed recipes by job id (a done job's folder never changes) and the changes between
    two, at most ``size`` of each kept."""

    def __init__(self, folder_of: Callable[[str], Path], size: int = 256) -> None:
        self._folder_of, self._size = folder_of, size
        self._recipes: OrderedDict[str, Recipe | str] = OrderedDict()
        self._changes: OrderedDict[tuple[str, str], tuple[list[dict], str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job: Job) -> Recipe | str:
        """The job's recipe, or the reason it cannot be read (a sentence)."""
        with self._lock:
            if job.id in self._recipes:
                self._recipes.move_to_end(job.id)
                return self._recipes[job.id]
        name = recipe_name(job)
        result: Recipe | str
        if name is None:
            result = "the render has no recipe"
        else:
            try:
                result = read_recipe(self._folder_of(job.id) / name)
            except RecipeError:
                result = f"{name} cannot be read"
        with self._lock:
            self._recipes[job.id] = result
            while len(self._recipes) > self._size:
                self._recipes.popitem(last=False)
        return result

    def changes(self, old: Job, new: Job) -> tuple[list[dict], str]:
        """The changes from ``old``'s recipe to ``new``'s (``path``, ``old``, ``new``, ``unit``
        and the ``line``), cached, and "" or why they cannot be compared."""
        key = (old.id, new.id)
        with self._lock:
            if key in self._changes:
                self._changes.move_to_end(key)
                return self._changes[key]
        a, b = self.get(old), self.get(new)
        if isinstance(a, str) or isinstance(b, str):
            return [], a if isinstance(a, str) else str(b)
        try:
            found = diff_recipes(a, b, names=(f"v{old.version}", f"v{new.version}"))
            result: tuple[list[dict], str] = ([{**c.to_dict(), "line": format_change(c)} for c in found], "")
        except RecipeError as exc:
            result = ([], str(exc))
        with self._lock:
            self._changes[key] = result
            while len(self._changes) > self._size:
                self._changes.popitem(last=False)
        return result


def version_records(versions: Sequence[Job], pending: Sequence[Job], recipes: RecipeCache) -> list[dict]:
    """The records of ``versions`` (done jobs, by number; module docstring); ``pending`` are the
    queued and running jobs (approvals not yet done are listed under the version they approve).
    An approval's ``approved_changes`` are its changes from the version it approves (None for
    other versions, and when that version is gone)."""
    approvals: dict[int, list[dict]] = {}
    for job in [*versions, *pending]:
        if job.approves is not None:
            approvals.setdefault(job.approves, []).append(
                {"job": job.id, "state": job.state, "version": job.version}
            )
    by_number = {job.version: job for job in versions}
    records = []
    before: Job | None = None
    for job in versions:
        recipe = recipes.get(job)
        error, changes, previous = "", [], before.version if before is not None else None
        output: dict[str, Any] = {}
        if isinstance(recipe, str):
            error = recipe
        else:
            output = recipe.output
            if before is not None:
                changes, error = recipes.changes(before, job)
            before = job
        approved_changes = None
        approved = by_number.get(job.approves) if job.approves is not None else None
        if approved is not None and not isinstance(recipe, str):
            approved_changes, _ = recipes.changes(approved, job)
        options = job.request.get("options", {})
        records.append(
            {
                "version": job.version,
                "job": job.id,
                "created": job.created,
                "finished": job.finished,
                "options": options,
                "summary": summary(options),
                "command": job.command,
                "output": output_name(job),
                "frames": output.get("frames"),
                "first_frame": output.get("first_frame"),
                "width": output.get("width"),
                "height": output.get("height"),
                "fps": output.get("fps"),
                "note": job.note,
                "approves": job.approves,
                "approved_changes": approved_changes,
                "approvals": approvals.get(job.version or 0, []),
                "previous": previous,
                "changes": changes,
                "error": error,
            }
        )
    return records


def approval_options(options: dict[str, Any], size: str | None) -> dict[str, Any]:
    """The flat options of the full-quality render of a version given ``options``: the same,
    with ``supersample`` at least :data:`APPROVE_SUPERSAMPLE` and ``size`` when given."""
    approved = dict(options)
    current = approved.get("supersample", 1)
    approved["supersample"] = max(APPROVE_SUPERSAMPLE, current if isinstance(current, int) else 1)
    if size is not None:
        approved["size"] = size
    return approved


def png_bytes(pixels) -> bytes:
    """(h, w, 3) uint8 RGB pixels as a PNG (lossless; fast compression)."""
    import cv2

    ok, data = cv2.imencode(".png", pixels[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 image
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()


class FrameCache:
    """Frames of videos as PNGs, decoded on demand (module docstring), at most ``max_bytes`` kept."""

    def __init__(self, max_bytes: int = FRAME_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._frames: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # one decode at a time; cache reads wait for it

    def _keep(self, key: tuple[str, int], data: bytes) -> None:
        if key in self._frames:
            return
        self._frames[key] = data
        self._bytes += len(data)
        while self._bytes > self.max_bytes and len(self._frames) > 1:
            _, old = self._frames.popitem(last=False)
            self._bytes -= len(old)

    def frame(self, key: str, video: Path, index: int) -> bytes:
        """Frame ``index`` (0-based) of ``video`` as a PNG; ``key`` names the video in the cache.

        Raises:
            RequestError: 422 when the video has no frame ``index`` (its count given).
        """
        import av

        with self._lock:
            cached = self._frames.get((key, index))
            if cached is not None:
                self._frames.move_to_end((key, index))
                return cached
            count = 0
            with av.open(str(video)) as container:
                for n, decoded in enumerate(container.decode(video=0)):
                    count = n + 1
                    # The frames just before the one asked for are kept too (a scrub back).
                    if n == index or (index - n <= PASSED_FRAMES and (key, n) not in self._frames):
                        data = png_bytes(decoded.to_ndarray(format="rgb24"))
                        self._keep((key, n), data)
                        if n == index:
                            return data
            raise RequestError(f"index: the version has {count} frames; give 0..{count - 1}", 422)

    def forget(self, keep: set[str]) -> None:
        """Drop the frames of videos not in ``keep`` (their jobs were deleted)."""
        with self._lock:
            for k in [k for k in self._frames if k[0] not in keep]:
                self._bytes -= len(self._frames.pop(k))
