"""OpenEXR frame sequences for compositing: ``shot.####.exr``.

Each frame: half-float ``R G B A`` (scene-linear, premultiplied by ``A`` = coverage; colour
space per ``--output-colorspace``, :mod:`.colour`), a 32-bit float ``Z`` channel holding
camera depth in metres (z along the optical axis, +inf where nothing is seen; the scene unit
is the metre, as in the exports), lossless compression (``--exr-compression``), and the
camera as standard attributes:

* ``worldToCamera``: world -> camera, OpenEXR's camera space (x right, y up, z forward,
  left-handed), world = the exports' world (glTF axes: +Y up, metres; docs/conventions.md);
* ``worldToNDC``: world -> normalised device coordinates ((0, 0) top-left, (1, 1)
  bottom-right corner of the display window) after the divide by the last coordinate;
* ``framesPerSecond``, ``chromaticities``, ``comments``.

Matrices are stored the way OpenEXR's Imath writes them: for row vectors (p' = p M), i.e. the
transpose of the column-vector matrices used everywhere else in stillcam.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..camera.camera import Camera
from ..conventions import EXR_FROM_OPENCV_CAMERA, GLTF_FROM_OPENCV_4
from ..errors import OutputError
from ..render.frame import Frame, unpremultiplied
from .colour import CHROMATICITIES, scene_linear
from .targets import OutputTarget
from .writers import OutputSettings, SequenceSink, SinkInput


def world_to_camera(camera: Camera) -> np.ndarray:
    """4x4 column-vector matrix: exports' world (glTF axes) -> OpenEXR camera space."""
    # GLTF_FROM_OPENCV_4 is self-inverse: glTF world -> stillcam world.
    return EXR_FROM_OPENCV_CAMERA @ np.linalg.inv(camera.pose) @ GLTF_FROM_OPENCV_4


def world_to_ndc(camera: Camera) -> np.ndarray:
    """4x4 column-vector matrix: exports' world -> homogeneous NDC (divide by the last row)."""
    w, h = camera.width, camera.height
    projection = np.array(
        [
            [camera.fx / w, 0.0, (camera.cx + 0.5) / w, 0.0],
            [0.0, camera.fy / h, (camera.cy + 0.5) / h, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )
    return projection @ np.linalg.inv(camera.pose) @ GLTF_FROM_OPENCV_4


def write_exr(path: Path, header: dict[str, Any], channels: dict[str, np.ndarray]) -> None:
    """One single-part EXR file; a failure is an :class:`OutputError` naming the file."""
    import OpenEXR

    try:
        with OpenEXR.File(header, channels) as file:
            file.write(str(path))
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"{path}: EXR could not be written ({exc})") from None


def _imath(matrix: np.ndarray) -> np.ndarray:
    # The OpenEXR binding reads the buffer as-is: a C-contiguous float32 copy of the transpose.
    return np.ascontiguousarray(matrix.T, dtype=np.float32)


class ExrSequenceSink(SequenceSink):
    """``shot.####.exr`` frames (module docstring), written like PNG sequences: into a hidden
    folder, moved into place when all are done."""

    accepts: SinkInput = "frame"

    def __init__(
        self,
        target: OutputTarget,
        first_frame: int,
        count: int,
        settings: OutputSettings,
        fps: Fraction,
        *,
        overwrite: bool,
    ) -> None:
        super().__init__(target, first_frame, count, settings, overwrite=overwrite)
        import OpenEXR

        self._compression = {
            "zip": OpenEXR.ZIP_COMPRESSION,
            "piz": OpenEXR.PIZ_COMPRESSION,
            "htj2k": OpenEXR.HTJ2K256_COMPRESSION,
            "none": OpenEXR.NO_COMPRESSION,
        }[settings.exr_compression]
        self._space = settings.output_colorspace
        self._fps = fps

    def _save(self, path: Path, item: Any) -> None:
        import OpenEXR

        frame, camera = item
        assert isinstance(frame, Frame) and isinstance(camera, Camera)
        straight, alpha = unpremultiplied(frame)
        linear = scene_linear(straight, self._space) * alpha[..., None]
        header = {
            "compression": self._compression,
            "type": OpenEXR.scanlineimage,
            "chromaticities": CHROMATICITIES[self._space],
            "worldToCamera": _imath(world_to_camera(camera)),
            "worldToNDC": _imath(world_to_ndc(camera)),
            "framesPerSecond": self._fps,
            "comments": f"stillcam: scene-linear {self._space}, premultiplied; Z = camera depth in metres",
        }
        channels = {
            "RGBA": np.concatenate([linear, alpha[..., None]], axis=-1).astype(np.float16),
            "Z": np.ascontiguousarray(frame.depth, np.float32),
        }
        write_exr(path, header, channels)
