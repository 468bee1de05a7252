"""All options of a render, grouped by stage: :class:`RenderOptions` and its sections.

Each section is its stage's own frozen dataclass (``ShotSettings`` in ``camera/``,
``DepthSettings`` in ``depth/``, ...); each checks and parses its values when it is made, so
a bad option fails before any file is decoded. The field docs are the command line's
``--help`` (``cli.py``), and :func:`command_line` writes the ``stillcam render`` command of a
set of options (the web app's "Copy command").
"""

from __future__ import annotations

import dataclasses
import shlex
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .bounds import check_frame_size
from .camera.plan import ShotSettings
from .depth.convert import DepthSettings
from .errors import InputError, RecipeError
from .output.provenance import ProvenanceSettings, check_commercial_only
from .output.writers import OutputSettings
from .render.frame import RenderSettings
from .render.stereo import check_packed_size
from .scene.fills import check_fill_licences, used_fill_models
from .scene.mesh import SceneSettings

#: Section name -> its dataclass, in the order of the command line's help.
SECTIONS: dict[str, type] = {
    "shot": ShotSettings,
    "depth": DepthSettings,
    "scene": SceneSettings,
    "render": RenderSettings,
    "output": OutputSettings,
    "provenance": ProvenanceSettings,
}
#: Section name -> its heading in ``--help``.
SECTION_TITLES: dict[str, str] = {
    "shot": "move and frame",
    "depth": "depth interpretation",
    "scene": "scene (mesh)",
    "render": "rendering",
    "output": "encoding",
    "provenance": "licences and provenance",
}
#: Option fields renamed since recipes were first written: old name -> new, per section.
_RENAMED = {"shot": {"path": "camera_file"}}
#: Option fields whose default changed after recipes were written without them: a recipe that
#: lacks the field was rendered with this value, not today's default (per section).
#: ``--mesh-error`` arrived off (the full grid) and became 0.1 by default (issue #20).
RECIPE_ABSENT: dict[str, dict[str, Any]] = {"scene": {"mesh_error": 0.0}}


@dataclass(frozen=True)
class RenderOptions:
    """All options of a render, grouped by stage; what a recipe stores."""

    shot: ShotSettings = field(default_factory=ShotSettings)
    depth: DepthSettings = field(default_factory=DepthSettings)
    scene: SceneSettings = field(default_factory=SceneSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)

    def __post_init__(self) -> None:
        for name, section in SECTIONS.items():
            if not isinstance(getattr(self, name), section):
                raise InputError(
                    f"options: {name} must be a {section.__name__}, got {type(getattr(self, name)).__name__}"
                )
        # --commercial-only first (its message, not --allow-noncommercial's advice to pass it).
        check_commercial_only(
            self.provenance,
            depth_model=self.depth.depth_model,
            fill_models=used_fill_models(self.scene),
            allow_noncommercial=self.depth.allow_noncommercial,
        )
        # One --allow-noncommercial for every model a render runs (depth and fill models).
        check_fill_licences(self.scene, allow_noncommercial=self.depth.allow_noncommercial)
        size = self.shot.size_px  # None for --size source: checked once the photo is known
        if size is not None and self.render.supersample > 1:
            check_frame_size(*size, f"--size {self.shot.size}", supersample=self.render.supersample)
        if size is not None:  # --stereo sbs|tb: the packed frame too (twice as wide or tall)
            check_packed_size(*size, self.render, f"--size {self.shot.size}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_fields(cls, values: Mapping[str, Any]) -> RenderOptions:
        """Options from flat field names (``stride=1``, ``move="pan"``), each routed to its
        section; missing fields keep their defaults, lists become tuples.

        Raises:
            InputError: a name that is no option's (the valid ones listed), or a bad value.
        """
        if not isinstance(values, Mapping):
            raise InputError(
                f"options must be a mapping of option names to values, got {type(values).__name__}"
            )
        owners = {f.name: name for name, section in SECTIONS.items() for f in fields(section)}
        unknown = sorted(set(values) - set(owners), key=repr)
        if unknown:
            shown = repr(unknown[0]) if len(repr(unknown[0])) <= 60 else repr(unknown[0])[:57] + "..."
            raise InputError(f"unknown option {shown}; valid options: {', '.join(sorted(owners))}")
        grouped: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        for key, value in values.items():
            grouped[owners[key]][key] = tuple(value) if isinstance(value, list) else value
        return cls(**{name: SECTIONS[name](**group) for name, group in grouped.items()})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RenderOptions:
        """Inverse of :meth:`to_dict`; JSON lists become tuples again, renamed fields of older
        recipes are read under their new names, and a field older recipes lack takes the value
        they were rendered with (:data:`RECIPE_ABSENT`), other missing fields their defaults.

        Raises:
            RecipeError: ``data`` or a section is not a mapping, or a section has fields this
                version does not know.
            InputError: a value of the wrong type or out of range (naming its option).
        """
        if not isinstance(data, Mapping):
            raise RecipeError(f"recipe options must be a mapping of sections, got {type(data).__name__}")
        try:
            sections = {}
            for name, section in SECTIONS.items():
                given = data.get(name, {})
                if not isinstance(given, Mapping):
                    raise RecipeError(f"recipe options: {name} must be a mapping, got {type(given).__name__}")
                values = dict(given)
                for old, new in _RENAMED.get(name, {}).items():
                    if old in values and new not in values:
                        values[new] = values.pop(old)
                for key, value in RECIPE_ABSENT.get(name, {}).items():
                    values.setdefault(key, value)  # an older recipe: what it was rendered with
                for f in fields(section):
                    if isinstance(values.get(f.name), list):
                        values[f.name] = tuple(values[f.name])
                sections[name] = section(**values)
        except TypeError as exc:  # an unknown field, named on one line (a newline as \n)
            reason = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(exc))
            raise RecipeError(f"recipe options do not match this stillcam version ({reason})") from None
        return cls(**sections)


def flag(f: dataclasses.Field) -> str:
    """The command-line flag of an option field (``--stride``; ``--set`` for ``params``)."""
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def command_line(options: RenderOptions, photo: str, depth: str | None, output: str) -> str:
    """The ``stillcam render`` command that renders ``options`` (only options that differ from
    their defaults are written); parsing it gives ``options`` back (``cli.options_from``)."""
    words = ["stillcam", "render", photo]
    if depth:
        words += ["--depth", depth]
    for name, section in SECTIONS.items():
        hints = typing.get_type_hints(section)
        values = getattr(options, name)
        for f in fields(section):
            value = getattr(values, f.name)
            if value == f.default:
                continue
            option = flag(f)
            if isinstance(value, bool):
                words.append(option if value else "--no-" + option[2:])
            elif isinstance(value, tuple) and hints[f.name] != tuple[float, float, float]:
                for item in value:
                    words += [option, str(item)]
            elif isinstance(value, tuple):
                words += [option, ",".join(f"{v:g}" for v in value)]
            else:
                words += [option, str(value)]
    words += ["-o", output]
    return " ".join(shlex.quote(w) for w in words)
