"""The local backend: a process pool on this machine, one shot per task, each rendered by
:func:`~.jobs.run_shot` (the code path of ``stillcam render``).

Workers start with the ``forkserver`` context where there is one (Linux), else ``spawn``: never
``fork``, which copies the driver's threads' locks and numba's thread pool half-made. The pool
is as large as the cores and the memory allow (:func:`pool_size`); each worker's numba threads
are its share of the cores, so N workers do not start N x cores threads.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..depth.estimate import CACHE_ENV, cache_dir
from ..io.limits import available_memory
from .jobs import ShotJob, ShotResult, run_shot
from .run import StopBatch
from .storage import Remote, image_size

#: Memory of a worker before its shot: the interpreter with stillcam, numpy, numba and the
#: codecs imported, measured as the peak RSS of a 64x36 render (223 MiB), rounded up.
BASE_BYTES = 256 * 2**20
#: Memory per pixel of the larger of the photo and the output frame (times its supersampling),
#: from benchmarks/speed.py P4: a 24.0 MP photo rendered to UHD peaks at 2280 MB RSS (MiB,
#: docs/benchmarks.md): (2280 MiB - 256 MiB) / 24.0 MP = 88 B a pixel.
BYTES_PER_PIXEL = 88
#: The most workers ``--workers`` may ask for.
MAX_WORKERS = 256


def cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def photo_pixels(photo: Path | Remote) -> int:
    """The photo's pixels from its header (Pillow reads no pixel data; on storage, its first
    blocks), 0 when unreadable."""
    if isinstance(photo, Remote):
        size = image_size(photo)
        return 0 if size is None else size[0] * size[1]
    try:
        from PIL import Image

        with Image.open(photo) as image:
            width, height = image.size
    except Exception:  # any file Pillow cannot open: the render will say what is wrong
        return 0
    return width * height


def footprint(job: ShotJob) -> int:
    """Estimated peak memory of rendering ``job``, in bytes: :data:`BASE_BYTES` plus
    :data:`BYTES_PER_PIXEL` for each pixel of the larger of the photo and the supersampled frame."""
    photo = photo_pixels(job.photo)
    size = job.options.shot.size_px
    frame = size[0] * size[1] if size is not None else photo
    frame *= job.options.render.supersample**2
    return BASE_BYTES + BYTES_PER_PIXEL * max(photo, frame)


def pool_size(
    jobs: Sequence[ShotJob],
    workers: int | None = None,
    *,
    cores: int | None = None,
    memory: int | None = None,
) -> int:
    """Workers for ``jobs``: ``workers`` when given, else as many as the cores and the free
    memory hold at the largest shot's :func:`footprint`; never more than there are jobs, at
    least one."""
    if not jobs:
        return 1
    if workers is not None:
        return max(1, min(workers, len(jobs)))
    cores = cores if cores is not None else cpu_count()
    memory = memory if memory is not None else available_memory()
    count = cores
    if memory is not None:
        count = min(count, memory // max(footprint(job) for job in jobs))
    return max(1, min(count, len(jobs)))


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


_SHOT = {"name": ""}


class _ShotName(logging.Filter):
    """Puts the shot a worker renders in front of its warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.shot = _SHOT["name"]
        return True


def _init_worker(threads: int, cache: str) -> None:
    """In each worker: Ctrl-C ignored (the driver decides: it ends the workers), warnings as
    ``stillcam: warning: SHOT: ...`` lines, numba on ``threads`` threads, the driver's cache
    folder ``cache`` (a forkserver started earlier would keep an older environment's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[CACHE_ENV] = cache
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("stillcam: warning: %(shot)s: %(message)s"))
    handler.addFilter(_ShotName())
    log = logging.getLogger("stillcam")
    log.addHandler(handler)
    log.propagate = False
    try:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    except ImportError:  # pragma: no cover - numba is a dependency
        pass


def render_in_worker(job: ShotJob, overwrite: bool) -> ShotResult:
    """One task: :func:`run_shot`, with a bug in a shot reported as its failure, not the batch's.
    While it renders, SIGTERM and SIGHUP clean up like Ctrl-C (its partial output removed); an
    idle worker just ends."""
    from .._signals import TERMINATING, install_signal_handlers

    _SHOT["name"] = job.name
    install_signal_handlers()
    try:
        return run_shot(job, overwrite=overwrite)
    except Exception as exc:  # a bug: this shot fails, the batch goes on
        return ShotResult(job.name, "failed", error=f"internal error: {type(exc).__name__}: {exc}")
    finally:
        for signum in TERMINATING:
            signal.signal(signum, signal.SIG_DFL)


class LocalBackend:
    """Renders shots in a process pool on this machine (:class:`~.run.Backend`).

    Args:
        workers: the pool's size; None: :func:`pool_size` (cores and memory).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.used_workers = 0

    def run(
        self, jobs: Sequence[ShotJob], on_result: Callable[[ShotResult], None], *, overwrite: bool
    ) -> None:
        """Render ``jobs``, at most one a worker at a time (so a stopped batch leaves none
        queued inside the pool), calling ``on_result`` here as each finishes. A worker that
        dies (killed, out of memory) fails its shot; the pool is started again for the rest."""
        size = pool_size(jobs, self.workers)
        self.used_workers = size
        threads = max(1, cpu_count() // size)
        cache = str(cache_dir().resolve())
        todo = list(reversed(jobs))
        stop: StopBatch | None = None
        while todo:
            pool = ProcessPoolExecutor(
                size, mp_context=_context(), initializer=_init_worker, initargs=(threads, cache)
            )
            running: dict[Future[ShotResult], ShotJob] = {}
            try:
                broken = False
                while (todo and stop is None and not broken) or running:
                    while todo and stop is None and not broken and len(running) < size:
                        job = todo.pop()
                        try:
                            running[pool.submit(render_in_worker, job, overwrite)] = job
                        except BrokenProcessPool:
                            todo.append(job)
                            broken = True
                    if not running:
                        break
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        job = running.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            broken = True
                            result = ShotResult(
                                job.name,
                                "failed",
                                error="the worker process died (killed, or out of memory?)",
                            )
                        try:
                            on_result(result)
                        except StopBatch as exc:
                            stop = exc
            except BaseException:  # Ctrl-C, SIGTERM: end the workers, their partials go with them
                _terminate(pool)
                raise
            pool.shutdown(wait=True)
            if stop is not None:
                raise stop


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool``'s workers now (SIGTERM: a rendering one removes its partial output first),
    wait for them, and shut the pool down."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        try:
            process.terminate()
        except (OSError, AttributeError):
            pass
    for process in processes:
        process.join()
    pool.shutdown(wait=True, cancel_futures=True)
