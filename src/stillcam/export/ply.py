"""The scene as a binary PLY mesh with vertex colours, for a quick look in MeshLab, Blender
or CloudCompare (no texture: each vertex takes the texel under it, so detail between
vertices is lost; use the ``.glb`` for the textured scene).

Axes as glTF's (+Y up, metres; :data:`stillcam.conventions.GLTF_FROM_OPENCV`); both layers,
one face list. Written by hand: the format is a text header plus two packed arrays, and no
maintained PLY library adds anything to that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..conventions import GLTF_FROM_OPENCV
from ..io.files import write_bytes_atomic
from ..scene.mesh import Scene
from ..scene.texture import TEXTURE_MAX


def ply_bytes(scene: Scene) -> bytes:
    """Binary little-endian PLY of ``scene`` (module docstring)."""
    positions = (scene.vertices.astype(np.float64) @ GLTF_FROM_OPENCV.T).astype("<f4")
    th, tw = scene.texture.shape[:2]
    cols = np.clip(np.rint(scene.uvs[:, 0]), 0, tw - 1).astype(np.intp)
    rows = np.clip(np.rint(scene.uvs[:, 1]), 0, th - 1).astype(np.intp)
    texels = scene.texture[rows, cols].astype(np.uint32)
    colours = ((texels * 255 + TEXTURE_MAX // 2) // TEXTURE_MAX).astype(np.uint8)
    vertex = np.empty(len(positions), dtype=[("xyz", "<f4", 3), ("rgb", "u1", 3)])
    vertex["xyz"], vertex["rgb"] = positions, colours
    face = np.empty(len(scene.triangles), dtype=[("n", "u1"), ("ids", "<i4", 3)])
    face["n"], face["ids"] = 3, scene.triangles
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment stillcam scene, +Y up, metres\n"
        f"element vertex {len(vertex)}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        f"element face {len(face)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    return header.encode("ascii") + vertex.tobytes() + face.tobytes()


def write_ply(scene: Scene, file: str | Path) -> None:
    """Write :func:`ply_bytes` to ``file`` (temporary file, then rename)."""
    write_bytes_atomic(Path(file), ply_bytes(scene), "PLY mesh")
