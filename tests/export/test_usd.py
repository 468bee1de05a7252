"""The USD export, read back with usd-core: its own validators (all registered ones) find no
error, and the stage's camera, evaluated by USD itself (Gf.Camera frustum), projects the scene
onto the same pixels as stillcam's camera on every frame.

Why usd-core and not Blender: Debian's blender is built without USD, and the PyPI ``bpy``
wheel (Blender with USD) is about 1 GB more to install in CI for a check that usd-core's
reference implementation of the format makes directly."""

from pathlib import Path

import numpy as np
import pytest

from stillcam import RenderOptions
from stillcam.camera.plan import ShotSettings
from stillcam.conventions import GLTF_FROM_OPENCV
from stillcam.errors import MissingExtraError
from stillcam.example.procedural import example_inputs
from stillcam.export import check_exports
from stillcam.export.gltf import yfov
from stillcam.pipeline import plan_shot
from stillcam.render.frame import project_vertices

pxr = pytest.importorskip("pxr", reason="usd-core not installed (extra 'usd')")
from pxr import Usd, UsdGeom, UsdShade, UsdValidation  # noqa: E402


@pytest.fixture(scope="module")
def stage_and_shot(tmp_path_factory):
    from stillcam.export.usd import write_usd

    folder = tmp_path_factory.mktemp("usd")
    picture, depth = example_inputs(160, 90)
    move = "dolly-zoom(fraction=0.1) + orbit(degrees=8)"
    options = RenderOptions(shot=ShotSettings(move=move, size="160x90", duration=0.5, fps="23.976"))
    scene, path, _ = plan_shot(picture, depth, options)
    write_usd(scene, path, folder / "shot.usda")
    return Usd.Stage.Open(str(folder / "shot.usda")), scene, path, folder


def test_usd_validators_find_no_error(stage_and_shot):
    stage, *_ = stage_and_shot
    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    errors = UsdValidation.ValidationContext(validators).Validate(stage)
    assert [e.GetMessage() for e in errors] == []


def test_usd_stage_units_and_time_range(stage_and_shot):
    stage, scene, path, folder = stage_and_shot
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y
    assert UsdGeom.GetStageMetersPerUnit(stage) == 0.01
    assert stage.GetStartTimeCode() == 1001 and stage.GetEndTimeCode() == 1001 + len(path) - 1
    assert stage.GetTimeCodesPerSecond() == pytest.approx(24000 / 1001)
    photo = UsdGeom.Mesh(stage.GetPrimAtPath("/stillcam/photo"))
    points = np.array(photo.GetPointsAttr().Get())
    assert len(points) > 0 and len(photo.GetFaceVertexCountsAttr().Get()) > 0
    # Centimetres, glTF axes (+Y up): the photo layer's vertices, scaled.
    used = np.unique(scene.triangles[: len(scene.triangles) - scene.background_triangles])
    want = scene.vertices[used] @ GLTF_FROM_OPENCV.T * 100
    np.testing.assert_allclose(points, want, rtol=1e-6, atol=1e-4)
    material, _ = UsdShade.MaterialBindingAPI(photo.GetPrim()).ComputeBoundMaterial()
    assert material.GetPath() == "/stillcam/photo_material"
    assert (folder / "shot.atlas.jpg").stat().st_size > 0


def test_usd_camera_projects_like_stillcams(stage_and_shot):
    stage, scene, path, _ = stage_and_shot
    usd_camera = UsdGeom.Camera(stage.GetPrimAtPath("/stillcam/camera"))
    points = scene.vertices[:: max(1, len(scene.vertices) // 200)].astype(np.float64)
    world = np.c_[points @ GLTF_FROM_OPENCV.T * 100, np.ones(len(points))]  # cm, row vectors
    for index in (0, len(path) // 2, len(path) - 1):
        camera = path.cameras[index]
        frustum = usd_camera.GetCamera(Usd.TimeCode(path.first_frame + index)).frustum
        clip = world @ np.array(frustum.ComputeViewMatrix()) @ np.array(frustum.ComputeProjectionMatrix())
        ndc = clip[:, :2] / clip[:, 3:]
        pixels = np.c_[(ndc[:, 0] + 1) / 2 * camera.width - 0.5, (1 - ndc[:, 1]) / 2 * camera.height - 0.5]
        want = project_vertices(points, camera)
        visible = want[:, 2] > 0.1
        np.testing.assert_allclose(pixels[visible], want[visible, :2], atol=1e-3)  # pixels
        fov = usd_camera.GetCamera(Usd.TimeCode(path.first_frame + index)).GetFieldOfView(
            pxr.Gf.Camera.FOVVertical
        )
        assert fov == pytest.approx(np.degrees(yfov(camera)), abs=1e-4)


def test_usd_export_names_its_extra_when_missing(monkeypatch, tmp_path: Path):
    import builtins

    real_import = builtins.__import__

    def no_pxr(name, *args, **kwargs):
        if name == "pxr" or name.startswith("pxr."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pxr)
    with pytest.raises(MissingExtraError, match=r"stillcam\[usd\]"):
        check_exports([tmp_path / "s.usda"], overwrite=False)


def test_an_existing_atlas_is_not_overwritten(tmp_path: Path):
    from stillcam.errors import OutputError

    (tmp_path / "s.atlas.jpg").write_bytes(b"keep")
    with pytest.raises(OutputError, match=r"s\.atlas\.jpg: already exists"):
        check_exports([tmp_path / "s.usda"], overwrite=False)
