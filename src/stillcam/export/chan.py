"""The shot's camera as a Nuke ``.chan`` file (Camera node: File > Import chan file).

One line per frame: ``frame tx ty tz rx ry rz vfov``, space-separated; translation in metres,
rotation in degrees for Nuke's default rotation order ZXY (rotate about Z, then X, then Y,
each about the fixed world axes: R = Ry(ry) Rx(rx) Rz(rz)), vertical field of view in degrees.
Axes as Nuke's 3D system: +Y up, cameras look down -Z, so the pose is the glTF one
(:func:`stillcam.export.gltf.gltf_pose`; docs/conventions.md).

With ``--stereo`` each eye's camera is written beside the asked file, ``cam.left.chan`` and
``cam.right.chan`` (:func:`eye_chan_path`): the eye's position (the centre moved ∓interaxial/2
along its own x axis). The channels hold no principal point: each eye's horizontal image
translation (``cx ∓ fx·b/(2·z_conv)`` pixels, :mod:`stillcam.camera.stereo`) is set on the
Nuke Camera's ``win_translate`` u = ``2·Δcx / W`` by hand, or read from the USD export.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..camera.path import CameraPath
from ..camera.stereo import EYES, Eye, StereoRig, eye_cameras
from ..io.files import write_text_atomic
from .gltf import gltf_pose, yfov


def eye_chan_path(file: str | Path, eye: Eye) -> Path:
    """Where one eye's ``.chan`` goes beside ``file``: ``cam.chan`` -> ``cam.left.chan``."""
    file = Path(file)
    return file.with_name(f"{file.stem}.{eye}{file.suffix}")


def eye_chan_paths(file: str | Path) -> tuple[tuple[Eye, Path], ...]:
    """(eye, :func:`eye_chan_path`) of both eyes, left first."""
    return tuple((eye, eye_chan_path(file, eye)) for eye in EYES)


def nuke_rotation_degrees(rotation: np.ndarray) -> tuple[float, float, float]:
    """(rx, ry, rz) in degrees with R = Ry Rx Rz (Nuke's ZXY order)."""
    from scipy.spatial.transform import Rotation

    rz, rx, ry = Rotation.from_matrix(rotation).as_euler("zxy", degrees=True)  # extrinsic z, x, y
    return float(rx), float(ry), float(rz)


def chan_text(camera_path: CameraPath) -> str:
    """The ``.chan`` content of ``camera_path`` (module docstring)."""
    lines = []
    for number, camera in zip(camera_path.frame_numbers, camera_path.cameras, strict=True):
        matrix = gltf_pose(camera.pose)
        rx, ry, rz = nuke_rotation_degrees(matrix[:3, :3])
        tx, ty, tz = matrix[:3, 3]
        values = [tx, ty, tz, rx, ry, rz, math.degrees(yfov(camera))]
        lines.append(f"{number} " + " ".join(f"{v:.9g}" for v in values))
    return "\n".join(lines) + "\n"


def write_chan(camera_path: CameraPath, file: str | Path) -> None:
    """Write :func:`chan_text` to ``file`` (temporary file, then rename)."""
    write_text_atomic(Path(file), chan_text(camera_path), "Nuke camera")


def write_eye_chans(camera_path: CameraPath, file: str | Path, rig: StereoRig) -> None:
    """Write each eye's :func:`chan_text` beside ``file`` (:func:`eye_chan_path`)."""
    for eye, path in eye_chan_paths(file):
        eye_path = replace(camera_path, cameras=eye_cameras(camera_path.cameras, rig, eye))
        write_text_atomic(path, chan_text(eye_path), f"Nuke camera ({eye} eye)")
