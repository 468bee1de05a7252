""":class:`WrappedSink`: the base of sinks that wrap another sink (burn-ins, signing, the
board's frame store) and change only what they need."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class WrappedSink:
    """A :class:`~stillcam.output.writers.FrameSink` that hands every call to ``sink``, the
    sink it wraps (typed ``Any``: writers.py imports the modules that subclass this)."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink

    @property
    def accepts(self) -> Any:
        return self._sink.accepts

    def write(self, item: Any) -> None:
        self._sink.write(item)

    def finish(self) -> list[tuple[Path, Path]]:
        return self._sink.finish()

    def published(self) -> None:
        self._sink.published()

    def commit(self) -> None:
        self._sink.commit()

    def abort(self) -> None:
        self._sink.abort()
