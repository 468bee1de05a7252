"""The web app's preview as pure functions (no FastAPI): the cameras it sends are the EXR
header's projection, and the preview scene is the render's scene of a smaller photo."""

from __future__ import annotations

import numpy as np
import pytest

from stillcam import RenderOptions, ShotSettings
from stillcam.errors import RequestError
from stillcam.output.exr import world_to_ndc
from stillcam.pipeline import plan_cameras
from stillcam.render.frame import project_vertices
from stillcam.web.preview import (
    PREVIEW_PX,
    camera_records,
    clip_matrix,
    info,
    mesh_bytes,
    preview_inputs,
    preview_reach,
    preview_scene,
)
from stillcam.web.uploads import Uploads, sniff_depth, sniff_photo


def test_clip_matrix_is_the_exr_projection_taken_to_clip_space(small_example):
    picture, depth = small_example
    options = RenderOptions(shot=ShotSettings(move="orbit", duration=0.5, fps="8"))
    _, path, _ = plan_cameras(picture, depth, options)
    camera = path.cameras[-1]
    points = np.random.default_rng(1).uniform([-2, -1, 3], [2, 1, 9], (50, 3))
    clip = clip_matrix(camera, 0.5, 100.0) @ np.c_[points, np.ones(len(points))].T
    ndc = clip[:2] / clip[3]
    pixels = np.stack([(ndc[0] + 1) / 2 * camera.width - 0.5, (1 - ndc[1]) / 2 * camera.height - 0.5], 1)
    want = project_vertices(points.astype(np.float32), camera)[:, :2]
    np.testing.assert_allclose(pixels, want, atol=1e-3)
    # x and y are the EXR header's worldToNDC (exports' world = glTF axes), rescaled.
    gltf = np.c_[points * [1, -1, -1], np.ones(len(points))].T
    exr = world_to_ndc(camera) @ gltf
    np.testing.assert_allclose((ndc[0] + 1) / 2, exr[0] / exr[3], atol=1e-9)
    depth_ndc = clip[2] / clip[3]
    assert np.all((depth_ndc > -1) & (depth_ndc < 1))
    records = camera_records(path.cameras, depth.z)
    assert len(records) == len(path) and len(records[0]["clip"]) == 16


def test_preview_scene_is_smaller_and_reuses_rounded_reach(small_example):
    picture, depth = small_example
    small, small_depth, source = preview_inputs(picture, depth)
    assert max(small.width, small.height) <= max(PREVIEW_PX, picture.width)
    options = RenderOptions(shot=ShotSettings(move="orbit", duration=0.5, fps="8"))
    _, path, _ = plan_cameras(picture, depth, options)
    reach = preview_reach(source, path.cameras, small_depth.z)
    assert reach.edge_px % 8 == 0 and reach.ring_px % 32 == 0
    scene = preview_scene(small, small_depth, source, path.cameras, options, reach)
    data = mesh_bytes(scene)
    n, m = np.frombuffer(data[:8], "<u4")
    assert n == len(scene.vertices) and m == scene.triangles.size
    assert len(data) == 8 + n * 20 + m * 4


def test_info_lists_the_menus():
    menus = info()
    assert "orbit" in [m["name"] for m in menus["moves"]] and "UHD" in menus["sizes"]
    assert menus["defaults"]["camera_file"] is None and "h264" in menus["codecs"]


def test_uploads_refuse_what_is_not_an_image(tmp_path):
    with pytest.raises(RequestError) as error:
        sniff_photo(b"not an image")
    assert error.value.status == 415
    with pytest.raises(RequestError):
        sniff_depth(b"junk")
    uploads = Uploads(tmp_path)
    with pytest.raises(RequestError) as error:
        uploads.files("0" * 32)
    assert error.value.status == 404
    assert uploads.cached("k", lambda: 1) == 1 and uploads.cached("k", lambda: 2) == 1
