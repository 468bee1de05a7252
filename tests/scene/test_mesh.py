import numpy as np

from stillcam.camera import Camera
from stillcam.depth import DepthMap
from stillcam.io import picture_from_array
from stillcam.render.frame import project_vertices
from stillcam.scene import SceneSettings, auto_stride, build_scene


def _scene(z, stride=1):
    h, w = z.shape
    picture = picture_from_array(np.zeros((h, w, 3), np.uint8))
    camera = Camera.from_focal_mm(w, h, 35.0)
    return build_scene(
        picture, DepthMap(z.astype(np.float32), "t", "x"), camera, SceneSettings(stride=stride)
    )


def test_vertices_project_back_to_their_pixels():
    z = np.random.default_rng(0).uniform(2, 3, (12, 16)).astype(np.float32)
    scene = _scene(z)
    pixels = project_vertices(scene.vertices, scene.camera)
    np.testing.assert_allclose(pixels[:, :2], scene.uvs - scene.ring_px, atol=1e-4)


def test_tilted_ground_plane_is_not_cut_but_a_depth_step_is():
    h, w = 60, 80
    camera = Camera.from_focal_mm(w, h, 35.0)
    # A plane seen at a grazing angle: 1/z is linear in the row (1 m to ~12 m away).
    rows = np.arange(h, dtype=np.float64)[:, None] + 5.0
    ground = np.broadcast_to(camera.fy * 0.1 / rows, (h, w)).astype(np.float32)
    assert ground.max() / ground.min() > 10
    assert _scene(ground).cut_triangles == 0
    step = np.full((h, w), 10.0, np.float32)
    step[:, : w // 2] = 2.0
    # One column of cells crosses the step: two triangles in each of the h + 1 cell rows.
    assert _scene(step).cut_triangles == 2 * (h + 1)


def test_auto_stride_keeps_a_few_million_triangles():
    assert auto_stride(4000, 3000) == 3
    assert auto_stride(100, 100) == 1
    scene = _scene(np.full((20, 30), 2.0), stride=4)
    assert scene.stride == 4 and scene.triangles.max() < len(scene.vertices)
