"""Interchange: the scene and the shot's camera in the formats other tools open
(docs/delivery.md). The file's extension picks the format:

=========  ==========================================================================
``.glb``   glTF 2.0 binary: layered textured mesh, animated camera (:mod:`.gltf`)
``.chan``  Nuke camera channels (:mod:`.chan`); with ``--stereo`` also one file per
           eye beside it (``cam.left.chan``, ``cam.right.chan``: :func:`.chan.eye_chan_path`)
``.json``  nerfstudio-style ``transforms.json``, per-frame cameras
           (:mod:`stillcam.camera.transforms`)
``.ply``   binary PLY mesh with vertex colours (:mod:`.ply`)
``.usda``  USD stage, text or binary (``.usdc``): meshes, material, animated camera
           in cm and mm (:mod:`.usd`, extra ``usd``); with ``--stereo`` the left and
           right eye cameras too (``stereoRole``)
=========  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..camera.path import CameraPath
from ..camera.stereo import StereoRig
from ..camera.transforms import write_transforms
from ..errors import InputError
from ..io.files import check_destination
from ..output.targets import check_distinct
from ..scene.mesh import Scene
from .chan import eye_chan_path, eye_chan_paths, write_chan, write_eye_chans
from .gltf import write_glb
from .ply import write_ply
from .usd import atlas_path, import_pxr, write_usd

EXPORT_FORMATS = {
    ".glb": "glTF scene and camera",
    ".chan": "Nuke camera",
    ".json": "transforms.json cameras",
    ".ply": "PLY mesh",
    ".usda": "USD stage, text",
    ".usdc": "USD stage, binary",
}


def export_outputs(files: Sequence[str | Path], *, stereo: bool = False) -> list[tuple[str, Path]]:
    """(role, file) of every file the exports write: each export, a USD stage's texture
    beside it and, with ``stereo``, a ``.chan``'s eye files (for
    :func:`~stillcam.output.targets.check_distinct`)."""
    outputs = []
    for file in map(Path, files):
        outputs.append(("--export", file))
        if file.suffix.lower() in (".usda", ".usdc"):
            outputs.append((f"texture of --export {file.name}", atlas_path(file)))
        if stereo and file.suffix.lower() == ".chan":
            outputs += [
                (f"{eye}-eye camera of --export {file.name}", path) for eye, path in eye_chan_paths(file)
            ]
    return outputs


def check_exports(
    files: Sequence[str | Path],
    overwrite: bool,
    *,
    inputs: Sequence[tuple[str, Path]] = (),
    stereo: bool = False,
) -> list[Path]:
    """Validate export paths before any work: known extension, folder exists and is
    writable, no existing file unless ``overwrite``, no path given twice, none of them (nor
    a USD stage's texture, nor with ``stereo`` a ``.chan``'s eye files) one of the command's
    ``inputs`` ((role, file) pairs, e.g. the ``--path`` file:
    :func:`~stillcam.output.targets.check_distinct`)."""
    paths = [Path(f) for f in files]
    if len(set(paths)) != len(paths):
        raise InputError("the same --export path is given twice")
    check_distinct(export_outputs(paths, stereo=stereo), inputs)
    for path in paths:
        if path.suffix.lower() not in EXPORT_FORMATS:
            known = ", ".join(f"{k} ({v})" for k, v in EXPORT_FORMATS.items())
            raise InputError(f"--export {path}: unknown format {path.suffix!r}; use {known}")
        if path.suffix.lower() in (".usda", ".usdc"):
            import_pxr()  # the extra's install hint now, not after the render
            check_destination(atlas_path(path), overwrite, "export")  # written beside the stage
        if stereo and path.suffix.lower() == ".chan":
            for _, eye_file in eye_chan_paths(path):
                check_destination(eye_file, overwrite, "export")
        check_destination(path, overwrite, "export")
    return paths


def write_exports(
    files: Sequence[str | Path],
    scene: Scene,
    camera_path: CameraPath,
    *,
    file_pattern: str = "frame.{number}.png",
    lens: tuple[float, float] | None = None,
    stereo: StereoRig | None = None,
) -> None:
    """Write each of ``files`` (checked with :func:`check_exports`) for ``scene`` along
    ``camera_path``; ``file_pattern`` names the rendered frames in ``transforms.json``;
    ``lens`` = (f-number, focus metres) of the depth of field, for USD (None: none);
    ``stereo``: the ``--stereo`` rig, whose eye cameras go into USD and beside a ``.chan``."""
    for file in files:
        suffix = Path(file).suffix.lower()
        if suffix == ".glb":
            write_glb(scene, camera_path, file)
        elif suffix == ".chan":
            write_chan(camera_path, file)
            if stereo is not None:
                write_eye_chans(camera_path, file, stereo)
        elif suffix == ".json":
            write_transforms(camera_path, file, file_pattern=file_pattern)
        elif suffix == ".ply":
            write_ply(scene, file)
        elif suffix in (".usda", ".usdc"):
            write_usd(scene, camera_path, file, lens=lens, stereo=stereo)
        else:  # pragma: no cover - check_exports refuses these first
            raise InputError(f"--export {file}: unknown format")


__all__ = [
    "EXPORT_FORMATS",
    "atlas_path",
    "check_exports",
    "export_outputs",
    "eye_chan_path",
    "eye_chan_paths",
    "import_pxr",
    "write_chan",
    "write_exports",
    "write_eye_chans",
    "write_glb",
    "write_ply",
    "write_usd",
]
