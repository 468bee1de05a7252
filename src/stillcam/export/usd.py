"""The scene and the shot's camera as USD (``.usda`` text or ``.usdc`` binary), with usd-core
(extra ``usd``).

Stage: ``upAxis`` Y, ``metersPerUnit`` 0.01 (centimetres, as Maya and Blender's USD tools
expect), ``startTimeCode``/``endTimeCode`` = the shot's first and last frame numbers,
``timeCodesPerSecond`` = its frame rate. Under ``/stillcam``:

* ``photo`` and ``background`` meshes (points in cm, world axes as glTF's: +Y up; ``st``
  texture coordinates per vertex, origin bottom-left as USD wants), bound to a
  UsdPreviewSurface material whose ``diffuseColor`` reads the atlas, written as a JPEG beside
  the stage (``<name>.atlas.jpg``, referenced by relative path);
* ``camera``: a ``UsdGeom.Camera`` with a time-sampled transform per frame and the lens in
  millimetres (tenths of the stage unit, USD's rule): ``focalLength`` per frame, horizontal
  and vertical aperture of the frame's 35 mm-equivalent filmback (diagonal 43.27 mm, the
  frame's aspect: docs/conventions.md) and the principal point as aperture offsets; with
  depth of field (``--fstop``), ``fStop`` and ``focusDistance`` (stage units, cm);
* with ``--stereo``, ``camera_left`` and ``camera_right`` beside it: the rig's eye cameras
  (:mod:`stillcam.camera.stereo`), ``stereoRole`` ``left`` / ``right`` (the centre camera
  ``mono``), each with its own transform and lens, the horizontal image translation in its
  ``horizontalApertureOffset``, and the centre's ``fStop`` and ``focusDistance``.

Transforms are written as USD stores them: matrices for row vectors (the transpose of
stillcam's column-vector matrices).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..camera.camera import Camera
from ..camera.path import CameraPath
from ..camera.stereo import EYES, StereoRig, eye_camera
from ..conventions import GLTF_FROM_OPENCV, mm_per_pixel
from ..errors import OutputError, missing_extra
from ..io.files import make_partial, publish, write_bytes_atomic
from ..scene.mesh import Scene
from .gltf import gltf_pose, texture_jpeg

#: Stage unit: centimetres.
METERS_PER_UNIT = 0.01
CM_PER_M = 1.0 / METERS_PER_UNIT


def lens_mm(camera: Camera) -> dict[str, float]:
    """USD camera lens attributes in mm for ``camera``: focal length, apertures, offsets."""
    mm_per_px = mm_per_pixel(camera.width, camera.height)
    return {
        "focalLength": camera.fx * mm_per_px,
        "horizontalAperture": camera.width * mm_per_px,
        "verticalAperture": camera.height * mm_per_px,
        # Offsets of the principal point from the frame's centre, y up.
        "horizontalApertureOffset": (camera.cx - (camera.width - 1) / 2) * mm_per_px,
        "verticalApertureOffset": -(camera.cy - (camera.height - 1) / 2) * mm_per_px,
    }


def usd_camera_matrix(camera: Camera) -> np.ndarray:
    """Camera-to-world 4x4 (column vectors) in the stage's axes and centimetres."""
    matrix = gltf_pose(camera.pose)
    matrix[:3, 3] *= CM_PER_M
    return matrix


def atlas_path(stage: Path) -> Path:
    """The texture a USD stage references, written beside it."""
    return stage.with_name(f"{stage.stem}.atlas.jpg")


def import_pxr():
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade, Vt
    except ImportError:
        raise missing_extra("usd-core (for .usda/.usdc exports)", "usd") from None
    return Gf, Sdf, Usd, UsdGeom, UsdShade, Vt


def _define_eye_cameras(stage, centre_prim, camera_path: CameraPath, rig: StereoRig | None) -> None:
    """With a ``rig``: ``/stillcam/camera_left`` and ``camera_right``, the rig's eyes,
    time-sampled like the centre camera (transform and lens per frame), ``stereoRole`` set
    (the centre's ``mono``). Nothing without."""
    from pxr import Gf, UsdGeom

    if rig is None:
        return
    centre_prim.CreateStereoRoleAttr(UsdGeom.Tokens.mono)
    for eye in EYES:
        prim = UsdGeom.Camera.Define(stage, f"/stillcam/camera_{eye}")
        prim.CreateStereoRoleAttr(eye)
        transform = prim.AddTransformOp()
        for number, centre in zip(camera_path.frame_numbers, camera_path.cameras, strict=True):
            camera = eye_camera(centre, rig, eye)
            transform.Set(Gf.Matrix4d(usd_camera_matrix(camera).T.tolist()), number)
            for key, value in lens_mm(camera).items():
                prim.GetPrim().GetAttribute(key).Set(float(value), number)
        prim.CreateClippingRangeAttr(Gf.Vec2f(1.0, 1.0e6))
        for name in ("fStop", "focusDistance"):  # depth of field: the centre's (a parallel rig)
            _copy_attribute(centre_prim.GetPrim().GetAttribute(name), prim.GetPrim().GetAttribute(name))


def _copy_attribute(source, target) -> None:
    """``source``'s authored value and time samples onto ``target`` (nothing when unauthored)."""
    if not source.HasAuthoredValue():
        return
    samples = source.GetTimeSamples()
    if not samples:
        target.Set(source.Get())
    for time in samples:
        target.Set(source.Get(time), time)


def write_usd(
    scene: Scene,
    camera_path: CameraPath,
    file: str | Path,
    *,
    lens: tuple[float, float] | None = None,
    stereo: StereoRig | None = None,
) -> None:
    """Write the stage (module docstring) to ``file`` (``.usda`` or ``.usdc``) and its atlas
    beside it, each through a temporary file renamed into place. ``lens``: (f-number, focus
    distance in metres) of the render's depth of field, or None without; the cameras' own
    ``fstop`` and ``focus_m`` (a focus pull, keyframed lens values) take their place, time-sampled
    per frame when they change."""
    Gf, Sdf, Usd, UsdGeom, UsdShade, Vt = import_pxr()
    file = Path(file)
    texture_name = atlas_path(file).name

    folder = make_partial(file)  # named after the output and this process (io/files.py)
    tmp = folder / file.name
    try:
        stage = Usd.Stage.CreateNew(str(tmp))
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
        UsdGeom.SetStageMetersPerUnit(stage, METERS_PER_UNIT)
        first, last = camera_path.first_frame, camera_path.first_frame + len(camera_path) - 1
        stage.SetStartTimeCode(first)
        stage.SetEndTimeCode(last)
        stage.SetTimeCodesPerSecond(float(camera_path.fps))
        stage.SetFramesPerSecond(float(camera_path.fps))
        root = UsdGeom.Xform.Define(stage, "/stillcam")
        stage.SetDefaultPrim(root.GetPrim())

        material = UsdShade.Material.Define(stage, "/stillcam/photo_material")
        shader = UsdShade.Shader.Define(stage, "/stillcam/photo_material/surface")
        shader.CreateIdAttr("UsdPreviewSurface")
        shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(1.0)
        reader = UsdShade.Shader.Define(stage, "/stillcam/photo_material/st_reader")
        reader.CreateIdAttr("UsdPrimvarReader_float2")
        reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set("st")
        image = UsdShade.Shader.Define(stage, "/stillcam/photo_material/atlas")
        image.CreateIdAttr("UsdUVTexture")
        image.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(f"./{texture_name}")
        image.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB")
        image.CreateInput("wrapS", Sdf.ValueTypeNames.Token).Set("clamp")
        image.CreateInput("wrapT", Sdf.ValueTypeNames.Token).Set("clamp")
        image.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
        image.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(
            image.ConnectableAPI(), "rgb"
        )
        material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")

        points = (scene.vertices.astype(np.float64) @ GLTF_FROM_OPENCV.T) * CM_PER_M
        th, tw = scene.texture.shape[:2]
        st = np.stack([(scene.uvs[:, 0] + 0.5) / tw, 1.0 - (scene.uvs[:, 1] + 0.5) / th], axis=1)
        n_main = len(scene.triangles) - scene.background_triangles
        layers = [("photo", scene.triangles[:n_main]), ("background", scene.triangles[n_main:])]
        for name, triangles in layers:
            if not len(triangles):
                continue
            used, remap = np.unique(triangles, return_inverse=True)
            mesh = UsdGeom.Mesh.Define(stage, f"/stillcam/{name}")
            mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points[used].astype(np.float32)))
            mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(triangles), 3, np.int32)))
            mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(remap.reshape(-1).astype(np.int32)))
            mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
            mesh.CreateDoubleSidedAttr(True)
            lo, hi = points[used].min(axis=0), points[used].max(axis=0)
            mesh.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*lo), Gf.Vec3f(*hi)]))
            primvar = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar(
                "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex
            )
            primvar.Set(Vt.Vec2fArray.FromNumpy(st[used].astype(np.float32)))
            UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(material)

        camera_prim = UsdGeom.Camera.Define(stage, "/stillcam/camera")
        transform = camera_prim.AddTransformOp()
        lens_attrs = {}
        for number, camera in zip(camera_path.frame_numbers, camera_path.cameras, strict=True):
            transform.Set(Gf.Matrix4d(usd_camera_matrix(camera).T.tolist()), number)
            for key, value in lens_mm(camera).items():
                if key not in lens_attrs:
                    lens_attrs[key] = camera_prim.GetPrim().GetAttribute(key)
                lens_attrs[key].Set(float(value), number)
        camera_prim.CreateClippingRangeAttr(Gf.Vec2f(1.0, 1.0e6))
        if lens is not None:  # per frame when a focus pull or keyframed f-stops change them
            fstops = [c.fstop if c.fstop is not None else lens[0] for c in camera_path.cameras]
            focus = [c.focus_m if c.focus_m is not None else lens[1] for c in camera_path.cameras]
            for attr, values, scale in (
                (camera_prim.CreateFStopAttr(), fstops, 1.0),
                (camera_prim.CreateFocusDistanceAttr(), focus, CM_PER_M),
            ):
                if len(set(values)) == 1:
                    attr.Set(float(values[0] * scale))
                else:
                    for number, value in zip(camera_path.frame_numbers, values, strict=True):
                        attr.Set(float(value * scale), number)
        _define_eye_cameras(stage, camera_prim, camera_path, stereo)  # --stereo: the eyes beside it
        stage.GetRootLayer().documentation = "stillcam scene and shot camera (docs/delivery.md)"
        stage.GetRootLayer().Save()
        del stage
        # The atlas last but one, the stage last: a failure before leaves neither behind.
        write_bytes_atomic(file.with_name(texture_name), texture_jpeg(scene.texture)[0], "USD texture")
        publish(tmp, file)
    except Exception as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"{file}: USD stage could not be written ({exc})") from exc
    finally:  # also on Ctrl-C, SIGTERM, SIGHUP
        shutil.rmtree(folder, ignore_errors=True)
