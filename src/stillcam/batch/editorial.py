"""Editorial in and out: an OpenTimelineIO cut of stills as a shot list, and the rendered
clips back as a timeline an editor relinks (issue #16; extra ``editorial``).

**In** (:func:`shots_from_timeline`): the clips of the timeline's first video track, in
order, each one shot row in the form the shot-list parser takes for one shot
(:mod:`stillcam.batch.shotlist`):

* ``name``: the clip's name made safe for file names (letters, digits, ``_`` and ``-``; any
  other run of characters becomes one ``_``) and unique in the cut (``SH010``, ``SH010_2``:
  the same still is often cut in twice; case-insensitively, for case-insensitive file
  systems); a clip without a name is ``clip003`` after its place in the track.
* ``photo``: the clip's media: an ``ExternalReference``'s ``target_url``, or the frame of an
  ``ImageSequenceReference`` the clip starts on; a ``file://`` URL or a path (percent-encoded
  or not), relative ones taken from the timeline's folder (a ``.otiod`` bundle's own folder).
* ``frames`` and ``fps``: the clip's duration, counted in its own rate (a 25 fps clip in a
  24 fps cut stays a 25 fps shot); 23.976 and the other NTSC rates become exact ``N/1001``.
* anything under the clip's ``metadata["stillcam"]``: per-clip overrides, with the shot
  list's field names (``move``, ``set``, ``depth``, ``shot_file``, ``size``, ...; ``set`` may
  be a mapping ``{degrees: 8}``) or any render option's name (those go to ``options``).
  ``name``, ``photo``, ``duration``, ``frames`` and ``fps`` come from the cut and cannot be
  overridden there.

Gaps are no shots (nothing is rendered for them); transitions are ignored (each clip renders
its own duration: the editor re-applies the dissolve on the relinked clips); disabled clips
are skipped; further video tracks and audio tracks are not read. A clip without media, with a
media reference that is not a local still (a generator, ``http://``), whose still does not
exist, or a nested stack in the track, is an error naming the clip; every such error of the
cut is reported at once, one line each (:class:`TimelineError`).

Formats: the adapters that ship with the core ``opentimelineio`` package only, chosen by the
suffix (never by plugin lookup): ``.otio`` (JSON), ``.otiod`` (a folder bundle) and
``.otioz`` (a zip bundle; the stills it holds are extracted once, by the bundle's hash, under
``media_dir`` or stillcam's cache folder).

**Out** (:func:`timeline_of_results`): one video track with a clip per shot of the batch, in
the shot list's order, with its name and duration; its media reference is the rendered
output (an ``ExternalReference`` to the video, an ``ImageSequenceReference`` for
``.####.png`` / ``.exr`` frames, with the rate and first frame); a failed or unrendered shot
is a gap of its duration, its name and error in the gap's metadata. Written atomically as
``renders/batch.otio`` (:data:`TIMELINE_NAME`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from ..camera.path import frame_count
from ..depth.estimate import cache_dir
from ..errors import ImageError, InputError, OutputError, StillcamError, missing_extra
from ..io.files import make_partial, publish, write_text_atomic
from ..io.structured import MiB, read_bytes_bounded
from ..options import SECTIONS
from ..output.targets import parse_output
from . import storage
from .jobs import ShotJob, staged

#: The timeline of a batch's renders, in its output folder.
TIMELINE_NAME = "batch.otio"
#: Suffixes read, each by the core adapter of that name (no plugin lookup).
ADAPTERS = {".otio": "otio_json", ".otiod": "otiod", ".otioz": "otioz"}
#: Largest ``.otio`` (or bundle ``content.otio``) read: an edit of thousands of clips is a few MB.
MAX_TIMELINE_BYTES = 64 * MiB
#: Largest still extracted from a ``.otioz``.
MAX_BUNDLED_STILL_BYTES = 1 << 30
#: Longest shot name made from a clip name (before a ``_2`` to make it unique).
MAX_NAME = 80
#: The shot-list fields a clip's ``metadata["stillcam"]`` may set.
OVERRIDE_FIELDS = (
    "seq",
    "depth",
    "depth_model",
    "move",
    "set",
    "params",
    "shot_file",
    "size",
    "codec",
    "output",
    "exports",
    "version",
    "options",
)
#: Option fields that are paths (relative to the timeline's folder in clip metadata).
PATH_OPTIONS = ("camera_file", "model_dir", "fill_model_dir")
#: Row fields the cut itself sets.
CUT_FIELDS = ("name", "photo", "duration", "frames", "fps")

_RENDERED = ("done", "skipped")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class TimelineError(InputError):
    """A timeline that cannot be a shot list; ``problems`` holds one line per bad clip (the
    message is those lines)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class Outcome(Protocol):
    """What came of a shot: a :class:`~stillcam.batch.jobs.ShotResult`, or the manifest's
    :class:`~stillcam.batch.manifest.ShotRecord` (``queued`` and ``not run`` count as not rendered)."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def frames(self) -> int: ...
    @property
    def error(self) -> str | None: ...


def editorial_available() -> bool:
    """Whether opentimelineio is installed (extra ``editorial``): the driver writes
    ``batch.otio`` only then, unless its shot list was a timeline."""
    return importlib.util.find_spec("opentimelineio") is not None


def _otio() -> Any:
    """The ``opentimelineio`` module, or the install hint of extra ``editorial``."""
    try:
        import opentimelineio
    except ImportError:
        raise missing_extra("opentimelineio", "editorial") from None
    return opentimelineio


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Source:
    """A timeline file: where its relative URLs start and how its stills are reached."""

    path: Path
    base: Path
    bundle: zipfile.ZipFile | None = None
    media_dir: Path | None = None


def _read_timeline(path: Path, media_dir: Path | None) -> tuple[Any, _Source]:
    """The timeline of ``path`` and where its media are; one-line errors naming the file."""
    otio = _otio()
    adapter = ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        raise InputError(
            f"{path}: not an OpenTimelineIO file; give a {', '.join(ADAPTERS)} timeline "
            "(convert others with otioconvert)"
        )
    source = _Source(path, path.parent)
    if adapter == "otiod":
        if not path.is_dir():
            raise InputError(f"{path}: no such .otiod bundle (a folder with content.otio and media/)")
        data = read_bytes_bounded(path / "content.otio", what="timeline", max_bytes=MAX_TIMELINE_BYTES)
        source = _Source(path, path)
    elif adapter == "otioz":
        if not path.is_file():
            raise InputError(
                f"{path}: no such timeline bundle" if not path.exists() else f"{path}: not a file"
            )
        try:
            bundle = zipfile.ZipFile(path)
            info = bundle.getinfo("content.otio")
            if info.file_size > MAX_TIMELINE_BYTES:
                raise InputError(f"{path}: its content.otio is larger than a timeline may be (64 MiB)")
            data = bundle.read(info)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise InputError(f"{path}: not an .otioz bundle ({exc})") from None
        digest = hashlib.sha256()
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        media = (media_dir or cache_dir() / "otioz") / digest.hexdigest()[:16]
        source = _Source(path, path.parent, bundle, media)
    else:
        data = read_bytes_bounded(path, what="timeline", max_bytes=MAX_TIMELINE_BYTES)
    try:
        timeline = otio.adapters.read_from_string(data.decode("utf-8"), "otio_json")
    except (UnicodeDecodeError, ValueError, otio.exceptions.OTIOError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a readable OpenTimelineIO timeline ({problem})") from None
    if not isinstance(timeline, otio.schema.Timeline):
        raise InputError(f"{path}: holds a {type(timeline).__name__}, not a Timeline")
    return timeline, source


def _url_path(url: str, base: Path) -> Path | None:
    """The local file a media URL names (``file://`` or a path, relative to ``base``); None
    for other schemes."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        return Path(urllib.request.url2pathname(urllib.parse.unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:  # http, s3 ... (one letter: a drive, C:/)
        return None
    raw = base / url  # an absolute url stays itself
    if raw.exists():
        return raw
    return base / urllib.parse.unquote(url)  # OTIO percent-encodes paths; some tools do not


def _bundled(source: _Source, url: str) -> Path:
    """A still inside a ``.otioz``, extracted (once, under the bundle's hash) to a file."""
    assert source.bundle is not None and source.media_dir is not None
    member = PurePosixPath(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    if member.is_absolute() or ".." in member.parts:
        raise InputError(f"media {url!r} is not a file inside the bundle")
    try:
        info = source.bundle.getinfo(str(member))
    except KeyError:
        raise ImageError(f"still {member} is not in the bundle") from None
    if info.file_size > MAX_BUNDLED_STILL_BYTES:
        raise ImageError(f"still {member} is {info.file_size:,} bytes, more than a still may be (1 GiB)")
    final = source.media_dir / member
    if final.is_file() and final.stat().st_size == info.file_size:
        return final
    folder: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        folder = make_partial(final)
        with source.bundle.open(info) as data, open(folder / final.name, "wb") as out:
            shutil.copyfileobj(data, out, 1 << 20)
        publish(folder / final.name, final)
    except (OSError, zipfile.BadZipFile) as exc:
        problem = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot extract still {member} from the bundle to {final} ({problem})") from None
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return final


def _still(clip: Any, source: _Source, otio: Any) -> Path:
    """The still a clip shows; InputError/ImageError (without the clip's label) otherwise."""
    ref = clip.media_reference
    if ref is None or isinstance(ref, otio.schema.MissingReference):
        raise InputError("has no media reference; link it to its still")
    if isinstance(ref, otio.schema.ImageSequenceReference):
        first = ref.start_frame
        if clip.source_range is not None and ref.available_range is not None:
            try:
                first = ref.frame_for_time(clip.source_range.start_time)
            except (otio.exceptions.OTIOError, ValueError):
                first = ref.start_frame
        url = ref.target_url_for_image_number(max(0, (first - ref.start_frame) // max(1, ref.frame_step)))
    elif isinstance(ref, otio.schema.ExternalReference):
        url = ref.target_url
    else:
        raise InputError(f"its media is a {type(ref).__name__}, not a still; link it to a photo")
    if not url:
        raise InputError("its media reference has no target_url; link it to its still")
    if source.bundle is not None and not urllib.parse.urlparse(url).scheme:
        return _bundled(source, url)
    path = _url_path(url, source.base)
    if path is None:
        raise InputError(f"media {url!r} is not a local file; stillcam reads stills from files")
    if not path.is_file():
        raise ImageError(
            f"still {path} does not exist" if not path.exists() else f"still {path} is not a file"
        )
    return path


def _fps_text(rate: float) -> str:
    """An OTIO rate (a float) as stillcam's exact fps text: ``24``, ``24000/1001`` (also for
    a rounded ``23.976``), ``12.5``."""
    whole = round(rate)
    if whole > 0 and abs(whole - rate) < 1e-6:
        return str(whole)
    ntsc = round(rate * 1.001)
    if ntsc > 0 and abs(ntsc / 1.001 - rate) < 1e-4 * ntsc:
        return f"{ntsc * 1000}/1001"
    value = Fraction(rate).limit_denominator(1_000_000)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def safe_name(text: str, fallback: str) -> str:
    """``text`` as a shot name: letters, digits, ``_`` and ``-`` (other runs become one
    ``_``), at most :data:`MAX_NAME` characters; ``fallback`` when nothing is left.

    >>> safe_name("SEQ010 / SH020 (alt)", "clip001")
    'SEQ010_SH020_alt'
    >>> safe_name("...", "clip001")
    'clip001'
    """
    name = _UNSAFE.sub("_", text).strip("_-")[:MAX_NAME].rstrip("_-")
    return name or fallback


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` ... the first not in ``taken`` (case-insensitively)."""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate.casefold())
    return candidate


def _plain(value: Any) -> Any:
    """OTIO metadata (AnyDictionary, AnyVector) as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [_plain(v) for v in value]
    return value


def _option_names() -> set[str]:
    """Every render option's field name (what a shot row's ``options`` takes)."""
    return {f.name for section in SECTIONS.values() for f in fields(section)}


def _absolute(value: Any, base: Path) -> Any:
    """A path from the clip's metadata, relative to the timeline's folder, made absolute."""
    return str(base / value) if isinstance(value, str) and value else value


def _overrides(clip: Any, base: Path) -> dict[str, Any]:
    """The row fields a clip's ``metadata["stillcam"]`` sets, its paths absolute from ``base``
    (InputError: a field that is none, or one the cut sets)."""
    given = _plain(clip.metadata.get("stillcam", {}))
    if not isinstance(given, dict):
        raise InputError(f'metadata["stillcam"] must be a mapping of shot fields, got {type(given).__name__}')
    options = given.pop("options", None) or {}
    if not isinstance(options, dict):
        raise InputError(f'metadata["stillcam"]["options"] must be a mapping, got {type(options).__name__}')
    row: dict[str, Any] = {}
    option_names = _option_names()
    for key, value in given.items():
        if key in CUT_FIELDS:
            raise InputError(
                f'metadata["stillcam"]["{key}"]: the cut sets the {key}; change the clip instead'
            )
        if key in ("set", "params") and isinstance(value, dict):
            value = [f"{k}={v}" for k, v in value.items()]
        if key in OVERRIDE_FIELDS:
            row[key] = _absolute(value, base) if key in ("depth", "shot_file") else value
        elif key in option_names:
            options[key] = value
        else:
            raise InputError(
                f'metadata["stillcam"]["{key}"] is no shot field or option; use one of '
                f"{', '.join(OVERRIDE_FIELDS)} or an option name"
            )
    for key in PATH_OPTIONS:
        if key in options:
            options[key] = _absolute(options[key], base)
    if options:
        row["options"] = options
    return row


def _clip_row(clip: Any, source: _Source, otio: Any, name: str) -> dict[str, Any]:
    """The shot row of one clip (InputError without the clip's label)."""
    photo = _still(clip, source, otio)
    try:
        duration = clip.duration()
    except otio.exceptions.OTIOError:
        raise InputError(
            "has no duration: give it a source_range (or its media an available_range)"
        ) from None
    frames = round(duration.value)
    if frames < 1 or duration.rate <= 0:
        raise InputError(f"lasts {duration.value:g} frames at {duration.rate:g} fps; a shot needs at least 1")
    row: dict[str, Any] = {
        "name": name,
        "photo": str(photo),
        "frames": frames,
        "fps": _fps_text(duration.rate),
    }
    row.update(_overrides(clip, source.base))
    return row


def read_timeline(
    path: str | Path, *, media_dir: Path | None = None
) -> tuple[tuple[tuple[str, dict[str, Any]], ...], tuple[str, ...]]:
    """The shots of the timeline at ``path`` as the shot-list reader gives them
    (:class:`~stillcam.batch.shotlist.RawList`'s ``shots`` and ``errors``): ``(where, row)`` of
    each clip, in order (``where`` is ``cut.otio clip 3``, with the clip's own name when its
    shot name differs: ``cut.otio clip 3 'SEQ010/SH020'``), and one line per bad clip
    (``cut.otio clip 2 (SH020): has no media reference; ...``). See :func:`shots_from_timeline`.

    Raises:
        InputError: the file as a whole: unreadable, not a timeline, no video track, no clips.
    """
    path = Path(path)
    timeline, source = _read_timeline(path, media_dir)
    otio = _otio()
    tracks = timeline.video_tracks()
    if not tracks:
        raise InputError(f"{path}: has no video track; put the stills' clips on a video track")
    rows: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    taken: set[str] = set()
    clips = 0
    try:
        for index, item in enumerate(tracks[0], start=1):
            if isinstance(item, (otio.schema.Gap, otio.schema.Transition)):
                continue
            where = f"{path} clip {index}"
            given = item.name or ""
            name = _unique(safe_name(given, f"clip{index:03d}"), taken)
            if given and given != name:
                where += f" {given!r}"
            clips += 1
            if not isinstance(item, otio.schema.Clip):
                problems.append(
                    f"{where} ({name}): a nested {type(item).__name__}, not a clip; flatten the track"
                )
                continue
            if not item.enabled:
                continue
            try:
                rows.append((where, _clip_row(item, source, otio, name)))
            except InputError as exc:
                problems.append(f"{where} ({name}): {exc}")
    finally:
        if source.bundle is not None:
            source.bundle.close()
    if not clips:
        raise InputError(f"{path}: its first video track has no clips")
    return tuple(rows), tuple(problems)


def shots_from_timeline(path: str | Path, *, media_dir: Path | None = None) -> list[dict[str, Any]]:
    """The shot rows of an OpenTimelineIO timeline (module docstring): one per clip of its
    first video track, in order, in the form the shot-list parser takes for one shot.

    Args:
        path: a ``.otio``, ``.otiod`` or ``.otioz`` timeline.
        media_dir: where the stills of a ``.otioz`` are extracted (default: stillcam's cache
            folder, which a cluster's tasks share); the same bundle always lands in the same
            place, under its hash.

    Raises:
        TimelineError: every bad clip, one line each, naming it.
        InputError: the file as a whole cannot be a shot list (unreadable, not a timeline, no
            video track, no clips).
        MissingExtraError: opentimelineio is not installed (extra ``editorial``).
    """
    return [row for _, row in timeline_rows(path, media_dir=media_dir)]


def timeline_rows(path: str | Path, *, media_dir: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(where, row)`` of each clip (:func:`read_timeline`), or every bad clip at once.

    Raises:
        TimelineError: the bad clips, one line each; and what :func:`read_timeline` raises.
    """
    rows, problems = read_timeline(path, media_dir=media_dir)
    if problems:
        raise TimelineError(problems)
    return list(rows)


# ----------------------------------------------------------------------------- writing


def _read_recipe_output(job: ShotJob) -> dict[str, Any]:
    """The ``output`` block of the job's recipe, or {} when there is none to read."""
    import json

    try:
        data = json.loads(read_bytes_bounded(job.recipe, what="recipe", max_bytes=16 * MiB))
        block = data["output"]
    except (InputError, ValueError, KeyError, TypeError):
        return {}
    return block if isinstance(block, dict) else {}


def _timing(job: ShotJob, result: Outcome | None) -> tuple[int, Fraction, int]:
    """(frames, fps, first frame) of a shot: its recipe's when it was rendered, else its options'."""
    shot = job.options.shot
    record = _read_recipe_output(job) if result is not None and result.status in _RENDERED else {}
    try:
        fps = Fraction(str(record["fps"]))
        return int(record["frames"]), fps, int(record.get("first_frame", shot.first_frame))
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        pass
    frames = result.frames if result is not None and result.frames > 0 else None
    if frames is None and shot.frame_span is not None:
        frames = shot.frame_span[1] - shot.frame_span[0] + 1
    first = shot.frame_span[0] if shot.frame_span is not None else shot.first_frame
    return frames or frame_count(shot.duration, shot.frame_rate), shot.frame_rate, first


def _url(path: Path, folder: Path) -> str:
    """``path`` as a media URL: relative to the timeline's folder when under it, else ``file://``."""
    absolute = Path(os.path.abspath(path))
    try:
        return urllib.parse.quote(absolute.relative_to(Path(os.path.abspath(folder))).as_posix())
    except ValueError:
        return absolute.as_uri()


def _reference(job: ShotJob, frames: int, fps: Fraction, first: int, folder: Path, otio: Any) -> Any:
    """The media reference of a rendered shot: its video, or its frame sequence."""
    rt, rate = otio.opentime, float(fps)
    target = parse_output(job.output)
    if target.kind == "sequence":
        pattern = target.frame_pattern  # shot_v001.{number:04d}.png
        base = _url(target.path.parent, folder)
        prefix, _, rest = pattern.partition("{number:")
        suffix = rest.partition("}")[2]
        return otio.schema.ImageSequenceReference(
            target_url_base="" if base == "." else base.rstrip("/") + "/",
            name_prefix=prefix.replace("{{", "{").replace("}}", "}"),
            name_suffix=suffix.replace("{{", "{").replace("}}", "}"),
            start_frame=first,
            frame_step=1,
            rate=rate,
            frame_zero_padding=target.padding,
            available_range=rt.TimeRange(rt.RationalTime(first, rate), rt.RationalTime(frames, rate)),
        )
    start = 0.0
    timecode = job.options.output.timecode
    if timecode:
        start = rt.from_timecode(timecode, rate).value
    return otio.schema.ExternalReference(
        target_url=_url(target.path, folder),
        available_range=rt.TimeRange(rt.RationalTime(start, rate), rt.RationalTime(frames, rate)),
    )


def timeline_of_results(
    jobs: Sequence[ShotJob],
    results: Iterable[Outcome] | Mapping[str, Outcome],
    path: str | Path,
    *,
    name: str | None = None,
) -> Path:
    """Write the timeline of a batch's renders to ``path`` (the driver's ``renders/batch.otio``).

    ``results``: what came of each job, by name (:class:`ShotResult` s as the backend reports
    them, or the final manifest's records); a job without one was not run.

    One video track, one item per job in ``jobs``' order: a clip named after the shot whose
    media reference is its output (a video, or an ``ImageSequenceReference`` with its rate
    and first frame), lasting the frames it has; a shot that failed or was never run is a
    gap of its planned duration, with ``metadata["stillcam"]`` naming it and its error.
    Media URLs are relative to ``path``'s folder when the outputs are under it, else
    ``file://`` URLs. Written atomically: a reader sees the old timeline or the new one.

    Returns:
        ``path``.

    Raises:
        OutputError: the file cannot be written.
        MissingExtraError: opentimelineio is not installed (extra ``editorial``).
    """
    otio = _otio()
    path = Path(path)
    by_name = dict(results) if isinstance(results, Mapping) else {r.name: r for r in results}
    track = otio.schema.Track(name="stillcam", kind=otio.schema.TrackKind.Video)
    for job in jobs:
        result = by_name.get(job.name)
        frames, fps, first = _timing(job, result)
        rate = float(fps)
        status = result.status if result is not None else "not run"
        info: dict[str, Any] = {"shot": job.name, "status": status, "version": job.version}
        info["photo"] = str(job.photo)
        if status in _RENDERED:
            ref = _reference(job, frames, fps, first, path.parent, otio)
            info["recipe"] = _url(job.recipe, path.parent)
            track.append(
                otio.schema.Clip(
                    name=job.name,
                    media_reference=ref,
                    source_range=ref.available_range,
                    metadata={"stillcam": info},
                )
            )
        else:
            if result is not None and result.error:
                info["error"] = result.error
            duration = otio.opentime.RationalTime(frames, rate)
            track.append(
                otio.schema.Gap(
                    name=job.name,
                    source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), duration),
                    metadata={"stillcam": info},
                )
            )
    timeline = otio.schema.Timeline(name=name or path.parent.name or "stillcam batch", tracks=[track])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{path.parent}: cannot make the folder of the timeline ({exc.strerror or exc})"
        ) from None
    write_text_atomic(path, otio.adapters.write_to_string(timeline, "otio_json"), "editorial timeline")
    return path


def write_batch_timeline(
    jobs: Sequence[ShotJob],
    results: Iterable[Outcome] | Mapping[str, Outcome],
    out_dir: Path | storage.Remote,
) -> str:
    """:func:`timeline_of_results` into ``out_dir/batch.otio``; returns where it is. On storage
    (``-o URL``) it is written in a local folder beside the rendered shots' recipes (fetched:
    they give each clip's timing), then uploaded (:func:`~.storage.write_bytes`); its media URLs
    are relative to ``out_dir``, as they are in a folder.

    Raises:
        OutputError: the file cannot be written.
        MissingExtraError: opentimelineio is not installed (extra ``editorial``).
    """
    if not isinstance(out_dir, storage.Remote):
        return str(timeline_of_results(jobs, results, out_dir / TIMELINE_NAME))
    by_name = dict(results) if isinstance(results, Mapping) else {r.name: r for r in results}
    target = out_dir.child(TIMELINE_NAME)
    with tempfile.TemporaryDirectory(prefix="stillcam-timeline-") as folder:
        base = Path(folder)
        local_jobs = [staged(job, base) for job in jobs]
        for job, local in zip(jobs, local_jobs, strict=True):
            result = by_name.get(job.name)
            if result is None or result.status not in _RENDERED or job.store is None:
                continue
            try:
                data = storage.read_bytes(job.remote(job.recipe), max_bytes=16 * MiB, what="recipe")
            except StillcamError:  # its timing then comes from the manifest and the options
                continue
            local.recipe.parent.mkdir(parents=True, exist_ok=True)
            local.recipe.write_bytes(data)
        path = timeline_of_results(local_jobs, by_name, base / TIMELINE_NAME, name=out_dir.name or None)
        storage.write_bytes(target, path.read_bytes(), "editorial timeline")
    return target.url


__all__ = [
    "ADAPTERS",
    "Outcome",
    "TIMELINE_NAME",
    "TimelineError",
    "editorial_available",
    "read_timeline",
    "safe_name",
    "shots_from_timeline",
    "timeline_of_results",
    "timeline_rows",
    "write_batch_timeline",
]
