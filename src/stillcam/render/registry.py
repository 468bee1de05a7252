"""Choosing a renderer backend by name."""

from __future__ import annotations

from ..errors import InputError, StillcamError
from .frame import RENDERERS, Renderer, RenderSettings


def get_renderer(settings: RenderSettings) -> Renderer:
    """The backend named by ``settings.renderer``; unknown names list the known ones."""
    if settings.renderer == "reference":
        from .reference import ReferenceRenderer

        return ReferenceRenderer(settings)
    if settings.renderer == "cpu":
        from .cpu import CpuRenderer

        return CpuRenderer(settings)
    if settings.renderer in ("gl", "auto"):
        from .gl import GlRenderer, create_context, is_hardware

        if settings.renderer == "gl":
            return GlRenderer(settings)
        try:
            context = create_context()
        except StillcamError:
            context = None
        if context is not None and is_hardware(context):
            return GlRenderer(settings, context)
        from .cpu import CpuRenderer

        return CpuRenderer(settings)
    raise InputError(f"unknown renderer {settings.renderer!r}; choose one of {', '.join(RENDERERS)}")


def renderer_name(renderer: Renderer) -> str:
    """The concrete backend name of ``renderer`` (what ``auto`` resolved to)."""
    return {"CpuRenderer": "cpu", "GlRenderer": "gl", "ReferenceRenderer": "reference"}[
        type(renderer).__name__
    ]
