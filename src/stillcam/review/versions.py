"""Versions of a shot: ``-o 'shots/hero_v{version:03d}.mp4'`` takes the next free version, and
``stillcam versions SHOT_DIR`` lists every shot's versions with what changed from the one before.

**Taking a version.** An output name with ``{version}`` in its file name (the template syntax
of ``stillcam batch``, :mod:`stillcam.batch.naming`: ``{version:03d}`` gives ``002``) renders
as the version after the highest one of that shot in its folder. The shot's versions are the
names that start with the text before ``{version}`` (``hero_v``) followed by a number:
``hero_v002.mp4``, ``hero_v002.recipe.json``, ``hero_v002.1001.png``, ``hero_v002.mov``, a
partial or a claim (below) of one; so a version number is never taken twice, whatever the
output's format. The number is claimed before any work by creating the claim file
``.hero_v003.claim`` beside the output exclusively (``O_EXCL``: of two renders at once, one
gets it and the other takes the next number), then the version's names are checked free
again (a render that published it and released its claim meanwhile); the claim is removed
when the render ends, whether it succeeded (its outputs hold the number now) or failed (the
number is free again). A render killed with SIGKILL leaves its claim behind: that number is
skipped (``stillcam versions`` shows the claim; delete it to free the number). Nothing is
ever overwritten: ``--overwrite`` is refused with ``{version}``, and publishing an output
refuses an existing name anyway (:func:`~stillcam.io.files.publish_all`).

The next version is the highest taken plus one, not the first gap (unlike a batch, which
starts at a shot's ``version`` and takes the first free one up): so versions listed in order
are in the order they were rendered.

**Listing.** :func:`list_versions` reads the recipes in a folder whose output names end in
``NAME_vNNN`` (also ``NAME.vNNN``, ``NAME-vNNN``; a suffix after a separator is allowed:
``NAME_v003_beauty``), groups them by ``NAME``, orders them by number, and diffs each with
the one before (:func:`~stillcam.review.diff.diff_recipes`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError, StillcamError
from ..output.recipe import read_recipe
from ..output.targets import parse_output
from .diff import Change, diff_recipes

#: The highest version number (as ``stillcam batch``'s shot lists).
MAX_VERSION = 99_999
CLAIM_SUFFIX = ".claim"
_RECIPE_SUFFIX = ".recipe.json"
#: A versioned name's stem: NAME, a separator and v, the number, then the end or a separator.
_VERSIONED = re.compile(r"(?P<shot>.+)[._-]v(?P<version>\d+)(?P<rest>(?:[._-].*)?)", re.DOTALL)
_SPEC = re.compile(r"0?\d*d?")


@dataclass(frozen=True)
class VersionTemplate:
    """An output name with ``{version}`` in its file name.

    Attributes:
        template: the name as given (``shots/hero_v{version:03d}.mp4``).
        folder: the folder of its outputs.
        prefix: the file name's text before ``{version}`` (``hero_v``): what the name of every
            file of the shot's versions starts with.
        spec: ``{version}``'s format spec (``03d``; "" for none).
    """

    template: str
    folder: Path
    prefix: str
    spec: str = ""

    def number(self, version: int) -> str:
        """``version`` as the template writes it: ``003``."""
        return format(version, self.spec)

    def path(self, version: int) -> Path:
        """The output name of ``version``."""
        return Path(self.template.format(version=version))

    def claim_path(self, version: int) -> Path:
        """The claim file of ``version``, beside the output: ``.hero_v003.claim``."""
        return self.folder / f".{self.prefix}{self.number(version)}{CLAIM_SUFFIX}"

    def versions_in(self, names: Sequence[str]) -> dict[int, list[str]]:
        """The names among ``names`` (a folder's) that belong to a version of this shot: the
        prefix, a number, then no digit (a leading dot: a partial or a claim), by number."""
        pattern = re.compile(r"\.?" + re.escape(self.prefix) + r"(\d+)(?!\d)", re.DOTALL)
        found: dict[int, list[str]] = {}
        for name in names:
            match = pattern.match(name)
            if match:
                found.setdefault(int(match[1]), []).append(name)
        return found


def uses_version(output: str | Path) -> bool:
    """Whether an output name has a ``{version}`` field (only then does it take a version)."""
    try:
        return any(f == "version" for _, f, _, _ in string.Formatter().parse(str(output)))
    except ValueError:
        return "{version" in str(output)


def parse_version_template(output: str | Path) -> VersionTemplate:
    """The :class:`VersionTemplate` of an output name with ``{version}``.

    Raises:
        InputError: a field other than ``{version}``, ``{version}`` in the folder or more than
            once, no shot name before it, or a format spec other than a width
            (``{version:03d}``); each says what to write instead.
    """
    text = str(output)
    where, example = f"-o {text!r}", "e.g. -o 'shots/hero_v{version:03d}.mp4'"
    try:
        parts = list(string.Formatter().parse(Path(text).name))
        in_folder = [f for _, f, _, _ in string.Formatter().parse(str(Path(text).parent)) if f is not None]
    except ValueError as exc:  # a lone { or }
        raise InputError(f"{where}: {exc}; write {{{{ and }}}} for a brace") from None
    if in_folder:
        raise InputError(f"{where}: put {{version}} in the file name, not the folder; {example}")
    names = [name for _, name, _, _ in parts if name is not None]
    if names != ["version"]:
        other = next((f"unknown field {{{n}}}" for n in names if n != "version"), "{version} more than once")
        raise InputError(f"{where}: {other}; an output name takes one {{version}}, {example}")
    prefix, _, spec, _ = next(p for p in parts if p[1] is not None)
    if not _SPEC.fullmatch(spec or "") or "!" in text:
        raise InputError(f"{where}: {{version:{spec}}}: give a width only, such as {{version:03d}}")
    if not prefix:
        raise InputError(f"{where}: name the shot before {{version}}; {example}")
    parse_output(Path(text.format(version=1)))  # an output's extension
    return VersionTemplate(template=text, folder=Path(text).parent, prefix=prefix, spec=spec or "")


def _folder_names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        raise OutputError(f"{folder}: output folder does not exist; create it first") from None
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be read ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class Claim:
    """A version taken by this process: its number, its output and exports, its claim file."""

    version: int
    output: Path
    exports: tuple[Path, ...]
    path: Path

    def release(self) -> None:
        """Remove the claim file (the version's outputs, if any, now hold the number)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _try_claim(template: VersionTemplate, version: int) -> Path | None:
    """Create ``version``'s claim file exclusively; None when another process has it."""
    path = template.claim_path(version)
    record = {"pid": os.getpid(), "host": socket.gethostname(), "claimed": _now()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return None
    except OSError as exc:
        raise OutputError(f"{path}: cannot claim version {version} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(record) + "\n")
    return path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def claim_next_version(output: str | Path, exports: Sequence[str | Path] = ()) -> Claim:
    """Claim the version after the highest one taken (module docstring) for ``output``, a name
    with ``{version}``; the exports' names get the same version where they have ``{version}``.

    Raises:
        InputError: a bad template (:func:`parse_version_template`).
        OutputError: the folder is missing or unreadable, or every version up to
            :data:`MAX_VERSION` is taken.
    """
    template = parse_version_template(output)
    taken = template.versions_in(_folder_names(template.folder))
    version = max(taken, default=0) + 1
    while version <= MAX_VERSION:
        claim = _try_claim(template, version)
        if claim is not None:
            names = template.versions_in(_folder_names(template.folder)).get(version, [])
            targets = [str(e).format(version=version) if uses_version(e) else str(e) for e in exports]
            if names == [claim.name] and not any(os.path.lexists(t) for t in targets):
                return Claim(version, template.path(version), tuple(Path(t) for t in targets), claim)
            claim.unlink()  # published meanwhile by a render that has released its claim
        version += 1
    raise OutputError(f"-o {output}: every version up to {MAX_VERSION} is taken; use another shot name")


@contextmanager
def claimed_version(
    output: str | Path, exports: Sequence[str | Path] = (), *, overwrite: bool = False
) -> Iterator[Claim]:
    """:func:`claim_next_version` for the length of the block; released at its end, whether
    the render succeeded or failed (an exception, Ctrl-C).

    Raises:
        InputError: ``overwrite`` (a versioned output never replaces one), or a bad template.
    """
    if overwrite:
        raise InputError(
            f"-o {output}: a {{version}} output takes the next free version and never replaces one; "
            "drop --overwrite, or name the version to replace"
        )
    claim = claim_next_version(output, exports)
    try:
        yield claim
    finally:
        claim.release()


# ----------------------------------------------------------------------------------------
# Listing


@dataclass(frozen=True)
class Version:
    """One version of a shot, as its recipe records it.

    Attributes:
        shot: the shot's name (``hero`` of ``hero_v002.mp4``).
        version: its number.
        recipe: the recipe file.
        output: the output's name (``hero_v002.mp4``, ``hero_v002.####.png``).
        date: when the recipe was written (UTC, ISO 8601, seconds).
        size: bytes of the output (a sequence's frames together); None when it is missing.
        frames: the frames the recipe records.
        changes: what changed from the version before (empty for the first one).
        error: why the recipe cannot be read (then there are no changes), or None.
    """

    shot: str
    version: int
    recipe: Path
    output: str
    date: str
    size: int | None
    frames: int | None
    changes: tuple[Change, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "shot": self.shot,
            "version": self.version,
            "recipe": str(self.recipe),
            "output": self.output,
            "date": self.date,
            "size": self.size,
            "frames": self.frames,
            "changes": [c.to_dict() for c in self.changes],
            "error": self.error,
        }


def versioned_name(stem: str) -> tuple[str, int] | None:
    """(shot, version) of a versioned stem (``hero_v002`` -> ``("hero", 2)``), or None.

    >>> versioned_name("hero_v002"), versioned_name("rev3_v010_beauty"), versioned_name("hero")
    (('hero', 2), ('rev3', 10), None)
    """
    match = _VERSIONED.fullmatch(stem)
    return None if match is None else (match["shot"], int(match["version"]))


def _output_size(folder: Path, name: str) -> int | None:
    """Bytes of the output ``name`` in ``folder`` (a sequence's frames), None when missing."""
    try:
        target = parse_output(folder / name)
    except StillcamError:
        return None
    if target.kind == "sequence":
        frames = target.existing_frames()
        return sum(f.stat().st_size for f in frames) if frames else None
    try:
        return target.path.stat().st_size
    except OSError:
        return None


def _version_of(recipe_path: Path) -> tuple[str, int, Any, str | None] | None:
    """(shot, version, recipe or None, error) of a recipe file with a versioned name."""
    found = versioned_name(recipe_path.name[: -len(_RECIPE_SUFFIX)])
    if found is None:
        return None
    try:
        return (*found, read_recipe(recipe_path), None)
    except StillcamError as exc:
        return (*found, None, str(exc))


def list_versions(folder: str | Path) -> dict[str, tuple[Version, ...]]:
    """Every shot's versions in ``folder`` (module docstring), shot names sorted, versions in
    order, each with its changes from the readable version before it.

    Raises:
        InputError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; give the folder of a shot's versions")
    found = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(_RECIPE_SUFFIX) and not name.startswith("."):
            entry = _version_of(folder / name)
            if entry is not None:
                found.append((entry, folder / name))
    shots: dict[str, list[Version]] = {}
    previous: dict[str, Any] = {}
    for (shot, number, recipe, error), path in sorted(found, key=lambda f: (f[0][0], f[0][1], f[1].name)):
        output = str(recipe.output.get("camera_path", "")) if recipe is not None else ""
        changes = ()
        if recipe is not None and shot in previous:
            changes = diff_recipes(previous[shot], recipe)
        if recipe is not None:
            previous[shot] = recipe
        shots.setdefault(shot, []).append(
            Version(
                shot=shot,
                version=number,
                recipe=path,
                output=output,
                date=datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds"),
                size=_output_size(folder, output) if output else None,
                frames=recipe.output.get("frames") if recipe is not None else None,
                changes=changes,
                error=error,
            )
        )
    return {shot: tuple(versions) for shot, versions in shots.items()}


def claims_in(folder: str | Path) -> list[Path]:
    """The claim files in ``folder``: renders running now, or killed (their number skipped)."""
    folder = Path(folder)
    return sorted(folder / n for n in os.listdir(folder) if n.startswith(".") and n.endswith(CLAIM_SUFFIX))


def _size_text(size: int | None) -> str:
    if size is None:
        return "missing"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


def format_versions(shots: dict[str, tuple[Version, ...]], claims: Sequence[Path] = ()) -> str:
    """The listing ``stillcam versions`` prints: each shot, its versions (number, date, output,
    size, frames) and under each the changes from the one before, indented."""
    from .diff import format_change

    lines = []
    for shot, versions in shots.items():
        lines.append(shot)
        for i, v in enumerate(versions):
            frames = "" if v.frames is None else f"  {v.frames} frames"
            lines.append(
                f"  v{v.version:03d}  {v.date}  {v.output or v.recipe.name}  {_size_text(v.size)}{frames}"
            )
            if v.error is not None:
                lines.append(f"        unreadable: {v.error}")
            elif i > 0 and not v.changes:
                lines.append("        (no change)")
            lines += [f"        {format_change(c)}" for c in v.changes]
    lines += [
        f"claimed: {c.name} (a render in progress, or a killed one's; delete it to free the number)"
        for c in claims
    ]
    return "".join(line + "\n" for line in lines)
