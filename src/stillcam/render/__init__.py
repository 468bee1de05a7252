"""Rendering a :class:`~stillcam.scene.Scene` through a camera into :class:`Frame` objects."""

from .frame import RENDERERS, DisplayRenderer, Frame, Renderer, RendererName, RenderSettings
from .registry import get_renderer

__all__ = [
    "DisplayRenderer",
    "Frame",
    "RENDERERS",
    "RenderSettings",
    "Renderer",
    "RendererName",
    "get_renderer",
]
