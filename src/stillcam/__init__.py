"""stillcam: one still photo -> a 3D camera move, rendered from the photo's own pixels.

Layers of the public API:

- one call: :func:`render` (photo + depth file -> video/frames + recipe), :func:`demo`,
  :func:`rerender`;
- objects for control: :class:`Picture`, :class:`DepthMap`, :class:`Scene`, :class:`Camera`,
  :class:`CameraPath`, :class:`Frame`, :class:`Recipe`, and the option dataclasses;
- backend protocols: :class:`Renderer`.

Conventions (axes, units, what depth means): docs/conventions.md.
"""

from ._version import __version__
from .camera import MOVES, Camera, CameraPath, build_path, get_move
from .camera.plan import ShotSettings
from .depth import DepthMap, DepthSettings
from .errors import (
    DepthError,
    ImageError,
    InputError,
    MissingExtraError,
    ModelUnavailableError,
    MoveError,
    OutputError,
    RecipeError,
    StillcamError,
)
from .io import Picture, load_image
from .options import RenderOptions
from .output import OutputSettings, Recipe
from .pipeline import demo, load_inputs, plan_shot, render, rerender
from .render import Frame, Renderer, RenderSettings, get_renderer
from .scene import Scene, SceneSettings, build_scene
from .views import render_views

__all__ = [
    "Camera",
    "CameraPath",
    "DepthError",
    "DepthMap",
    "DepthSettings",
    "Frame",
    "ImageError",
    "InputError",
    "MOVES",
    "MissingExtraError",
    "ModelUnavailableError",
    "MoveError",
    "OutputError",
    "OutputSettings",
    "Picture",
    "Recipe",
    "RecipeError",
    "RenderOptions",
    "RenderSettings",
    "Renderer",
    "Scene",
    "SceneSettings",
    "ShotSettings",
    "StillcamError",
    "__version__",
    "build_path",
    "build_scene",
    "demo",
    "get_move",
    "get_renderer",
    "load_image",
    "load_inputs",
    "plan_shot",
    "render",
    "render_views",
    "rerender",
]
