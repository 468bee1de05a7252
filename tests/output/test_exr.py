"""EXR sequences read back with OpenEXR: channels, compression, scene-linear colour (against
the PNG render of the same shot), Z = camera depth, and camera attributes that project the
scene onto its pixels."""

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

from stillcam import RenderOptions
from stillcam.camera.camera import Camera
from stillcam.camera.plan import ShotSettings
from stillcam.conventions import GLTF_FROM_OPENCV
from stillcam.errors import InputError
from stillcam.output.colour import OCIO_CONFIG, linear_from_srgb
from stillcam.output.frames import shaded_frame
from stillcam.pipeline import demo, demo_inputs, plan_shot
from stillcam.render import get_renderer

SIZE = "160x90"


def _options(**output) -> RenderOptions:
    options = RenderOptions(shot=ShotSettings(move="orbit(degrees=8)", size=SIZE, duration=3 / 24, fps="24"))
    return replace(options, output=replace(options.output, **output))


@pytest.fixture(scope="module")
def exr_and_png(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exr")
    demo(folder / "s.####.exr", _options(), example_size=SIZE)
    demo(folder / "p.####.png", _options(bit_depth=16), example_size=SIZE)
    return folder


def _read(path: Path):
    with OpenEXR.File(str(path), separate_channels=True) as file:  # copies: the file's go on exit
        header = {
            key: np.array(value) if isinstance(value, np.ndarray) else value
            for key, value in file.header().items()
        }
        return header, {name: np.array(channel.pixels) for name, channel in file.channels().items()}


def test_exr_frames_are_numbered_half_rgba_with_float_z(exr_and_png):
    names = sorted(p.name for p in exr_and_png.iterdir() if p.suffix == ".exr")
    assert names == ["s.1001.exr", "s.1002.exr", "s.1003.exr"]
    header, channels = _read(exr_and_png / "s.1002.exr")
    assert {k: v.dtype for k, v in channels.items()} == {
        "R": np.float16,
        "G": np.float16,
        "B": np.float16,
        "A": np.float16,
        "Z": np.float32,
    }
    assert header["compression"] == OpenEXR.ZIP_COMPRESSION
    assert header["chromaticities"] == pytest.approx((0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290))
    assert float(header["framesPerSecond"]) == 24.0
    recipe = json.loads((exr_and_png / "s.exr.recipe.json").read_text())
    assert recipe["output"]["colour"] == {"space": "lin_rec709"}


def test_exr_colour_is_the_png_frame_decoded_to_linear_light(exr_and_png):
    _, channels = _read(exr_and_png / "s.1002.exr")
    png = cv2.imread(str(exr_and_png / "p.1002.png"), cv2.IMREAD_UNCHANGED)[..., ::-1] / 65535  # 16-bit
    linear = np.stack([channels[c] for c in "RGB"], -1).astype(np.float64)
    assert (channels["A"] == 1).all()  # the fill covers every pixel
    # Half floats keep 11 significant bits: relative error <= 2^-11, plus the PNG's 16-bit steps.
    np.testing.assert_allclose(linear, linear_from_srgb(png), rtol=2**-10, atol=1e-4)


def test_exr_z_and_camera_attributes_project_the_scene_onto_its_pixels(exr_and_png):
    header, channels = _read(exr_and_png / "s.1003.exr")
    options = _options()
    picture, depth, _ = demo_inputs(SIZE, options)
    scene, path, _ = plan_shot(picture, depth, options)
    camera: Camera = path.cameras[2]
    frame = shaded_frame(get_renderer(options.render), scene, camera, fill=options.scene.fills)
    np.testing.assert_array_equal(channels["Z"], frame.depth)
    # Unproject some pixels with their Z, move them to the exports' world (glTF axes), and
    # check that the file's matrices (Imath row-vector layout) send them back to those pixels.
    ys, xs = np.mgrid[5:90:20, 7:160:30].reshape(2, -1)
    z = channels["Z"][ys, xs].astype(np.float64)
    camera_points = np.stack(
        [(xs - camera.cx) / camera.fx * z, (ys - camera.cy) / camera.fy * z, z, np.ones_like(z)]
    )
    world = camera.pose @ camera_points
    world[:3] = GLTF_FROM_OPENCV @ world[:3]
    ndc = world.T @ header["worldToNDC"].astype(np.float64)
    ndc = ndc[:, :2] / ndc[:, 3:]
    np.testing.assert_allclose(ndc[:, 0], (xs + 0.5) / camera.width, atol=1e-5)
    np.testing.assert_allclose(ndc[:, 1], (ys + 0.5) / camera.height, atol=1e-5)
    in_camera = world.T @ header["worldToCamera"].astype(np.float64)  # x right, y up, z forward
    np.testing.assert_allclose(in_camera[:, 2], z, rtol=1e-5)
    np.testing.assert_allclose(in_camera[:, 1], -camera_points[1], atol=1e-4 * z.max())


def test_acescg_frames_go_through_opencolorio(tmp_path: Path, exr_and_png):
    ocio = pytest.importorskip("PyOpenColorIO")
    demo(tmp_path / "a.####.exr", _options(output_colorspace="ACEScg"), example_size=SIZE)
    header, channels = _read(tmp_path / "a.1002.exr")
    _, linear = _read(exr_and_png / "s.1002.exr")
    config = ocio.Config.CreateFromBuiltinConfig(OCIO_CONFIG)
    processor = config.getProcessor("Linear Rec.709 (sRGB)", "ACEScg").getDefaultCPUProcessor()
    rec709 = np.ascontiguousarray(np.stack([linear[c] for c in "RGB"], -1).astype(np.float32).reshape(-1, 3))
    processor.applyRGB(rec709)
    aces = np.stack([channels[c] for c in "RGB"], -1).reshape(-1, 3).astype(np.float32)
    np.testing.assert_allclose(aces, rec709, rtol=2**-9, atol=2e-4)
    assert header["chromaticities"] == pytest.approx(
        (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767)
    )
    colour = json.loads((tmp_path / "a.exr.recipe.json").read_text())["output"]["colour"]
    assert colour["space"] == "ACEScg" and colour["ocio_config"] == OCIO_CONFIG


def test_srgb_decoding_matches_opencolorio():
    ocio = pytest.importorskip("PyOpenColorIO")
    values = np.linspace(0, 1, 1001, dtype=np.float32)
    rgb = np.ascontiguousarray(np.repeat(values[:, None], 3, 1))
    config = ocio.Config.CreateFromBuiltinConfig(OCIO_CONFIG)
    processor = config.getProcessor("sRGB Encoded Rec.709 (sRGB)", "Linear Rec.709 (sRGB)")
    processor.getDefaultCPUProcessor().applyRGB(rgb)
    # OCIO uses the continuous form of the curve (toe slope 12.923 instead of the standard's
    # 12.92) and a fast pow: within 2.5e-4 relative in the toe, 3e-5 above it.
    np.testing.assert_allclose(linear_from_srgb(values), rgb[:, 0], rtol=3e-4, atol=1e-7)


def test_colourspace_is_for_exr_only(tmp_path: Path):
    with pytest.raises(InputError, match="EXR"):
        demo(tmp_path / "v.mp4", _options(output_colorspace="ACEScg"), example_size=SIZE)
    assert list(tmp_path.iterdir()) == []
