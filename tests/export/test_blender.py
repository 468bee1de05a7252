"""The proof of the .glb export: Blender's own glTF importer (Debian's blender, headless) reads
stillcam's file; its camera matches stillcam's path on several frames, and a Workbench render
of one frame resembles stillcam's own frame for the same camera. Skips without ``blender``
(``.ci/run`` installs it)."""

import json
import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.transform import Rotation

from stillcam import RenderOptions
from stillcam.camera.plan import ShotSettings
from stillcam.conventions import GLTF_FROM_OPENCV
from stillcam.example.procedural import example_inputs
from stillcam.export.gltf import gltf_pose, write_glb, yfov
from stillcam.output.frames import display_frame
from stillcam.pipeline import plan_shot
from stillcam.render import get_renderer

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(shutil.which("blender") is None, reason="blender not installed (.ci/run installs it)"),
]

W, H = 320, 180
FRAMES = 12
#: glTF (+Y up) -> Blender (+Z up), what Blender's importer applies.
BLENDER_FROM_GLTF = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], float)


@pytest.fixture(scope="module")
def blender_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blender")
    picture, depth = example_inputs(W, H)
    options = RenderOptions(
        shot=ShotSettings(
            move="orbit(degrees=12) + crane(fraction=0.05)", size=f"{W}x{H}", duration=0.5, fps="24"
        )
    )
    scene, path, _ = plan_shot(picture, depth, options)
    assert len(path) == FRAMES and path.fps == Fraction(24)
    write_glb(scene, path, folder / "shot.glb")
    middle = FRAMES // 2
    ours = display_frame(
        get_renderer(options.render), scene, path.cameras[middle], options.output, fill=options.scene.fills
    )
    request = {
        "glb": str(folder / "shot.glb"),
        "frames": list(range(FRAMES)),
        "width": W,
        "height": H,
        "fps": 24,
        "render_frame": middle,
        "render_png": str(folder / "blender.png"),
        "out": str(folder / "result.json"),
    }
    (folder / "request.json").write_text(json.dumps(request))
    script = Path(__file__).with_name("blender_check.py")
    done = subprocess.run(
        [
            "blender",
            "-b",
            "--factory-startup",
            "--python-exit-code",
            "1",
            "--python",
            str(script),
            "--",
            str(folder / "request.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((folder / "result.json").read_text())
    Image.fromarray(ours).save(folder / "stillcam.png")
    return scene, path, result, ours, np.asarray(Image.open(folder / "blender.png").convert("RGB")), folder


def test_blender_camera_matches_the_path(blender_run):
    scene, path, result, *_ = blender_run
    extent = np.ptp(scene.vertices, axis=0).max()  # scene size, metres
    for index in range(FRAMES):
        got = np.array(result["frames"][str(index)]["matrix"])
        want = BLENDER_FROM_GLTF @ gltf_pose(path.cameras[index].pose)
        # Angle of the relative rotation, robustly (acos of the trace is noisy near zero with
        # Blender's float32 matrices): nearest rotation by SVD, then its rotation vector.
        u, _, vt = np.linalg.svd(got[:3, :3].T @ want[:3, :3])
        angle = math.degrees(Rotation.from_matrix(u @ vt).magnitude())
        assert angle < 0.01, (index, angle)
        assert np.abs(got[:3, 3] - want[:3, 3]).max() < 1e-4 * extent, index
        fov = result["frames"][str(index)]["angle_y"]
        assert abs(math.degrees(fov - yfov(path.cameras[index]))) < 0.01, index


def test_blender_render_resembles_stillcams_frame(blender_run):
    *_, ours, theirs, folder = blender_run
    assert theirs.shape == ours.shape
    # Workbench samples the 8-bit JPEG atlas with its own filtering and fills no holes: mean
    # absolute difference over the frame in 0-255 levels, and the correlation of the two images.
    # Measured: 0.85 levels and 0.9995; against the frame before it (one frame off): 10.8 and 0.80.
    difference = np.abs(theirs.astype(float) - ours.astype(float)).mean()
    correlation = np.corrcoef(theirs.astype(float).ravel(), ours.astype(float).ravel())[0, 1]
    assert difference < 3.0 and correlation > 0.99, (difference, correlation, folder)


def test_gltf_axes_are_a_rotation():
    assert np.isclose(np.linalg.det(GLTF_FROM_OPENCV), 1.0)
