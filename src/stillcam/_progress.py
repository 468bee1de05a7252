"""A progress bar on stderr that appears only for work longer than a second."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class DelayedProgress:
    """Counts steps; shows a rich bar on stderr once ``delay_s`` has passed (unless quiet)."""

    def __init__(self, total: int, label: str, *, quiet: bool = False, delay_s: float = 1.0) -> None:
        self.total, self.label, self.quiet, self.delay_s = total, label, quiet, delay_s
        self.done = 0
        self._start = time.monotonic()
        self._bar: Progress | None = None
        self._task = None

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self.quiet:
            return
        if self._bar is None and time.monotonic() - self._start >= self.delay_s:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)

    def __enter__(self) -> DelayedProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
