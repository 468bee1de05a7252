"""Exports read back with independent readers (pygltflib, numpy), against stillcam's own
cameras and scene; the Khronos glTF validator when it is installed (.ci/run installs it)."""

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from scipy.spatial.transform import Rotation

from stillcam import RenderOptions
from stillcam.camera.plan import ShotSettings
from stillcam.conventions import GLTF_FROM_OPENCV
from stillcam.errors import InputError, OutputError
from stillcam.example.procedural import example_inputs
from stillcam.export import check_exports, write_exports
from stillcam.export.chan import chan_text
from stillcam.export.gltf import glb_bytes, gltf_pose, yfov
from stillcam.export.ply import ply_bytes
from stillcam.pipeline import plan_shot

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "build" / "ci-node" / "node_modules" / "gltf-validator"


@pytest.fixture(scope="module")
def shot():
    picture, depth = example_inputs(160, 90)
    options = RenderOptions(
        shot=ShotSettings(
            move="dolly-zoom(fraction=0.1) + orbit(degrees=8)", size="160x90", duration=0.5, fps="24"
        )
    )
    scene, path, _ = plan_shot(picture, depth, options)
    return scene, path


def _accessor(gltf, blob, index):
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    dtype = {pygltflib.FLOAT: np.float32, pygltflib.UNSIGNED_INT: np.uint32}[accessor.componentType]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[accessor.type]
    data = np.frombuffer(blob, dtype, accessor.count * width, view.byteOffset)
    return data.reshape(accessor.count, width) if width > 1 else data


def test_glb_holds_the_scene_and_the_animated_camera(shot):
    scene, path = shot
    gltf = pygltflib.GLTF2.load_from_bytes(glb_bytes(scene, path))
    blob = gltf.binary_blob()
    nodes = {n.name: n for n in gltf.nodes}
    assert set(nodes) == {"photo", "background", "camera"}
    positions = _accessor(gltf, blob, gltf.meshes[nodes["photo"].mesh].primitives[0].attributes.POSITION)
    np.testing.assert_allclose(positions, scene.vertices @ GLTF_FROM_OPENCV.T, atol=1e-6)
    photo = _accessor(gltf, blob, gltf.meshes[nodes["photo"].mesh].primitives[0].indices)
    background = _accessor(gltf, blob, gltf.meshes[nodes["background"].mesh].primitives[0].indices)
    assert len(photo) + len(background) == scene.triangles.size
    assert gltf.materials[0].extensions == {"KHR_materials_unlit": {}}
    # Camera keys: one per frame at index / fps; TRS rebuilds the glTF pose of each frame.
    channels = {c.target.path: gltf.animations[0].samplers[c.sampler] for c in gltf.animations[0].channels}
    times = _accessor(gltf, blob, channels["translation"].input)
    np.testing.assert_allclose(times, np.arange(len(path)) / 24, atol=1e-6)
    translations = _accessor(gltf, blob, channels["translation"].output)
    rotations = _accessor(gltf, blob, channels["rotation"].output)
    for i, camera in enumerate(path.cameras):
        want = gltf_pose(camera.pose)
        np.testing.assert_allclose(translations[i], want[:3, 3], atol=1e-5)
        got = Rotation.from_quat(rotations[i]).as_matrix()
        angle = np.degrees(Rotation.from_matrix(got.T @ want[:3, :3]).magnitude())
        assert angle < 0.001
    # The dolly-zoom changes the field of view: per frame in extras, the first on the camera.
    fovs = gltf.extras["stillcam"]["yfov_per_frame"]
    assert fovs[0] == pytest.approx(gltf.cameras[0].perspective.yfov)
    assert fovs == pytest.approx([yfov(c) for c in path.cameras]) and fovs[0] != pytest.approx(fovs[-1])


def test_gltf_camera_looks_where_stillcams_does(shot):
    _, path = shot
    camera = path.cameras[0]
    forward_gltf = gltf_pose(camera.pose)[:3, :3] @ np.array([0.0, 0.0, -1.0])  # glTF cameras look -Z
    forward = camera.pose[:3, :3] @ np.array([0.0, 0.0, 1.0])  # OpenCV cameras look +z
    np.testing.assert_allclose(forward_gltf, GLTF_FROM_OPENCV @ forward, atol=1e-12)


@pytest.mark.skipif(
    shutil.which("node") is None or not VALIDATOR.is_dir(),
    reason="Khronos glTF validator not installed (.ci/run installs it with npm)",
)
def test_khronos_validator_finds_no_errors(shot, tmp_path: Path):
    scene, path = shot
    (tmp_path / "s.glb").write_bytes(glb_bytes(scene, path))
    script = (
        "const v = require(process.argv[1]); const fs = require('fs');"
        "v.validateBytes(new Uint8Array(fs.readFileSync(process.argv[2])))"
        ".then(r => console.log(JSON.stringify(r.issues)))"
    )
    done = subprocess.run(
        ["node", "-e", script, str(VALIDATOR), str(tmp_path / "s.glb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    issues = json.loads(done.stdout)
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"][:10]


def test_chan_rebuilds_each_frames_camera(shot):
    _, path = shot
    lines = chan_text(path).splitlines()
    assert len(lines) == len(path)
    for line, number, camera in zip(lines, path.frame_numbers, path.cameras, strict=True):
        frame, tx, ty, tz, rx, ry, rz, vfov = (float(v) for v in line.split())
        assert frame == number
        want = gltf_pose(camera.pose)
        # Nuke's ZXY order: rotate about Z, then X, then Y (fixed axes): R = Ry Rx Rz.
        r = Rotation.from_euler("y", ry, degrees=True) * Rotation.from_euler("x", rx, degrees=True)
        r = r * Rotation.from_euler("z", rz, degrees=True)
        np.testing.assert_allclose(r.as_matrix(), want[:3, :3], atol=1e-7)
        np.testing.assert_allclose([tx, ty, tz], want[:3, 3], atol=1e-7)
        assert vfov == pytest.approx(math.degrees(yfov(camera)), abs=1e-6)


def test_ply_is_a_coloured_mesh(shot):
    scene, _ = shot
    data = ply_bytes(scene)
    header, body = data.split(b"end_header\n", 1)
    assert f"element vertex {len(scene.vertices)}".encode() in header
    assert f"element face {len(scene.triangles)}".encode() in header
    vertex = np.frombuffer(body, [("xyz", "<f4", 3), ("rgb", "u1", 3)], len(scene.vertices))
    face = np.frombuffer(body, [("n", "u1"), ("ids", "<i4", 3)], len(scene.triangles), vertex.nbytes)
    np.testing.assert_allclose(vertex["xyz"], scene.vertices @ GLTF_FROM_OPENCV.T, atol=1e-6)
    assert (face["n"] == 3).all() and np.array_equal(face["ids"], scene.triangles)
    assert vertex["rgb"].std() > 10  # the photo's colours, not a constant


def test_exports_are_checked_before_any_work(tmp_path: Path):
    with pytest.raises(InputError, match=r"unknown format '\.fbx'.*\.glb"):
        check_exports([tmp_path / "a.fbx"], overwrite=False)
    with pytest.raises(OutputError, match="does not exist"):
        check_exports([tmp_path / "missing" / "a.glb"], overwrite=False)
    (tmp_path / "a.glb").write_bytes(b"old")
    with pytest.raises(OutputError, match="--overwrite"):
        check_exports([tmp_path / "a.glb"], overwrite=False)
    with pytest.raises(InputError, match="twice"):
        check_exports([tmp_path / "b.chan", tmp_path / "b.chan"], overwrite=False)


def test_write_exports_writes_every_format(shot, tmp_path: Path):
    scene, path = shot
    files = [tmp_path / n for n in ("s.glb", "s.chan", "s.json", "s.ply")]
    write_exports(files, scene, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.chan", "s.glb", "s.json", "s.ply"]
    assert json.loads((tmp_path / "s.json").read_text())["frames"][0]["file_path"] == "frame.1001.png"
