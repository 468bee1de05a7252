"""The scene and the shot's camera as binary glTF 2.0 (``.glb``), written with pygltflib.

Content: one node per layer ("photo" and, when the scene has one, "background"), sharing
one vertex buffer; an unlit material (``KHR_materials_unlit``) with the scene's texture atlas
as a JPEG (quality 95, 8-bit); a perspective camera node "camera" animated per frame
(translation and rotation samplers, LINEAR, one key per frame at t = index / fps).

Axes (docs/conventions.md): glTF is +Y up, metres, cameras look down -Z. stillcam's world
(OpenCV axes, y down) maps to glTF by G = diag(1, -1, -1): p_gltf = G p; a camera-to-world
pose P becomes G P G (G on the left converts the world, on the right the camera axes).

Limits of the format, stated: glTF's camera has one vertical field of view and no principal
point offset, so a zoom's changing field of view is in ``extras.yfov_per_frame`` (radians,
one per frame) and the node's camera carries the first frame's; a shifted principal point
(off-centre crops) is not represented.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from ..camera.path import CameraPath
from ..conventions import GLTF_FROM_OPENCV
from ..io.files import write_bytes_atomic
from ..scene.mesh import Scene
from ..scene.texture import TEXTURE_MAX

#: Largest texture side written; bigger atlases are scaled down (viewers and GPUs refuse
#: textures over 16384 px; 8192 is the safe common limit).
MAX_TEXTURE_PX = 8192
JPEG_QUALITY = 95


def gltf_pose(pose: np.ndarray) -> np.ndarray:
    """stillcam camera-to-world (4x4, OpenCV axes) -> glTF camera node matrix (4x4)."""
    g = np.eye(4)
    g[:3, :3] = GLTF_FROM_OPENCV
    return g @ pose @ g


def _quaternion_xyzw(rotation: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(rotation).as_quat()  # x, y, z, w as glTF wants


def yfov(camera) -> float:
    """Vertical field of view in radians of a :class:`~stillcam.camera.Camera`."""
    return 2.0 * math.atan(camera.height / (2.0 * camera.fy))


def texture_jpeg(texture: np.ndarray) -> tuple[bytes, float]:
    """The atlas as an 8-bit JPEG, and the scale applied to fit MAX_TEXTURE_PX."""
    from PIL import Image

    eight = (texture.astype(np.uint32) * 255 + TEXTURE_MAX // 2) // TEXTURE_MAX
    image = Image.fromarray(eight.astype(np.uint8), "RGB")
    scale = min(1.0, MAX_TEXTURE_PX / max(image.size))
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    return out.getvalue(), scale


def glb_bytes(scene: Scene, camera_path: CameraPath) -> bytes:
    """The ``.glb`` file content for ``scene`` seen along ``camera_path`` (module docstring)."""
    import pygltflib as g

    positions = (scene.vertices.astype(np.float64) @ GLTF_FROM_OPENCV.T).astype(np.float32)
    th, tw = scene.texture.shape[:2]
    # glTF UV (0, 0) is the image's top-left corner; stillcam's uvs are texel centres.
    texcoords = ((scene.uvs + 0.5) / np.array([tw, th], np.float32)).astype(np.float32)
    n_main = len(scene.triangles) - scene.background_triangles
    layers = [("photo", scene.triangles[:n_main])]
    if scene.background_triangles:
        layers.append(("background", scene.triangles[n_main:]))

    blob = bytearray()
    views: list[g.BufferView] = []

    def add_view(data: bytes, target: int | None = None) -> int:
        while len(blob) % 4:
            blob.append(0)
        views.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(data), target=target))
        blob.extend(data)
        return len(views) - 1

    accessors: list[g.Accessor] = []

    def add_accessor(array: np.ndarray, kind: str, component: int, target: int | None = None, **extra) -> int:
        view = add_view(np.ascontiguousarray(array).tobytes(), target)
        accessors.append(
            g.Accessor(bufferView=view, componentType=component, count=len(array), type=kind, **extra)
        )
        return len(accessors) - 1

    position = add_accessor(
        positions,
        g.VEC3,
        g.FLOAT,
        g.ARRAY_BUFFER,
        min=positions.min(axis=0).tolist(),
        max=positions.max(axis=0).tolist(),
    )
    texcoord = add_accessor(texcoords, g.VEC2, g.FLOAT, g.ARRAY_BUFFER)
    meshes, nodes = [], []
    for name, triangles in layers:
        indices = add_accessor(
            triangles.astype(np.uint32).ravel(), g.SCALAR, g.UNSIGNED_INT, g.ELEMENT_ARRAY_BUFFER
        )
        primitive = g.Primitive(
            attributes=g.Attributes(POSITION=position, TEXCOORD_0=texcoord), indices=indices
        )
        primitive.material = 0
        meshes.append(g.Mesh(name=name, primitives=[primitive]))
        nodes.append(g.Node(name=name, mesh=len(meshes) - 1))
    jpeg, _ = texture_jpeg(scene.texture)
    image_view = add_view(jpeg)

    # The camera: TRS keys per frame.
    cameras = camera_path.cameras
    matrices = [gltf_pose(c.pose) for c in cameras]
    times = (np.arange(len(cameras), dtype=np.float64) / float(camera_path.fps)).astype(np.float32)
    translations = np.array([m[:3, 3] for m in matrices], np.float32)
    rotations = np.array([_quaternion_xyzw(m[:3, :3]) for m in matrices], np.float64)
    for i in range(1, len(rotations)):  # shortest arcs between keys
        if np.dot(rotations[i - 1], rotations[i]) < 0:
            rotations[i] = -rotations[i]
    rotations = rotations.astype(np.float32)
    first = cameras[0]
    node_camera = g.Node(
        name="camera",
        camera=0,
        translation=translations[0].tolist(),
        rotation=rotations[0].tolist(),
    )
    nodes.append(node_camera)
    camera_index = len(nodes) - 1
    time_accessor = add_accessor(times, g.SCALAR, g.FLOAT, min=[float(times[0])], max=[float(times[-1])])
    translation_accessor = add_accessor(translations, g.VEC3, g.FLOAT)
    rotation_accessor = add_accessor(rotations, g.VEC4, g.FLOAT)
    animation = g.Animation(
        name="shot",
        samplers=[
            g.AnimationSampler(input=time_accessor, output=translation_accessor, interpolation="LINEAR"),
            g.AnimationSampler(input=time_accessor, output=rotation_accessor, interpolation="LINEAR"),
        ],
        channels=[
            g.AnimationChannel(
                sampler=0, target=g.AnimationChannelTarget(node=camera_index, path="translation")
            ),
            g.AnimationChannel(
                sampler=1, target=g.AnimationChannelTarget(node=camera_index, path="rotation")
            ),
        ],
    )
    gltf = g.GLTF2(
        asset=g.Asset(generator="stillcam", version="2.0"),
        scene=0,
        scenes=[g.Scene(name="stillcam", nodes=list(range(len(nodes))))],
        nodes=nodes,
        meshes=meshes,
        cameras=[
            g.Camera(
                name="shot camera",
                type="perspective",
                perspective=g.Perspective(
                    yfov=yfov(first), aspectRatio=first.width / first.height, znear=0.01, zfar=10000.0
                ),
            )
        ],
        materials=[
            g.Material(
                name="photo",
                pbrMetallicRoughness=g.PbrMetallicRoughness(
                    baseColorTexture=g.TextureInfo(index=0), metallicFactor=0.0, roughnessFactor=1.0
                ),
                doubleSided=True,
                extensions={"KHR_materials_unlit": {}},
            )
        ],
        textures=[g.Texture(sampler=0, source=0)],
        samplers=[
            g.Sampler(
                magFilter=g.LINEAR,
                minFilter=g.LINEAR_MIPMAP_LINEAR,
                wrapS=g.CLAMP_TO_EDGE,
                wrapT=g.CLAMP_TO_EDGE,
            )
        ],
        images=[g.Image(bufferView=image_view, mimeType="image/jpeg", name="atlas")],
        animations=[animation],
        accessors=accessors,
        bufferViews=views,
        buffers=[g.Buffer(byteLength=len(blob))],
        extensionsUsed=["KHR_materials_unlit"],
        extras={
            "stillcam": {
                "fps": f"{camera_path.fps.numerator}/{camera_path.fps.denominator}",
                "first_frame": camera_path.first_frame,
                "yfov_per_frame": [yfov(c) for c in cameras],
                "axes": "glTF: +Y up, metres; world = stillcam world rotated 180 deg about x",
            }
        },
    )
    gltf.set_binary_blob(bytes(blob))
    return b"".join(gltf.save_to_bytes())


def write_glb(scene: Scene, camera_path: CameraPath, file: str | Path) -> None:
    """Write :func:`glb_bytes` to ``file`` (temporary file, then rename)."""
    write_bytes_atomic(Path(file), glb_bytes(scene, camera_path), "glTF scene")
