"""The OpenGL backend (moderngl on EGL; Mesa's llvmpipe here) against the reference."""

import numpy as np
import pytest

from helpers import psnr
from stillcam.camera import pose_from, rotation_y
from stillcam.errors import InputError
from stillcam.example.procedural import example_camera
from stillcam.render import RenderSettings, get_renderer
from stillcam.scene import SceneSettings, build_scene

pytest.importorskip("moderngl")
gl = pytest.importorskip("stillcam.render.gl")
try:
    CONTEXT = gl.create_context()
except InputError as exc:  # no EGL driver on this machine
    pytest.skip(str(exc), allow_module_level=True)

POSE = pose_from(rotation_y(-4.0), np.array([0.3, -0.1, 0.4]))


@pytest.fixture(scope="module")
def scene(small_example):
    picture, depth = small_example
    return build_scene(picture, depth, example_camera(160, 90), SceneSettings(stride=1, snap_edges=False))


def _gl(supersample=1):
    return gl.GlRenderer(RenderSettings("gl", supersample), CONTEXT)


@pytest.mark.parametrize("supersample", [1, 2])
def test_gl_matches_reference(scene, supersample):
    camera = scene.camera.zoomed(1.1).with_pose(POSE)
    ref = get_renderer(RenderSettings("reference", supersample)).render(scene, camera)
    out = _gl(supersample).render(scene, camera)
    assert out.rgb.shape == ref.rgb.shape == (90, 160, 3)
    # Tolerance: coverage equal on >= 99.5 % of pixels, colour within 1e-3 there (float32
    # vertices on the GPU, triangles grown by EDGE_EPS_PX to match inclusive edges).
    assert np.isclose(out.alpha, ref.alpha, atol=1e-6).mean() >= 0.995
    assert (np.abs(out.rgb - ref.rgb).max(axis=-1) <= 1e-3).mean() >= 0.995
    finite = np.isfinite(ref.depth) & np.isfinite(out.depth)
    relative = np.abs(out.depth[finite] - ref.depth[finite]) / ref.depth[finite]
    assert (relative <= 1e-4).mean() >= 0.995 and relative.max() < 1e-3


def test_gl_source_view_reproduces_the_photo(scene, small_example):
    picture, _ = small_example
    frame = _gl().render(scene, scene.camera)
    covered = frame.alpha == 1.0
    assert covered.mean() > 0.99
    assert psnr(frame.rgb[covered], picture.pixels[covered]) > 50


def test_gl_is_deterministic(scene):
    renderer = _gl()
    camera = scene.camera.with_pose(POSE)
    a, b = renderer.render(scene, camera), renderer.render(scene, camera)
    assert a.rgb.tobytes() == b.rgb.tobytes() and a.depth.tobytes() == b.depth.tobytes()


def test_gl_refuses_soft_edges(small_example):
    picture, depth = small_example
    soft = build_scene(picture, depth, example_camera(160, 90), SceneSettings(stride=1, soft_edge=0.5))
    with pytest.raises(InputError, match="soft edges"):
        _gl().render(soft, soft.camera)


def test_auto_picks_gl_only_on_a_gpu():
    from stillcam.render.registry import renderer_name

    expected = "gl" if gl.is_hardware(CONTEXT) else "cpu"
    assert renderer_name(get_renderer(RenderSettings("auto"))) == expected


def test_cli_render_with_gl_and_auto_recorded(tmp_path, photo_files, capsys):
    import json

    from stillcam.cli import main

    photo, depth = photo_files
    frames = {}
    for name in ("gl", "cpu", "auto"):
        argv = [
            "render",
            str(photo),
            "--depth",
            str(depth),
            "-o",
            str(tmp_path / f"{name}.####.png"),
            "--renderer",
            name,
            "--size",
            "64x36",
            "--duration",
            "0.25",
            "--fps",
            "12",
            "--quiet",
        ]
        with pytest.raises(SystemExit) as code:
            main(argv)
        assert code.value.code == 0, capsys.readouterr().err
        import cv2

        frames[name] = cv2.imread(str(tmp_path / f"{name}.1003.png")).astype(np.float64) / 255
    assert psnr(frames["gl"], frames["cpu"]) > 40
    recipe = json.loads((tmp_path / "auto.png.recipe.json").read_text())
    assert recipe["options"]["render"]["renderer"] in ("gl", "cpu")  # what auto resolved to
