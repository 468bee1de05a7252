"""Depth: what the scene is built from. See docs/conventions.md for what "depth" means."""

from .convert import (
    DEPTH_KINDS,
    DepthKind,
    DepthMap,
    DepthSettings,
    depth_from_raw,
    depth_map_of_file,
    resample_depth,
)

__all__ = [
    "DEPTH_KINDS",
    "DepthKind",
    "DepthMap",
    "DepthSettings",
    "depth_from_raw",
    "depth_map_of_file",
    "resample_depth",
]
