"""Lifting the photo into 3D: unprojection and a textured mesh cut at depth edges."""

from .mesh import Scene, SceneSettings, auto_stride, build_scene, unproject
from .plan import scene_for

__all__ = [
    "Scene",
    "SceneSettings",
    "auto_stride",
    "build_scene",
    "scene_for",
    "unproject",
]
