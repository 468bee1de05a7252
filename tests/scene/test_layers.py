"""Layered scene on a synthetic box in front of a textured wall, with exact geometry."""

import numpy as np
import pytest

from stillcam.camera import Camera, pose_from, rotation_y
from stillcam.depth import DepthMap
from stillcam.io import picture_from_array
from stillcam.render import RenderSettings, get_renderer
from stillcam.scene import SceneSettings, build_scene
from stillcam.scene.layers import reach_of

W, H = 120, 80
WALL_Z, BOX_Z = 4.0, 2.0
BOX = (slice(25, 55), slice(45, 75))  # rows, cols of the box in the photo


def _wall_texture(h, w):
    """Blue-green wall with a smooth two-frequency pattern; no red."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    pattern = 0.5 + 0.25 * np.sin(x / 3.1) * np.cos(y / 4.3)
    return np.stack([np.zeros_like(pattern), pattern, 0.3 + 0.5 * pattern], -1)


@pytest.fixture(scope="module")
def box_scene():
    rgb = _wall_texture(H, W)
    rgb[BOX] = (0.9, 0.1, 0.1)  # a red box
    z = np.full((H, W), WALL_Z, np.float32)
    z[BOX] = BOX_Z
    picture = picture_from_array(np.rint(rgb * 255).astype(np.uint8))
    camera = Camera.from_focal_mm(W, H, 35.0)
    moved = camera.with_pose(pose_from(np.eye(3), np.array([0.35, 0.1, 0.0])))
    reach = reach_of(camera, [camera, moved], z)
    scene = build_scene(picture, DepthMap(z, "box", "-"), camera, SceneSettings(stride=1), reach)
    return scene, camera, moved, rgb


def test_reach_grows_with_translation_not_rotation():
    camera = Camera.from_focal_mm(W, H, 35.0)
    z = np.full((H, W), WALL_Z, np.float32)
    z[BOX] = BOX_Z
    panned = camera.with_pose(pose_from(rotation_y(5.0), np.zeros(3)))
    assert reach_of(camera, [camera, panned], z).edge_px == 0.0
    assert reach_of(camera, [camera, panned], z).ring_px > 0.0
    small = reach_of(camera, [camera.with_pose(pose_from(np.eye(3), np.array([0.1, 0, 0])))], z)
    large = reach_of(camera, [camera.with_pose(pose_from(np.eye(3), np.array([0.3, 0, 0])))], z)
    # f * |t| * (1/2 - 1/4) pixels of gap, times the safety factor, plus padding.
    assert small.edge_px == pytest.approx(camera.fx * 0.1 * 0.25 * 1.25 + 2.0)
    assert large.edge_px > 2.5 * small.edge_px - 5.0


def test_no_triangle_spans_the_cut(box_scene):
    scene, *_ = box_scene
    assert scene.background_triangles > 0
    z = scene.vertices[:, 2][scene.triangles]
    ratio = z.max(axis=1) / z.min(axis=1)
    assert ratio.max() < 1.2  # box (2 m) and wall (4 m) are never joined


def test_moved_view_has_no_holes_and_the_revealed_wall_continues_the_wall(box_scene):
    scene, camera, moved, rgb = box_scene
    frame = get_renderer(RenderSettings("cpu")).render(scene, moved)
    assert frame.alpha.min() == 1.0  # every pixel covered by a layer (before any row fill)
    # Exact ground truth of which moved-view pixels see the wall where the box hid it.
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    t = moved.pose[:3, 3]
    # A wall point seen at (x, y) in the moved view, projected into the photo:
    wx = (xs - moved.cx) / moved.fx * WALL_Z + t[0]
    wy = (ys - moved.cy) / moved.fy * WALL_Z + t[1]
    u = wx / WALL_Z * camera.fx + camera.cx
    v = wy / WALL_Z * camera.fy + camera.cy
    hidden_in_photo = (v >= BOX[0].start - 0.5) & (v < BOX[0].stop - 0.5)
    hidden_in_photo &= (u >= BOX[1].start - 0.5) & (u < BOX[1].stop - 0.5)
    sees_wall = np.abs(frame.depth - WALL_Z) < 0.05
    revealed = hidden_in_photo & sees_wall
    assert revealed.sum() > 150  # the move opens a real gap
    colours = frame.rgb[revealed]
    wall = rgb[~np.isin(np.arange(H), np.r_[BOX[0]])[:, None] | ~np.isin(np.arange(W), np.r_[BOX[1]])]
    # Check: the revealed region continues the wall's statistics, with no box colour in it:
    # no red (the wall has none, the box is red), and its mean within 0.1 of the wall's.
    assert colours[:, 0].max() < 0.15
    np.testing.assert_allclose(colours.mean(axis=0), wall.mean(axis=0), atol=0.1)
    # Its colours stay within the wall's range (the fill invents nothing).
    assert (colours >= wall.min(axis=0) - 0.02).all() and (colours <= wall.max(axis=0) + 0.02).all()


def test_without_fill_the_gap_stays_a_hole(box_scene):
    _, camera, moved, rgb = box_scene
    z = np.full((H, W), WALL_Z, np.float32)
    z[BOX] = BOX_Z
    rgb = rgb.copy()
    rgb[BOX] = (0.9, 0.1, 0.1)
    picture = picture_from_array(np.rint(rgb * 255).astype(np.uint8))
    scene = build_scene(picture, DepthMap(z, "box", "-"), camera, SceneSettings(stride=1, fill="none"))
    frame = get_renderer(RenderSettings("cpu")).render(scene, moved)
    assert (frame.alpha == 0).sum() > 150


def test_depth_edge_a_pixel_off_snaps_onto_the_photo_edge():
    rgb = _wall_texture(H, W)
    rgb[BOX] = (0.9, 0.1, 0.1)
    z = np.full((H, W), WALL_Z, np.float32)
    # The depth map's box is one column narrower on the right than the photo's red box.
    z[BOX[0], BOX[1].start : BOX[1].stop - 1] = BOX_Z
    picture = picture_from_array(np.rint(rgb * 255).astype(np.uint8))
    camera = Camera.from_focal_mm(W, H, 35.0)
    last = BOX[1].stop - 1  # the red column the depth map calls wall
    for snap, expected in ((False, WALL_Z), (True, BOX_Z)):
        scene = build_scene(
            picture, DepthMap(z, "box", "-"), camera, SceneSettings(stride=1, snap_edges=snap)
        )
        # The main-layer vertex of pixel (row 40, column `last`), found by its texture position.
        index = _vertex_at(scene, 40, last)
        assert scene.vertices[index, 2] == pytest.approx(expected)
    # A wall column next to the box is not pulled forward (its colour is the wall's).
    assert scene.vertices[_vertex_at(scene, 40, BOX[1].stop), 2] == pytest.approx(WALL_Z)


def _vertex_at(scene, row: int, col: int) -> int:
    """Index of the first (main-layer) vertex at photo pixel (row, col)."""
    hits = np.flatnonzero((scene.uvs[:, 0] == col + scene.ring_px) & (scene.uvs[:, 1] == row + scene.ring_px))
    return int(hits[0])


def test_stride_follows_the_output_size_and_the_move():
    import numpy as np

    from stillcam.camera import Camera, fit_output_camera, pose_from
    from stillcam.scene.layers import stride_for

    source = Camera.from_focal_mm(4000, 2667, 35.0)
    z = np.full((2667, 4000), 10.0, np.float32)
    same = fit_output_camera(source, 4000, 2250)
    hd = fit_output_camera(source, 1920, 1080)
    assert stride_for(source, [same], z) == 1  # the photo at its own resolution: no coarsening
    assert stride_for(source, [hd], z) == 5  # 2.5 output px at a 0.48 scale
    pushed = hd.with_pose(pose_from(np.eye(3), np.array([0.0, 0.0, 5.0])))  # halfway to the wall
    assert stride_for(source, [hd, pushed], z) == 2  # magnified 2x at the end of the push
    # A preview spacing coarsens in proportion, even at the photo's own resolution.
    assert stride_for(source, [hd], z, spacing_px=8.0) == 16  # 8 output px at a 0.48 scale
    assert stride_for(source, [same], z, spacing_px=8.0) == 8
