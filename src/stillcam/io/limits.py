"""Limits every input loader applies before it decodes: a pixel budget read from the file's
header, a memory estimate checked against what the machine has free, and native libraries'
chatter kept off the terminal.

* **Pixel budget**: photos and depth maps of more than :data:`DEFAULT_MAX_INPUT_MP`
  megapixels (100 MP; ``$STILLCAM_MAX_INPUT_MP`` changes it) are refused from their header,
  before a byte of pixel data is decoded; the message says by how much to downscale.
* **Memory estimate**: before a large allocation, the bytes it needs are compared with the
  memory available (``MemAvailable``, and the cgroup's limit where there is one); when it
  does not fit, one line says ``needs ~7.5 GB of memory, 3.1 GB is free`` instead of a
  ``MemoryError``.
* **Native output**: libpng, libtiff, OpenEXR and OpenCV print their own errors and warnings
  on stdout/stderr (``libpng error: ...``, ``[ERROR:0@0.1] global grfmt_tiff.cpp ...``);
  :func:`quiet_native` captures them while a loader runs, so that the loader can put what
  they said inside its own one-line message.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, StillcamError

MAX_INPUT_MP_ENV = "STILLCAM_MAX_INPUT_MP"
#: Longest side a header may claim: past it the file is damaged, not large.
MAX_SIDE = 1_000_000
#: Megapixels an input (photo or depth map) may have unless ``$STILLCAM_MAX_INPUT_MP`` says
#: otherwise: 100 MP covers every camera short of medium format and keeps a render's peak
#: memory within ~10 GB.
DEFAULT_MAX_INPUT_MP = 100.0

_LOG = logging.getLogger("stillcam")
_QUIET_LOCK = threading.RLock()  # re-entrant: a nested capture redirects again, restores in order


def input_pixel_budget() -> int:
    """Pixels an input may have: ``$STILLCAM_MAX_INPUT_MP`` megapixels, else 100 MP.

    Raises:
        InputError: the variable is set but not a number of megapixels > 0.
    """
    text = os.environ.get(MAX_INPUT_MP_ENV, "").strip()
    if not text:
        return int(DEFAULT_MAX_INPUT_MP * 1e6)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value <= 1e6:  # also refuses NaN and infinity
        raise InputError(f"{MAX_INPUT_MP_ENV}={text!r}: give megapixels > 0 (e.g. 150), or unset it")
    return int(value * 1e6)


def format_bytes(count: float) -> str:
    """``7.5 GB``, ``320 MB``: decimal units, two significant digits."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.2g} {unit}" if count < 10 * size else f"{count / size:.0f} {unit}"
    return f"{int(count)} bytes"


def check_pixel_budget(
    name: str | Path,
    width: int,
    height: int,
    *,
    what: str,
    error: type[StillcamError],
    bytes_per_pixel: float = 0.0,
) -> None:
    """Refuse a ``width`` x ``height`` input over :func:`input_pixel_budget`, naming ``name``.

    Args:
        what: the input in words (``"photo"``, ``"depth map"``), for the message.
        error: the error type to raise (:class:`ImageError`, :class:`DepthError`).
        bytes_per_pixel: the loader's peak memory per pixel, to say what raising the budget
            would cost.
    """
    if width < 0 or height < 0 or max(width, height) > MAX_SIDE:
        raise error(
            f"{name}: the {what}'s header claims a size of {width}x{height}, which no real image has; "
            "the file is damaged: re-export or re-copy it"
        )
    budget = input_pixel_budget()
    pixels = width * height
    if pixels <= budget:
        return
    scale = math.sqrt(budget / pixels)
    fit_w, fit_h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    needed = math.ceil(pixels / 1e6)
    cost = f" (loading it needs ~{format_bytes(pixels * bytes_per_pixel)})" if bytes_per_pixel else ""
    raise error(
        f"{name}: the {what} is {width}x{height} = {pixels / 1e6:.0f} MP, over stillcam's input budget "
        f"of {budget / 1e6:.0f} MP; downscale it to {fit_w}x{fit_h} or less, or raise the budget with "
        f"{MAX_INPUT_MP_ENV}={needed}{cost}"
    )


def _cgroup_free() -> int | None:
    """Bytes the cgroup (v2 or v1) still allows, or None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            return max(0, int(limit) - usage)
    return None


def available_memory() -> int | None:
    """Bytes of memory free for a new allocation (``MemAvailable``, bounded by the cgroup's
    limit), or None where the system does not say."""
    free: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        free = None
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            free = None
    cgroup = _cgroup_free()
    if cgroup is not None:
        free = cgroup if free is None else min(free, cgroup)
    return free


def check_memory(needed: float, *, what: str, advice: str, error: type[StillcamError]) -> None:
    """Refuse an allocation of ``needed`` bytes that the machine cannot hold.

    Args:
        what: what needs it, e.g. ``"photo.jpg: decoding 12000x12000"``.
        advice: what to do instead, e.g. ``"downscale the photo"``.
        error: the error type to raise.
    """
    free = available_memory()
    if free is None or needed <= free:
        return
    raise error(f"{what} needs ~{format_bytes(needed)} of memory, {format_bytes(free)} is free; {advice}")


def one_line(text: object, limit: int = 240) -> str:
    """``text`` (an exception, a library's output) as one line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


#: OpenCV's log prefix, ``[ WARN:0@0.836] global grfmt_png.cpp:793 readFromStreamOrBuffer``.
_CV_LOG_PREFIX = re.compile(r"\[\s*[A-Z]+:\d+@[\d.]+\]\s+global\s+\S+:\d+\s+\S+\s+")


class Captured:
    """What native libraries and Python warnings said inside :func:`quiet_native`."""

    def __init__(self) -> None:
        self.text = ""

    def __str__(self) -> str:
        return one_line(_CV_LOG_PREFIX.sub("", self.text), 160)


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (what a library wrote with printf or std::cout)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def _redirect_fds(sink: io.BufferedRandom) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``sink`` (no-op where they cannot be duplicated)."""
    saved: list[tuple[int, int]] = []
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(sink.fileno(), fd)
            except OSError:
                continue
        yield
    finally:
        _flush_c_stdio()
        for fd, copy in saved:
            with contextlib.suppress(OSError):
                os.dup2(copy, fd)
            os.close(copy)


@contextlib.contextmanager
def quiet_native() -> Iterator[Captured]:
    """Capture what runs inside on stdout/stderr (Python's and the C libraries' file
    descriptors) and Python warnings; yields a :class:`Captured` whose ``text`` is filled
    on exit. Serialised by a lock, so two threads never swap the descriptors at once; output
    of other threads in that window is captured too (it is logged at debug level)."""
    captured = Captured()
    python_out = io.StringIO()
    caught: list[warnings.WarningMessage] = []
    with _QUIET_LOCK, tempfile.TemporaryFile() as sink:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(_redirect_fds(sink))
                stack.enter_context(contextlib.redirect_stdout(python_out))
                stack.enter_context(contextlib.redirect_stderr(python_out))
                caught = stack.enter_context(warnings.catch_warnings(record=True))
                warnings.simplefilter("always")
                yield captured
        finally:
            sink.seek(0)
            native = sink.read().decode("utf-8", "replace")
            notes = [str(warning.message) for warning in caught]
            captured.text = "\n".join(t for t in (native, python_out.getvalue(), *notes) if t.strip())
    if captured.text:
        _LOG.debug("libraries said: %s", one_line(captured.text, 2000))
