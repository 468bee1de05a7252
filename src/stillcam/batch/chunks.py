"""Long shots in frame chunks: rendered by many workers into lossless intermediates, then
joined by one encode into the shot's output. Pure functions; no Ray here
(:mod:`stillcam.batch.ray_backend` schedules them).

* :func:`chunk_ranges` splits a shot's frame numbers into spans of at most ``size`` frames.
* :func:`render_chunk` renders frames ``first..last`` of a shot (``pipeline.render`` with
  ``--frames first-last``, so the scene is planned from the whole shot's cameras and each frame
  is the one a whole render draws) into raw ``.npy`` frames in the chunk's folder, at the
  output's bit depth: exactly the display pixels, uint8 or uint16, that the output's encoder
  would have been given, stored as they are (:class:`RawFrameSink`: a UHD frame writes in
  ~6 ms and reads in ~5 ms, against ~770 and ~220 ms as a PNG, for 25 MB instead of ~12 MB;
  the PNG made a chunk 4x slower per frame than a whole render, docs/benchmarks.md). The
  frames are written under temporary names and renamed (the sinks' partial folders), then a
  record of the chunk (``chunk.json``: the job's key, the span, the frame files, the backend
  that drew them); a retried chunk rewrites the same files.
* :func:`encode_chunks` replays those pixels, in frame order, through
  :func:`stillcam.pipeline.render_with`: the same sink, recipe, exports and all-or-nothing
  commit as ``stillcam render`` in one process.

**Bit-identical.** The encoder gets the same pixels in the same order with the same settings,
so a chunked shot decodes to the same frames as a whole render, and its files have the same
bytes wherever the single-process render is itself repeatable: PNG sequences (the same
``cv2.imwrite`` of the same pixels), h264 and h265 (fixed encoder threads; x265's thread
pools fixed), ProRes 422 HQ, DNxHR HQ and FFV1 (tested: PNG, h264 .mp4, FFV1 .mkv).

Chunkable outputs are those whose sink takes display pixels: every video codec but
ProRes 4444 (its alpha comes from the float frame) and PNG sequences, without ``--pass``;
``--stereo sbs``/``tb`` too (a chunk holds the packed frames; the encode hands each eye's half
to the pipeline's stereo renderer in turn), not ``--stereo separate`` (two outputs);
EXR sequences, ProRes 4444 and passes render as one task (:func:`unchunkable` says why), and
so do outputs on storage (``-o URL``: the chunk frames would go through the storage twice).
Inputs on storage are fetched into the cache of the process that renders or encodes a chunk.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .._version import __version__
from ..camera.camera import Camera
from ..camera.plan import plan_timing, shot_plan
from ..camera.shot import Shot
from ..camera.stereo import StereoLayout, packed_size
from ..errors import InputError, OutputError, StillcamError
from ..io.files import write_text_atomic
from ..io.hashing import sha256_file
from ..options import RenderOptions
from ..output.codecs import video_codec
from ..output.targets import OutputTarget, parse_output
from ..output.writers import SequenceSink
from ..pipeline import Destination, camera_plan, destination, render, render_with
from ..render.frame import Frame
from ..render.stereo import unpack
from ..scene.mesh import Scene
from .jobs import ShotJob, ShotResult, local_inputs, localized, signing, with_local_shot_file

#: Frames per chunk unless told otherwise (about 2 s at 24 fps).
CHUNK_FRAMES = 48
#: The chunk's frames in its folder (nine digits: every frame number a shot can have).
FRAMES = "frame.#########.png"
#: The suffix of a chunk's raw frames (:class:`RawFrameSink`).
RAW_SUFFIX = ".npy"
#: The record written once a chunk's frames are all in place.
RECORD = "chunk.json"


@dataclass(frozen=True)
class ChunkResult:
    """What rendering one chunk gave (small: this is what a worker sends back).

    Attributes:
        name: the shot's name.
        first, last: the chunk's first and last frame numbers.
        folder: where its frames are.
        frames: frames in the folder (0 when it failed).
        renderer: the backend that drew them (``auto`` resolved), None when it failed.
        seconds: wall time of the chunk's render.
        reused: the folder already held this chunk of this job (nothing rendered).
        error: the one-line error of a failed chunk.
    """

    name: str
    first: int
    last: int
    folder: str
    frames: int = 0
    renderer: str | None = None
    seconds: float = 0.0
    reused: bool = False
    error: str | None = None


def chunk_ranges(first: int, count: int, size: int) -> list[tuple[int, int]]:
    """``count`` frames numbered from ``first`` as (first, last) spans of at most ``size``.

    >>> chunk_ranges(1001, 30, 8)
    [(1001, 1008), (1009, 1016), (1017, 1024), (1025, 1030)]
    """
    if count < 1 or size < 1:
        raise ValueError(f"chunk_ranges: count {count} and size {size} must be at least 1")
    end = first + count
    return [(start, min(start + size, end) - 1) for start in range(first, end, size)]


def check_shot(job: ShotJob, *, overwrite: bool) -> tuple[int, int]:
    """Every check of ``job`` that needs no photo (its outputs: ``pipeline.destination``; its
    shot and output options at the shot's fps: ``pipeline.camera_plan``), then the (first
    frame number, frame count) it renders: its ``--frames`` span, or the whole shot.

    Outputs on storage (``job.store``) are checked by name only; a shot file on storage is
    fetched to be read.

    Raises:
        StillcamError: what ``stillcam render`` would refuse before reading the photo.
    """
    job = with_local_shot_file(job)
    if job.store is not None:
        dest = Destination(parse_output(job.output), job.exports, overwrite)
    else:
        read = local_inputs(job)
        dest = destination(job.output, job.options, overwrite=overwrite, exports=job.exports, inputs=read)
    plan = camera_plan(job.options, dest)
    span = job.options.shot.frame_span
    if span is not None:
        return span[0], span[1] - span[0] + 1
    timing = plan_timing(plan, job.options.shot)
    return timing.first_frame, timing.frames


def _keyed_fstop(job: ShotJob) -> bool:
    """Whether the shot file's keyframes set an f-stop (depth of field without ``--fstop``)."""
    if job.options.shot.camera_file is None:
        return False
    plan = shot_plan(job.options.shot)
    return isinstance(plan, Shot) and any(key.fstop is not None for key in plan.keyframes)


def unchunkable(job: ShotJob) -> str | None:
    """Why ``job``'s output cannot be joined from chunks of display pixels, or None when it can."""
    if job.store is not None:
        return "its outputs are on storage (-o URL)"
    settings = job.options.output
    if settings.passes:
        return "--pass writes float passes beside the output"
    render = job.options.render
    lens = [
        name
        for name, on in (
            ("--fstop", render.depth_of_field or _keyed_fstop(job)),
            ("--shutter", render.motion_blur),
            ("--distortion", render.lens_distortion),
            ("--vignette", bool(render.vignette)),
        )
        if on
    ]
    if lens:  # the encode's replayed frames would go through the lens again
        return f"{' and '.join(lens)} work on the float frame and the whole shot"
    if render.stereo == "separate":  # (sbs and tb chunks hold the packed frames)
        return "--stereo separate writes two outputs, one per eye"
    target = parse_output(job.output)
    if target.kind == "video":
        try:
            codec = video_codec(settings.codec, target.path.suffix)
        except InputError as exc:
            return str(exc)
        return f"--codec {codec.name} takes alpha from the float frame" if codec.alpha else None
    if target.path.suffix.lower() != ".png":
        return "EXR frames are written from the float frame"
    return None


def _file_digest(path: Path | str | None) -> str | None:
    return None if path is None else sha256_file(Path(path))


def job_key(job: ShotJob) -> str:
    """What a chunk's frames depend on: stillcam's version, the photo's, depth file's and
    camera file's contents, every option and the output's name (hex, 32 characters).

    Raises:
        InputError: an input that cannot be read.
    """
    try:
        parts: list[Any] = [
            __version__,
            _file_digest(job.photo),
            _file_digest(job.depth),
            _file_digest(job.options.shot.camera_file),
            job.options.to_dict(),
            parse_output(job.output).path.name,
        ]
    except OSError as exc:
        raise InputError(f"{job.where or job.name}: cannot read {exc.filename} ({exc.strerror})") from None
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def chunk_root(job: ShotJob, scratch: Path) -> Path:
    """The folder under ``scratch`` that holds ``job``'s chunk folders (named after the shot and
    its output, so each version of a shot has its own)."""
    digest = hashlib.sha256(str(Path(job.output).resolve()).encode()).hexdigest()[:12]
    return scratch / f"{job.name}.{digest}"


def chunk_folder(job: ShotJob, scratch: Path, first: int, last: int) -> Path:
    """The folder of chunk ``first..last`` of ``job``."""
    return chunk_root(job, scratch) / f"{first:09d}-{last:09d}"


def chunk_options(options: RenderOptions, first: int, last: int) -> RenderOptions:
    """The options of a chunk's render: frames ``first..last``, no passes, no burn-ins (they
    are burned in when the chunks are encoded, with the output's own name)."""
    return replace(
        options,
        shot=replace(options.shot, frames=f"{first}-{last}"),
        output=replace(options.output, passes=(), burn_in=False, guides=""),
    )


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _complete(record: dict[str, Any] | None, folder: Path, key: str, first: int, last: int) -> bool:
    """Whether ``folder``'s record says it holds frames ``first..last`` of the job ``key``, all present."""
    if record is None or (record.get("key"), record.get("first"), record.get("last")) != (key, first, last):
        return False
    files = record.get("files")
    return (
        isinstance(files, list)
        and len(files) == last - first + 1
        and all((folder / str(name)).is_file() for name in files)
    )


class RawFrameSink(SequenceSink):
    """A PNG sequence sink's partial folder, names and all-or-nothing publishing, with each
    frame's display pixels (``(H, W, 3)`` RGB, uint8 or uint16) stored as ``.npy`` under the
    frame's name (``frame.000001001.npy`` for ``frame.#########.png``)."""

    def write(self, item: Any) -> None:
        name = self._target.frame_path(self._numbers[self._index]).with_suffix(RAW_SUFFIX).name
        self._index += 1
        try:
            np.save(self._tmp / name, np.ascontiguousarray(item), allow_pickle=False)
        except OSError as exc:
            raise OutputError(
                f"{self._tmp / name}: chunk frame could not be written ({exc.strerror or exc})"
            ) from None

    def finish(self) -> list[tuple[Path, Path]]:
        finals = [
            self._target.frame_path(number).with_suffix(RAW_SUFFIX) for number in self._numbers[: self._index]
        ]
        return [(self._tmp / final.name, final) for final in finals]


def render_chunk(
    job: ShotJob, first: int, last: int, folder: str | Path, *, reuse: bool = False
) -> ChunkResult:
    """Render frames ``first..last`` of ``job`` into ``folder`` as raw frames of display
    pixels (module docstring); with ``reuse``, a folder that already holds this chunk of this
    job (its record, every frame) is kept as it is.

    Every stillcam error becomes a failed :class:`ChunkResult` with its one-line message.
    """
    start = time.perf_counter()
    folder = Path(folder)
    try:
        job = localized(job)
        key = job_key(job)
        if reuse and _complete(record := _read_record(folder), folder, key, first, last):
            assert record is not None
            renderer = str(record.get("renderer"))
            return ChunkResult(job.name, first, last, str(folder), last - first + 1, renderer, reused=True)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot make the chunk folder ({exc.strerror or exc})") from None
        (folder / RECORD).unlink(missing_ok=True)
        options = chunk_options(job.options, first, last)
        recipe = render(
            job.photo, job.depth, folder / FRAMES, options, overwrite=True, quiet=True, sink_opener=_raw_sink
        )
        target = parse_output(folder / FRAMES)
        files = [target.frame_path(number).with_suffix(RAW_SUFFIX).name for number in range(first, last + 1)]
        renderer = str(recipe.options["render"]["renderer"])
        record = {"key": key, "first": first, "last": last, "files": files, "renderer": renderer}
        write_text_atomic(folder / RECORD, json.dumps(record, indent=1) + "\n", "chunk record")
    except StillcamError as exc:
        seconds = time.perf_counter() - start
        return ChunkResult(job.name, first, last, str(folder), seconds=seconds, error=str(exc))
    return ChunkResult(
        job.name, first, last, str(folder), len(files), renderer, seconds=time.perf_counter() - start
    )


def _raw_sink(
    target: OutputTarget,
    width: int,
    height: int,
    fps: Any,
    first_frame: int,
    count: int,
    settings: Any,
    *,
    overwrite: bool,
) -> RawFrameSink:
    """Opens a chunk's :class:`RawFrameSink` (``pipeline.render``'s ``sink_opener``)."""
    return RawFrameSink(target, first_frame, count, settings, overwrite=overwrite)


class ReplayRenderer:
    """A :class:`~stillcam.render.frame.DisplayRenderer` that draws nothing: each call hands
    over the next of ``files`` (raw ``.npy`` frames of display pixels, in frame order; or PNG
    frames, as chunks of an earlier stillcam stored them) as it was stored."""

    def __init__(self, files: Sequence[Path], stereo: StereoLayout | None = None) -> None:
        self.files = list(files)
        self.index = 0
        # --stereo sbs|tb: the pipeline's StereoRenderer asks for each eye in turn (left, right)
        self.layout = stereo if stereo in ("sbs", "tb") else None
        self._eyes: list[np.ndarray] = []

    def render(self, scene: Scene, camera: Camera) -> Frame:
        raise OutputError("chunked frames hold display pixels only; this output needs float frames")

    def render_display(
        self,
        scene: Scene,
        camera: Camera,
        fill: bool,
        matte: np.ndarray,
        scale: np.float32,
        out: np.ndarray,
    ) -> bool:
        """Copy the next stored frame into ``out`` (which must have its size and type); with
        ``stereo`` ``sbs``/``tb``, each stored packed frame's left eye, then its right eye."""
        if self.layout is not None:
            if not self._eyes:
                width, height = packed_size(out.shape[1], out.shape[0], self.layout)
                packed = np.empty((height, width, *out.shape[2:]), out.dtype)
                self._copy_next(packed)
                self._eyes = list(unpack(packed, self.layout))
            out[...] = self._eyes.pop(0)
            return True
        return self._copy_next(out)

    def _copy_next(self, out: np.ndarray) -> bool:
        if self.index >= len(self.files):
            raise OutputError(f"the chunks hold {len(self.files)} frames; the shot has more")
        file = self.files[self.index]
        if file.suffix == RAW_SUFFIX:
            try:
                image = np.load(file, allow_pickle=False)
            except (OSError, ValueError):
                image = None
        else:
            image = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
            image = None if image is None else image[..., ::-1]
        if image is None or image.shape != out.shape or image.dtype != out.dtype:
            found = "unreadable" if image is None else f"{image.shape} {image.dtype}"
            raise OutputError(f"{file}: chunk frame is {found}, the shot needs {out.shape} {out.dtype}")
        out[...] = image
        self.index += 1
        return True


def chunk_frames(job: ShotJob, folders: Sequence[str | Path]) -> tuple[list[Path], str]:
    """The frame files of ``folders`` (chunks of ``job``, in order) and the backend that drew
    them, checked: every chunk complete and of this job, the spans contiguous, one backend.

    Raises:
        OutputError: a chunk missing, incomplete, of other inputs or options, out of order,
            or drawn by another backend than the others.
    """
    key = job_key(job)
    files: list[Path] = []
    renderers: set[str] = set()
    expected: int | None = None
    for folder in map(Path, folders):
        record = _read_record(folder)
        if record is None:
            raise OutputError(f"{folder}: chunk has no {RECORD} (not rendered, or interrupted)")
        first, last = record.get("first"), record.get("last")
        if not (isinstance(first, int) and isinstance(last, int)) or not _complete(
            record, folder, key, first, last
        ):
            raise OutputError(f"{folder}: chunk is incomplete or of other inputs or options")
        if expected is not None and first != expected:
            raise OutputError(
                f"{folder}: chunk starts at frame {first}, the previous one ends at {expected - 1}"
            )
        expected = last + 1
        files += [folder / str(name) for name in record["files"]]
        renderers.add(str(record.get("renderer")))
    if len(renderers) > 1:
        raise OutputError(
            f"{job.name}: chunks drawn by different backends ({', '.join(sorted(renderers))}); "
            "choose one with --renderer"
        )
    if not files:
        raise OutputError(f"{job.name}: no chunks to join")
    return files, renderers.pop()


def encode_chunks(job: ShotJob, folders: Sequence[str | Path], *, overwrite: bool = False) -> ShotResult:
    """Join the chunk frames in ``folders`` (in frame order) into ``job``'s output through the
    same sink, recipe and exports as ``stillcam render`` (:func:`stillcam.pipeline.render_with`).

    Every stillcam error becomes a ``failed`` result with its one-line message, as in
    :func:`~stillcam.batch.jobs.run_shot`; the chunk folders are left as they are.
    """
    start = time.perf_counter()
    try:
        job = localized(job)
        files, renderer = chunk_frames(job, folders)
        options = job.options
        if options.render.renderer == "auto":
            options = replace(options, render=replace(options.render, renderer=renderer))
        elif options.render.renderer != renderer:
            raise OutputError(
                f"{job.name}: chunks drawn by {renderer}, the shot asks for {options.render.renderer}"
            )
        replay = ReplayRenderer(files, stereo=options.render.stereo)
        recipe = render_with(
            replay,
            job.photo,
            job.depth,
            job.output,
            options,
            overwrite=overwrite,
            exports=job.exports,
            sign=signing(job),
        )
    except StillcamError as exc:
        return ShotResult(job.name, "failed", seconds=time.perf_counter() - start, error=str(exc))
    return ShotResult(
        job.name,
        "done",
        outputs=job.outputs,
        recipe=job.location(job.recipe),
        seconds=time.perf_counter() - start,
        frames=int(recipe.output.get("frames", 0)),
    )


def remove_chunks(folders: Sequence[str | Path]) -> None:
    """Remove chunk folders (after their shot is published), and their parent once empty."""
    parents = set()
    for folder in map(Path, folders):
        shutil.rmtree(folder, ignore_errors=True)
        parents.add(folder.parent)
    for parent in parents:
        try:
            parent.rmdir()
        except OSError:
            pass
