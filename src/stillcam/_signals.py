"""SIGTERM and SIGHUP end a command like Ctrl-C: cleanly, with no partial output left behind.

Python turns SIGINT into :class:`KeyboardInterrupt`, so every ``except BaseException`` /
``finally`` on the way out removes its partial files (``ShotOutput.abort``, the partial
folders of :mod:`stillcam.io.files`). SIGTERM (what schedulers and ``kill`` send) and SIGHUP
(a closed terminal) would end the process at once and leave them. :func:`install_signal_handlers`
makes both raise :class:`Terminated`, a :class:`KeyboardInterrupt`, in the main thread; the
command line calls it first thing (``cli.main``), the library never does.

:func:`deferred_signals` holds these signals for the few system calls that publish an
output, so that a signal cannot publish half of it (``io.files.publish_all``).

Only SIGKILL (``kill -9``) still leaves a partial behind: its name carries the process id,
and the next render to the same output removes it (``io.files.remove_stale_partials``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: The signals :func:`install_signal_handlers` turns into :class:`Terminated`.
TERMINATING: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)

_received = threading.Event()


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; raised in the main thread like Ctrl-C's KeyboardInterrupt.

    Attributes:
        signum: the signal's number (``128 + signum`` is the conventional exit status).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _terminate(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM while the first one's cleanup runs is ignored: it would cut the
    # cleanup short and leave the partial files the first one is removing.
    if _received.is_set():
        return
    _received.set()
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (module docstring).

    A signal that is ignored already stays ignored (``nohup`` ignores SIGHUP); does nothing
    outside the main thread, where Python cannot set handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    _received.clear()
    for signum in TERMINATING:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _terminate)


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _deliver(signum: int, handler: _Handler) -> None:
    """Act on a held signal as ``handler`` (its handler before it was held) would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)  # the default action, now that the handler is back


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP while the block runs; act on the first one received
    once it ends. Outside the main thread (the web app's workers) signals are not delivered
    there anyway, and this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    saved: dict[int, _Handler] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    for signum in (signal.SIGINT, *TERMINATING):
        handler = signal.getsignal(signum)
        if handler is None or handler == signal.SIG_IGN:  # set outside Python, or ignored: left alone
            continue
        saved[signum] = handler
        signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        if received:
            _deliver(received[0], saved[received[0]])
