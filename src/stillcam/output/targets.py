"""What an output path means: a video file or a numbered frame sequence, and its recipe path."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InputError, OutputError
from ..io.files import check_destination

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
    def stem(self) -> str:
        """The name without its extension and frame pattern: ``shot`` for ``shot.mp4`` and
        ``shot.####.png`` (the passes are named after it, :func:`~stillcam.output.passes.pass_target`)."""
        name = self.path.name
        stem = name[: -len(self.path.suffix)] if self.path.suffix else name
        if self.kind == "sequence":
            stem = _PRINTF.sub("", _HASHES.sub("", stem)).rstrip("._-") or "frames"
        return stem

    @property
    def recipe_path(self) -> Path:
        """The output's own recipe, beside it: ``shot.recipe.json`` for ``shot.mp4``; every
        other output keeps its extension in the name, so that outputs of one stem do not share
        a recipe: ``shot.mov.recipe.json``, ``shot.mkv.recipe.json``, ``shot.png.recipe.json``
        for ``shot.####.png``, ``shot.exr.recipe.json`` for ``shot.####.exr``."""
        suffix = self.path.suffix
        tag = "" if self.kind == "video" and suffix.lower() == ".mp4" else suffix
        return self.path.with_name(f"{self.stem}{tag}.recipe.json")

    def frame_regex(self) -> re.Pattern[str]:
        """The names of a sequence's frames, whatever their numbers (``shot.1001.png``,
        ``shot.12345.png`` for ``shot.####.png``)."""
        if self.kind != "sequence":
            raise ValueError(f"{self.path}: a video has no frame files")
        name = _PRINTF.sub("#" * self.padding, self.path.name)
        match = _HASHES.search(name)
        assert match is not None
        digits = rf"(?:\d{{{self.padding}}}|[1-9]\d{{{self.padding},}})"  # as f"{n:0{padding}d}" writes
        return re.compile(re.escape(name[: match.start()]) + digits + re.escape(name[match.end() :]))

    def existing_frames(self) -> list[Path]:
        """The files (or anything else) under the names of this sequence's frames, any number."""
        regex = self.frame_regex()
        try:
            with os.scandir(self.path.parent) as entries:
                names = sorted(e.name for e in entries if regex.fullmatch(e.name))
        except OSError:
            return []
        return [self.path.parent / name for name in names]


def _forms(path: Path) -> set[Path]:
    """``path`` absolute with its folder's links resolved, and with every link resolved."""
    absolute = Path(os.path.abspath(path))
    try:
        return {absolute.parent.resolve() / absolute.name, absolute.resolve()}
    except (OSError, RuntimeError):  # a loop of links
        return {absolute}


def _same_file(a: Path, b: Path) -> bool:
    if _forms(a) & _forms(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _in_sequence(path: Path, target: OutputTarget) -> bool:
    folders = {form.parent for form in _forms(target.path)}
    regex = target.frame_regex()
    return any(form.parent in folders and regex.fullmatch(form.name) for form in _forms(path))


def _overlap(a: Path | OutputTarget, b: Path | OutputTarget) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return _same_file(a, b)
    if isinstance(a, Path):
        a, b = b, a
    assert isinstance(a, OutputTarget)
    if a.kind == "video":
        return _overlap(a.path, b)
    if isinstance(b, Path):
        return _in_sequence(b, a)
    if b.kind == "video":
        return _in_sequence(b.path, a)
    top = 10 ** max(a.padding, b.padding)  # a few numbers each pattern writes differently
    return any(_in_sequence(x.frame_path(n), y) for x, y in ((a, b), (b, a)) for n in (1, 1001, top))


def _shown(item: Path | OutputTarget) -> Path:
    return item.path if isinstance(item, OutputTarget) else item


def check_distinct(
    outputs: Sequence[tuple[str, Path | OutputTarget]], inputs: Sequence[tuple[str, Path]] = ()
) -> None:
    """Refuse, before any work, a command that would lose data by itself: an output that is
    one of the files the command reads, or that is another of its outputs (the same file, a
    frame of one of its sequences, two sequences sharing frames). Symbolic links and hard
    links count as the file they name.

    Args:
        outputs: (role, what is written), e.g. ``("--pass depth", target)``, ``("recipe", path)``.
        inputs: (role, file read), e.g. ``("--depth file", path)``.

    Raises:
        InputError: naming both, in one line.
    """
    for i, (role, item) in enumerate(outputs):
        for in_role, file in inputs:
            if _overlap(item, Path(file)):
                raise InputError(
                    f"{role} {_shown(item)} would write over {file}, the {in_role} this command reads; "
                    "choose another output name"
                )
        for other_role, other in outputs[:i]:
            if _overlap(item, other):
                if role == other_role and _shown(item) == _shown(other):
                    raise InputError(f"{role} {_shown(item)} is given twice")
                raise InputError(
                    f"{role} {_shown(item)} would overwrite the {other_role} {_shown(other)} of the same "
                    "command; give each output its own name"
                )


_RECIPE_READ_LIMIT = 16 << 20


def recipe_owner(recipe: Path) -> str | None:
    """The output name a recipe file records (its ``output.camera_path``); None when there is
    no such file or it is not a readable recipe."""
    try:
        if not recipe.is_file() or recipe.stat().st_size > _RECIPE_READ_LIMIT:
            return None
        name = json.loads(recipe.read_bytes())["output"]["camera_path"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return name if isinstance(name, str) else None


def check_recipe_path(target: OutputTarget, overwrite: bool) -> None:
    """Refuse, before any work, a recipe name that holds another output's recipe (even with
    ``overwrite``: that output would be left without the recipe that re-renders it), or that
    cannot be written (:func:`~stillcam.io.files.check_destination`).

    Raises:
        OutputError: naming the other output, or what is in the way.
    """
    recipe = target.recipe_path
    owner = recipe_owner(recipe)
    if owner is not None and owner != target.path.name:
        try:
            same = parse_output(owner).frame_pattern == target.frame_pattern  # shot.%04d.png, shot.####.png
        except InputError:
            same = False
        if not same:
            raise OutputError(
                f"{recipe}: is the recipe of {owner}, another output; move it away or choose another "
                "output name"
            )
    check_destination(recipe, overwrite, "recipe")


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
