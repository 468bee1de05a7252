"""Recipes: everything needed to re-render an output exactly, stored beside it as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..camera.path import CameraPath
from ..errors import RecipeError
from ..io.files import write_text_atomic
from .colour import ocio_record
from .targets import OutputTarget
from .writers import OutputSettings

RECIPE_FORMAT = 1


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
    """

    stillcam_version: str
    inputs: dict[str, Any]
    options: dict[str, Any]
    depth_source: str
    focal: dict[str, Any]
    output: dict[str, Any] = field(default_factory=dict)
    safety: dict[str, Any] = field(default_factory=dict)
    format: int = RECIPE_FORMAT


def write_recipe(path: Path, recipe: Recipe) -> None:
    """Write ``recipe`` as JSON to ``path`` atomically (temporary file, then rename)."""
    write_text_atomic(path, json.dumps(asdict(recipe), indent=2, sort_keys=True) + "\n", "recipe")


def read_recipe(path: str | Path) -> Recipe:
    """Read a recipe written by :func:`write_recipe`.

    Raises:
        RecipeError: missing, not JSON, or not a stillcam recipe.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecipeError(f"{path}: not a readable JSON recipe ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != RECIPE_FORMAT:
        raise RecipeError(f"{path}: not a stillcam recipe of format {RECIPE_FORMAT}")
    try:
        return Recipe(**data)
    except TypeError as exc:
        raise RecipeError(f"{path}: recipe fields are wrong ({exc})") from None


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
