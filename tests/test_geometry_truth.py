"""The pipeline's moved view against an independent ray-cast of the analytic scene.

Threshold: 45 dB PSNR on pixels visible in both views. Why: the source photo is quantised to
8 bits (alone ~59 dB) and re-sampled bilinearly; the mesh approximates curved surfaces by
planar triangles between pixel centres. Measured: 54.7 dB for both poses. A geometric error of
one pixel (the failure this test exists to catch) scores 29.8-31.9 dB, which the test also
checks, so 45 dB leaves ~10 dB of margin on either side.
"""

import cv2
import numpy as np
import pytest

from helpers import psnr
from stillcam.camera import pose_from, rotation_y
from stillcam.example.procedural import example_camera, example_inputs, render_example
from stillcam.render import RenderSettings, get_renderer
from stillcam.render.frame import project_vertices
from stillcam.scene import SceneSettings, build_scene, unproject

THRESHOLD_DB = 45.0


def _visible_in_both(moved, gt_depth, source, source_depth):
    """Pixels of the moved view whose surface point the source camera also sees."""
    h, w = gt_depth.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    finite = np.isfinite(gt_depth)
    local = unproject(xs, ys, np.where(finite, gt_depth, 1.0), moved).reshape(-1, 3)
    world = local @ moved.pose[:3, :3].T + moved.pose[:3, 3]
    pix = project_vertices(world, source).reshape(h, w, 3)
    u, v = np.rint(pix[..., 0]).astype(int), np.rint(pix[..., 1]).astype(int)
    inside = finite & (pix[..., 2] > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    seen = np.zeros_like(inside)
    z_src = source_depth[np.clip(v, 0, h - 1), np.clip(u, 0, w - 1)]
    seen[inside] = np.abs(z_src[inside] - pix[..., 2][inside]) < 0.01 * pix[..., 2][inside]
    # Leave out 2 px around depth edges (silhouettes resample differently).
    log_z = np.log(np.where(finite, gt_depth, 1e3)).astype(np.float64)
    curvature = np.abs(cv2.Laplacian(log_z, cv2.CV_64F)) > 0.05
    edges = cv2.dilate(curvature.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return seen & ~edges


@pytest.mark.parametrize(
    "pose",
    [
        pose_from(rotation_y(-3.0), np.array([0.25, 0.0, 0.3])),
        pose_from(rotation_y(2.0), np.array([-0.2, -0.15, 0.6])),
    ],
)
def test_moved_view_matches_ray_cast_truth(pose):
    width, height = 320, 180
    picture, depth = example_inputs(width, height)
    source = example_camera(width, height)
    scene = build_scene(picture, depth, source, SceneSettings(stride=1))
    moved = source.with_pose(pose)
    frame = get_renderer(RenderSettings("cpu")).render(scene, moved)
    truth, truth_depth = render_example(moved)
    mask = _visible_in_both(moved, truth_depth, source, depth.z) & (frame.alpha == 1.0)
    assert mask.mean() > 0.6
    score = psnr(frame.rgb[mask], truth[mask])
    assert score > THRESHOLD_DB, f"{score:.1f} dB"
    # The same comparison with a one-pixel geometric error must fail the threshold.
    shifted = np.roll(frame.rgb, 1, axis=1)
    assert psnr(shifted[mask], truth[mask]) < THRESHOLD_DB - 3
