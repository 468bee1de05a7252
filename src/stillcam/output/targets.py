"""What an output path means: a video file or a numbered frame sequence, and its recipe path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
_HASHES = re.compile(r"#+")
_PRINTF = re.compile(r"%0(\d)d")


@dataclass(frozen=True)
class OutputTarget:
    """A parsed output path.

    Attributes:
        kind: ``"video"`` or ``"sequence"``.
        path: the path as given (for sequences, with its ``####`` or ``%04d`` pattern).
        padding: digits of frame numbers (sequences only).
    """

    kind: Literal["video", "sequence"]
    path: Path
    padding: int = 0

    def frame_path(self, number: int) -> Path:
        """Path of frame ``number`` of a sequence."""
        name = _PRINTF.sub("#" * self.padding, self.path.name)
        return self.path.with_name(_HASHES.sub(f"{number:0{self.padding}d}", name, count=1))

    @property
    def frame_pattern(self) -> str:
        """``str.format`` pattern naming each frame by ``number``: ``shot.{number:04d}.png``
        for sequences, ``shot.mp4#{number}`` for videos."""
        name = self.path.name.replace("{", "{{").replace("}", "}}")
        if self.kind == "video":
            return name + "#{number}"
        name = _PRINTF.sub("#" * self.padding, name)
        return _HASHES.sub(f"{{number:0{self.padding}d}}", name, count=1)

    @property
    def recipe_path(self) -> Path:
        """``shot.recipe.json`` beside ``shot.mp4`` or ``shot.####.png``."""
        name = self.path.name
        stem = name[: -len(self.path.suffix)] if self.path.suffix else name
        if self.kind == "sequence":
            stem = _PRINTF.sub("", _HASHES.sub("", stem)).rstrip("._-") or "frames"
        return self.path.with_name(f"{stem}.recipe.json")


def parse_output(path: str | Path) -> OutputTarget:
    """Parse ``shot.mp4``, ``shot.mov``, ``shot.mkv``, or a numbered sequence ``shot.####.png``,
    ``shot.%04d.png``, ``shot.####.exr``.

    Raises:
        InputError: any other form, with the accepted ones listed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return OutputTarget("video", path)
    if suffix in (".png", ".exr"):
        hashes = _HASHES.findall(path.name)
        printf = _PRINTF.findall(path.name)
        if len(hashes) + len(printf) == 1:
            padding = len(hashes[0]) if hashes else int(printf[0])
            return OutputTarget("sequence", path, padding)
    raise InputError(
        f"output {str(path)!r}: use a video (.mp4, .mov, .mkv) or a numbered PNG or EXR sequence "
        "with one frame-number pattern (shot.####.png, shot.%04d.png, shot.####.exr)"
    )
