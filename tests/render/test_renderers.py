"""The numba renderer against the reference, and both against exact expectations."""

from dataclasses import replace

import numpy as np
import pytest

from helpers import psnr
from stillcam.camera import pose_from, rotation_y
from stillcam.example.procedural import example_camera
from stillcam.render import RenderSettings, get_renderer
from stillcam.scene import SceneSettings, build_scene

# A moved view of the 160x90 example: truck right, push in, pan left, plus a zoom.
POSE = pose_from(rotation_y(-4.0), np.array([0.3, -0.1, 0.4]))


@pytest.fixture(scope="module")
def scene(small_example):
    picture, depth = small_example
    # Exact depth: no edge snapping and the full grid (a merged cell's depth is planar within
    # --mesh-error pixels, not exact), so the source view must reproduce the depth exactly.
    settings = SceneSettings(stride=1, snap_edges=False, mesh_error=0.0)
    return build_scene(picture, depth, example_camera(160, 90), settings)


@pytest.mark.parametrize("supersample", [1, 2])
def test_cpu_matches_reference(scene, supersample):
    camera = scene.camera.zoomed(1.1).with_pose(POSE)
    ref = get_renderer(RenderSettings("reference", supersample)).render(scene, camera)
    cpu = get_renderer(RenderSettings("cpu", supersample)).render(scene, camera)
    assert cpu.rgb.shape == ref.rgb.shape == (90, 160, 3)
    # Same rules, arithmetic equal up to the last bits: coverage identical on >= 99.9 % of
    # pixels and colour within 1e-4 there (exact-tie winners may differ at a few pixels).
    same = np.isclose(cpu.alpha, ref.alpha, atol=1e-6)
    assert same.mean() >= 0.999
    close = np.abs(cpu.rgb - ref.rgb).max(axis=-1) <= 1e-4
    assert close.mean() >= 0.999
    finite = np.isfinite(ref.depth) & np.isfinite(cpu.depth)
    np.testing.assert_allclose(cpu.depth[finite], ref.depth[finite], rtol=1e-5)


@pytest.mark.parametrize("name", ["cpu", "reference"])
def test_source_view_reproduces_the_photo(scene, small_example, name):
    picture, depth = small_example
    frame = get_renderer(RenderSettings(name)).render(scene, scene.camera)
    covered = frame.alpha == 1.0
    # The border ring covers the frame edge to edge; only pixels whose every mesh triangle
    # was cut (one-pixel strips between two depth edges) stay empty (#3 gives them geometry).
    assert covered.mean() > 0.99
    log_z = np.pad(np.log(depth.z), 1, mode="edge")
    centre = log_z[1:-1, 1:-1]
    jump = np.zeros_like(covered)
    for neighbour in (log_z[:-2, 1:-1], log_z[2:, 1:-1], log_z[1:-1, :-2], log_z[1:-1, 2:]):
        jump |= np.abs(centre - neighbour) > 0.01
    assert not (~covered & ~jump).any()
    assert psnr(frame.rgb[covered], picture.pixels[covered]) > 60
    np.testing.assert_allclose(frame.depth[covered], depth.z[covered], rtol=1e-5)


@pytest.mark.parametrize("name", ["cpu", "reference"])
def test_source_view_of_the_default_adaptive_mesh_reproduces_the_photo(small_example, name):
    """The default --mesh-error: merged cells are planar within it, so the colour is the
    photo's as with the full grid; the depth of a merged cell is a plane through its corners."""
    picture, depth = small_example
    camera = example_camera(160, 90)
    settings = SceneSettings(stride=1, snap_edges=False)
    adaptive = build_scene(picture, depth, camera, settings)
    full = build_scene(picture, depth, camera, replace(settings, mesh_error=0.0))
    assert settings.mesh_error > 0 and len(adaptive.triangles) < 0.5 * len(full.triangles)
    renderer = get_renderer(RenderSettings(name))
    frame, grid = renderer.render(adaptive, camera), renderer.render(full, camera)
    assert np.array_equal(frame.alpha == 1.0, grid.alpha == 1.0)
    covered = frame.alpha == 1.0
    assert psnr(frame.rgb[covered], picture.pixels[covered]) > 60
    np.testing.assert_allclose(frame.depth[covered], depth.z[covered], rtol=2e-3)


def test_supersampling_gives_fractional_coverage_at_silhouettes(scene):
    camera = scene.camera.with_pose(POSE)
    frame = get_renderer(RenderSettings("cpu", 3)).render(scene, camera)
    partial = (frame.alpha > 0) & (frame.alpha < 1)
    assert partial.any()
    assert np.all(frame.rgb <= frame.alpha[..., None] + 1e-6)  # premultiplied


def test_cpu_renderer_is_deterministic(scene):
    renderer = get_renderer(RenderSettings("cpu"))
    camera = scene.camera.with_pose(POSE)
    a, b = renderer.render(scene, camera), renderer.render(scene, camera)
    assert a.rgb.tobytes() == b.rgb.tobytes() and a.depth.tobytes() == b.depth.tobytes()


def test_soft_edges_composite_the_front_over_the_surface_behind(small_example):
    picture, depth = small_example
    camera = example_camera(160, 90)
    # The full grid: the share of soft-edge vertices is counted against every grid vertex.
    hard = build_scene(picture, depth, camera, SceneSettings(stride=1, mesh_error=0.0))
    soft = build_scene(picture, depth, camera, SceneSettings(stride=1, soft_edge=0.5, mesh_error=0.0))
    assert hard.alphas.min() == 1.0
    assert soft.alphas.min() == pytest.approx(0.5) and (soft.alphas < 1).mean() < 0.05
    moved = camera.with_pose(POSE)
    frames = {}
    for name in ("reference", "cpu"):
        frames[name] = get_renderer(RenderSettings(name)).render(soft, moved)
    ref, cpu = frames["reference"], frames["cpu"]
    assert (np.abs(cpu.rgb - ref.rgb).max(axis=-1) <= 1e-4).mean() >= 0.999
    # Where a soft edge lies over another surface the pixel is opaque and differs from the
    # hard render (the surface behind shows through).
    hard_frame = get_renderer(RenderSettings("cpu")).render(hard, moved)
    changed = np.abs(cpu.rgb - hard_frame.rgb).max(axis=-1) > 1e-3
    assert 0 < changed.mean() < 0.05


@pytest.mark.parametrize("chunks", [1, 7, 64])
def test_parallel_binning_equals_a_serial_counting_sort(chunks):
    from stillcam.render.cpu import _bin

    rng = np.random.default_rng(5)
    first = rng.integers(0, 10, 500).astype(np.int32)
    last = (first + rng.integers(-1, 3, 500)).clip(max=9).astype(np.int32)  # some empty (last < first)
    offsets, ids = _bin(first, last, 10, chunks)
    for band in range(10):
        expected = [t for t in range(500) if first[t] <= band <= last[t]]
        assert ids[offsets[band] : offsets[band + 1]].tolist() == expected


@pytest.mark.parametrize("soft_edge", [0.0, 0.5])
@pytest.mark.parametrize("fill", [False, True])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_fused_display_path_gives_the_same_bytes(small_example, soft_edge, fill, bit_depth):
    from stillcam.output.writers import display_dtype, display_scale, to_display
    from stillcam.render.cpu import CpuRenderer
    from stillcam.render.frame import fill_holes

    picture, depth = small_example
    camera = example_camera(160, 90)
    scene = build_scene(picture, depth, camera, SceneSettings(stride=2, soft_edge=soft_edge, fill="none"))
    moved = camera.zoomed(0.8).with_pose(POSE)  # zoomed out: holes at the frame's edges
    renderer = CpuRenderer()
    frame = renderer.render(scene, moved)
    assert (frame.alpha <= 0).any()  # there are holes to fill (or to leave)
    matte = np.array([0.2, 0.4, 0.6], np.float32)
    expected = to_display(fill_holes(frame) if fill else frame, tuple(matte), bit_depth)
    out = np.empty((90, 160, 3), display_dtype(bit_depth))
    assert renderer.render_display(scene, moved, fill, matte, display_scale(bit_depth), out)
    assert out.tobytes() == expected.tobytes()
