"""Recipes: everything needed to re-render an output exactly, stored beside it as JSON.

A recipe is read within the bounds of :func:`~stillcam.io.structured.read_structured` (a
regular file of at most :data:`MAX_RECIPE_BYTES`, nested at most 64 levels) and checked by
:class:`RecipeFile` before any of it is used: the inputs a re-render reads (paths, SHA-256s,
the example's size, the depth model's cache entry) are typed, and each error names its field
(``inputs.photo.sha256: ...``) on one line. The option values are typed by the re-render,
against the option sections (``pipeline.rerender``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, ValidationError, model_validator

from ..camera.path import CameraPath
from ..errors import RecipeError
from ..io.files import write_text_atomic
from ..io.structured import MiB, read_structured, schema_message
from .colour import ocio_record
from .targets import OutputTarget
from .writers import OutputSettings

RECIPE_FORMAT = 1
#: The largest recipe read (stillcam's are a few KiB).
MAX_RECIPE_BYTES = 16 * MiB


@dataclass(frozen=True)
class Recipe:
    """What made an output.

    Attributes:
        stillcam_version: version that wrote it.
        inputs: ``{"photo": {"path", "sha256"}, "depth": {...}}`` or ``{"example": {...}}``.
        options: every option after defaults were applied (``RenderOptions.to_dict()``).
        depth_source: how the depth was obtained and interpreted.
        focal: ``{"mm": 35 mm-equivalent focal of the photo, "source": exif|user|default}``.
        output: ``{"path", "kind", "frames", "first_frame", "width", "height", "fps"}``.
        safety: the motion-safety guard's findings (:class:`stillcam.safety.Safety`).
        models: every model that touched the output, ``{role, name, repo, revision, licence,
            commercial, sha256, ...}`` (:func:`~stillcam.output.provenance.model_records`);
            empty for a depth file with classical fills, and in recipes written before it.
    """

    stillcam_version: str
    inputs: dict[str, Any]
    options: dict[str, Any]
    depth_source: str
    focal: dict[str, Any]
    output: dict[str, Any] = field(default_factory=dict)
    safety: dict[str, Any] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    format: int = RECIPE_FORMAT


def write_recipe(path: Path, recipe: Recipe) -> None:
    """Write ``recipe`` as JSON to ``path`` atomically (temporary file, then rename)."""
    write_text_atomic(path, json.dumps(asdict(recipe), indent=2, sort_keys=True) + "\n", "recipe")


_RECORD = ConfigDict(extra="allow", allow_inf_nan=False)
_Text = Annotated[str, Field(max_length=4096)]
_Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_PathText = Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^[^\x00]*$")]
_Side = Annotated[int, Field(ge=2, le=32768)]


class FileRecord(BaseModel):
    """An input file: where it was and its content's SHA-256 (a re-render checks both)."""

    model_config = _RECORD
    path: _PathText
    sha256: _Sha256


class DepthRecord(BaseModel):
    """The depth: a file's record, or a model's estimate in the depth cache (``model``,
    ``revision``, ``cache``: the cached file, ``sha256``: its hash)."""

    model_config = _RECORD
    sha256: _Sha256
    path: _PathText | None = None
    model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    revision: _Text | None = None
    cache: _PathText | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DepthRecord:
        if self.model is None and self.path is None:
            raise ValueError("give the depth file's path, or the model, revision and cache of an estimate")
        if self.model is not None and (self.revision is None or self.cache is None):
            missing = "revision" if self.revision is None else "cache"
            raise ValueError(f"a model's depth record needs its {missing}")
        return self


class ExampleRecord(BaseModel):
    """The bundled procedural example, at its size."""

    model_config = _RECORD
    width: _Side
    height: _Side
    sha256: _Sha256


class FillModelRecord(BaseModel):
    """A fill model's pinned weights (:func:`~stillcam.scene.fills.fill_model_records`)."""

    model_config = _RECORD
    name: Annotated[str, Field(min_length=1, max_length=200)]
    revision: _Text
    sha256: Annotated[str, Field(min_length=1, max_length=200)]  # a plug-in's may be its revision


class ModelRecord(BaseModel):
    """One model that touched the output (the recipe's ``models`` list): its role (``depth``,
    ``fill``; later kinds add theirs), registry name, repository, revision, licence, whether
    that allows commercial use, and the SHA-256 of its weights where known. Other fields
    (``files``, ``used_for``) are kept."""

    model_config = _RECORD
    role: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    repo: _Text | None = None
    revision: _Text | None = None
    licence: _Text
    commercial: StrictBool
    sha256: _Sha256 | None = None


class InputsRecord(BaseModel):
    """What a render read: the photo and its depth, or the example; the camera file; the
    fill models. ``path`` is the camera file's name in recipes before its rename."""

    model_config = _RECORD
    photo: FileRecord | None = None
    depth: DepthRecord | None = None
    example: ExampleRecord | None = None
    camera_file: FileRecord | None = None
    path: FileRecord | None = None
    fill_models: Annotated[list[FillModelRecord], Field(max_length=64)] | None = None

    @model_validator(mode="after")
    def _photo_or_example(self) -> InputsRecord:
        if self.example is None and (self.photo is None or self.depth is None):
            missing = "photo" if self.photo is None else "depth"
            raise ValueError(f"needs the {missing} (or the example) the render read")
        return self


_Section = dict[Annotated[str, Field(max_length=100)], JsonValue]


class RecipeFile(BaseModel):
    """The schema of a recipe file (the fields of :class:`Recipe`, typed)."""

    model_config = ConfigDict(extra="forbid")
    format: Literal[1]
    stillcam_version: Annotated[str, Field(min_length=1, max_length=100)]
    inputs: InputsRecord
    options: dict[Annotated[str, Field(max_length=100)], _Section]
    depth_source: _Text
    focal: dict[str, JsonValue]
    output: dict[str, JsonValue] = {}
    safety: dict[str, JsonValue] = {}
    models: Annotated[list[ModelRecord], Field(max_length=64)] = []


def recipe_from_dict(data: Any, name: str = "recipe") -> Recipe:
    """The :class:`Recipe` of a parsed recipe file, checked by :class:`RecipeFile`; the
    input records keep their other fields (a depth record's ``colour``, ...).

    Raises:
        RecipeError: not a stillcam recipe of this format, or the first bad field, located.
    """
    if not isinstance(data, dict) or data.get("format") != RECIPE_FORMAT:
        raise RecipeError(f"{name}: not a stillcam recipe of format {RECIPE_FORMAT}")
    try:
        checked = RecipeFile.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(f"{name}: {schema_message(exc)}") from None
    inputs = checked.inputs.model_dump(mode="json", exclude_unset=True)
    return Recipe(
        stillcam_version=checked.stillcam_version,
        inputs=inputs,
        options=checked.options,
        depth_source=checked.depth_source,
        focal=checked.focal,
        output=checked.output,
        safety=checked.safety,
        models=[model.model_dump(mode="json") for model in checked.models],
        format=checked.format,
    )


def read_recipe(path: str | Path) -> Recipe:
    """Read a recipe written by :func:`write_recipe` (see the module docstring for the checks).

    Raises:
        RecipeError: one line: missing, not a regular file, too large, not JSON, not a
            stillcam recipe, or a bad field (located: ``inputs.depth.sha256: ...``).
    """
    path = Path(path)
    data = read_structured(
        path, what="recipe file", syntax="json", max_bytes=MAX_RECIPE_BYTES, error=RecipeError
    )
    return recipe_from_dict(data, str(path))


def output_record(target: OutputTarget, camera_path: CameraPath, settings: OutputSettings) -> dict[str, Any]:
    """The recipe's ``output`` block: file name and kind, frames, size, fps and colour."""
    first = camera_path.cameras[0]
    if target.path.suffix.lower() == ".exr":
        colour = ocio_record(settings.output_colorspace)
    else:
        colour = {"space": "sRGB-encoded Rec.709" + (", BT.709-tagged" if target.kind == "video" else "")}
    return {
        "colour": colour,
        "camera_path": target.path.name,
        "kind": target.kind,
        "frames": len(camera_path),
        "first_frame": camera_path.first_frame,
        "width": first.width,
        "height": first.height,
        "fps": f"{camera_path.fps.numerator}/{camera_path.fps.denominator}",
    }
