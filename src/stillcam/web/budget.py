"""A time budget for the web app's interactive work (previews, checking camera files): at most
``slots`` calls run at once, in threads of their own, and a caller waits at most ``seconds``
for its answer (no HTTP here).

A call past its budget answers 429 (the server is busy with it: ask again) but goes on in the
background until it ends, still holding its slot, so slow requests cannot pile up; what it
caches (decoded inputs, the preview scene, the preview itself) is there for the next request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from ..errors import RequestError

T = TypeVar("T")


class Budget:
    """Run calls in at most ``slots`` threads, waiting at most ``seconds`` for each."""

    def __init__(self, slots: int, seconds: float, what: str) -> None:
        self.seconds, self.what = seconds, what
        self._free = threading.BoundedSemaphore(slots)
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix=f"stillcam-web-{what}")

    def run(self, call: Callable[[], T]) -> T:
        """``call()``'s result, or its exception.

        Raises:
            RequestError: 429 when every slot stayed busy for the whole budget, or the call
                itself ran past what was left of it.
        """
        deadline = time.monotonic() + self.seconds
        if not self._free.acquire(timeout=self.seconds):
            raise RequestError(f"busy: every {self.what} slot is taken; try again in a moment", 429)
        try:
            future: Future[T] = self._pool.submit(call)
        except BaseException:
            self._free.release()
            raise
        future.add_done_callback(lambda _: self._free.release())
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise RequestError(
                f"the {self.what} took longer than its {self.seconds:g} s budget; it goes on in the "
                "background, so ask again in a moment, or shorten the shot",
                429,
            ) from None

    def shutdown(self) -> None:
        """Stop taking calls; running ones finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
