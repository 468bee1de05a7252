"""MoGe-2 through the real loading and post-processing code, on ONNX graphs built here.

The graphs have the real export's input and output names, types and shapes (MoGe
``docs/onnx.md``): ``image`` (B, 3, H, W) float in [0, 1] and ``num_tokens`` (int64 scalar)
in; ``points`` (B, H, W, 3), ``normal`` (B, H, W, 3), ``mask`` (B, H, W), ``metric_scale``
(B,) out. One is a tiny random-weight network (a 1x1 convolution into the four heads); the
other computes an exact scene from the photo's pixels (red = column, green = row, blue =
depth), so the depth and field of view the code recovers can be checked against the truth.

What this cannot prove: depth quality of the real weights; that the hub's files still load
(no network here).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from stillcam.depth import moge  # noqa: E402
from stillcam.depth.estimate import (  # noqa: E402
    ModelUnavailableError,
    depth_map_of,
    estimate_depth,
    model_folder,
    with_model_lens,
)
from stillcam.depth.models import DEFAULT_MODEL, get_model, model_table  # noqa: E402
from stillcam.errors import InputError, MissingExtraError  # noqa: E402
from stillcam.io.image import Picture  # noqa: E402

NAME = "moge-2-vits"
W, H = 128, 96  # 4:3, below the token grid's area: the graph sees the photo at its own size
HFOV, Z0, KZ, SCALE, SHIFT, SKY = 62.0, 4.0, 4.0, 2.5, 0.7, 0.21  # the exact graph's scene


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))


def _const(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def _save(path: Path, nodes, initializers, *, static: tuple[int, int] | None = None, outputs=None) -> Path:
    """A graph with MoGe-2's inputs and the outputs named in ``outputs`` (default: all four)."""
    batch, height, width = ("batch", "height", "width") if static is None else (1, *static)
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, height, width])]
    if static is None:
        inputs.append(helper.make_tensor_value_info("num_tokens", TensorProto.INT64, []))
    shapes = {
        "points": [batch, height, width, 3],
        "normal": [batch, height, width, 3],
        "mask": [batch, height, width],
        "metric_scale": [batch],
    }
    names = outputs or list(shapes)
    graph = helper.make_graph(
        nodes,
        "moge2-test",
        inputs,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shapes[n]) for n in names],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _scale_nodes(static: bool, value: str) -> list:
    """metric_scale (B,) = value, depending on the image (and num_tokens) so both are used."""
    nodes = [helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1, 2, 3], keepdims=0)]
    nodes.append(helper.make_node("Mul", ["mean", "zero"], ["mean0"]))
    if static:
        nodes.append(helper.make_node("Add", ["mean0", value], ["metric_scale"]))
        return nodes
    return [
        *nodes,
        helper.make_node("Cast", ["num_tokens"], ["tokens"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["tokens", "zero"], ["tokens0"]),
        helper.make_node("Add", ["mean0", "tokens0"], ["offset"]),
        helper.make_node("Add", ["offset", value], ["metric_scale"]),
    ]


def save_random(path: Path, *, seed: int = 0, static=None, outputs=None) -> Path:
    """A tiny random-weight 'MoGe-2': a 1x1 convolution into points (z through exp, as the
    real model's ``remap_output='exp'``), normal, mask logits; a random metric scale."""
    rng = np.random.default_rng(seed)
    weights = numpy_helper.from_array(rng.normal(0, 1, (7, 3, 1, 1)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.normal(0, 0.5, 7).astype(np.float32), "b")
    nodes = [
        helper.make_node("Conv", ["image", "w", "b"], ["features"]),
        helper.make_node("Split", ["features", "split"], ["xy", "zlog", "n", "logit"], axis=1),
        helper.make_node("Exp", ["zlog"], ["z"]),
        helper.make_node("Mul", ["xy", "z"], ["xyz"]),
        helper.make_node("Concat", ["xyz", "z"], ["p"], axis=1),
        helper.make_node("Transpose", ["p"], ["points"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["n"], ["normal"], perm=[0, 2, 3, 1]),
        helper.make_node("Sigmoid", ["logit"], ["m"]),
        helper.make_node("Squeeze", ["m", "axis1"], ["mask"]),
        *_scale_nodes(static is not None, "scale"),
    ]
    initializers = [
        weights,
        bias,
        numpy_helper.from_array(np.array([2, 1, 3, 1], np.int64), "split"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        _const("zero", 0.0),
        _const("scale", float(np.exp(rng.normal()))),
    ]
    left_out = {"points", "normal", "mask"} - set(outputs or ("points", "normal", "mask"))
    nodes = [n for n in nodes if n.output[0] not in left_out]
    return _save(path, nodes, initializers, static=static, outputs=outputs)


def save_exact(path: Path) -> Path:
    """A 'MoGe-2' that returns an exact scene read from :func:`coded_photo`'s pixels (red =
    (2 column + 1) / 255, green = (2 row + 1) / 255: exact in 8 bits), true depth Z = Z0 + KZ
    (blue - 0.5) metres, seen with a horizontal field of view HFOV; it outputs the affine map
    ((X, Y, Z) / SCALE) - (0, 0, SHIFT) and metric_scale SCALE, and masks the rows with green
    < SKY (the 'sky')."""
    k = 255.0 * math.tan(math.radians(HFOV) / 2.0) / W  # X / Z = k (red - W / 255) = (c - cx) / f
    nodes = [
        helper.make_node("Split", ["image", "split"], ["r", "g", "bl"], axis=1),
        helper.make_node("Sub", ["r", "cu"], ["u"]),
        helper.make_node("Sub", ["g", "cv"], ["v"]),
        helper.make_node("Sub", ["bl", "half"], ["db"]),
        helper.make_node("Mul", ["db", "kz"], ["dz"]),
        helper.make_node("Add", ["dz", "z0"], ["zt"]),
        helper.make_node("Mul", ["u", "k"], ["ux"]),
        helper.make_node("Mul", ["ux", "zt"], ["xt"]),
        helper.make_node("Mul", ["v", "k"], ["vy"]),
        helper.make_node("Mul", ["vy", "zt"], ["yt"]),
        helper.make_node("Concat", ["xt", "yt", "zt"], ["pt"], axis=1),
        helper.make_node("Mul", ["pt", "inv_scale"], ["pa"]),
        helper.make_node("Sub", ["pa", "shift"], ["p"]),
        helper.make_node("Transpose", ["p"], ["points"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["image"], ["normal"], perm=[0, 2, 3, 1]),
        helper.make_node("Sub", ["g", "sky"], ["gs"]),
        helper.make_node("Mul", ["gs", "steep"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["m"]),
        helper.make_node("Squeeze", ["m", "axis1"], ["mask"]),
        *_scale_nodes(False, "scale"),
    ]
    initializers = [
        numpy_helper.from_array(np.array([1, 1, 1], np.int64), "split"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        _const("half", 0.5),
        _const("cu", W / 255.0),  # the red of the centre column (W - 1) / 2
        _const("cv", H / 255.0),
        _const("kz", KZ),
        _const("z0", Z0),
        _const("k", k),
        _const("inv_scale", 1.0 / SCALE),
        _const("shift", np.array([0.0, 0.0, SHIFT]).reshape(1, 3, 1, 1)),
        _const("sky", SKY),
        _const("steep", 200.0),
        _const("zero", 0.0),
        _const("scale", SCALE),
    ]
    return _save(path, nodes, initializers)


def coded_photo(focal_source: str = "default") -> tuple[Picture, np.ndarray, np.ndarray]:
    """The photo the exact graph reads, its true metric z (H, W) and sky mask (H, W)."""
    c, r = np.meshgrid(np.arange(W), np.arange(H), indexing="xy")
    blue = np.rint(255 * (0.2 + 0.4 * c / W + 0.3 * r / H))
    rgb = np.stack([2 * c + 1, 2 * r + 1, blue], axis=-1).astype(np.uint8)
    pixels = rgb.astype(np.float32) / 255.0
    z = Z0 + KZ * (rgb[..., 2].astype(np.float64) / 255.0 - 0.5)
    sky = rgb[..., 1].astype(np.float64) / 255.0 < SKY
    picture = Picture(pixels, 8, 50.0, focal_source, "coded.png", f"coded-{focal_source}")
    return picture, z, sky


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    root = tmp_path_factory.mktemp("moge")
    exact = save_exact(root / "exact" / "model.onnx")
    return {"exact": exact.parent, "random": save_random(root / "random" / "x.onnx").parent}


def _affine_scene(focal: float, shift: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """An affine point map of a tilted floor and a box in front of it (true z (H, W))."""
    uv = moge.view_plane_uv(W, H)
    z = 3.0 + 2.0 * (1.0 - (np.arange(H)[:, None] / H)) + np.zeros((1, W))
    z[40:90, 60:120] = 1.8  # the box
    xy = uv * z[..., None] / focal
    points = np.concatenate([xy, z[..., None]], axis=-1) / scale
    points[..., 2] -= shift
    return points.astype(np.float32), z


def test_a_known_affine_point_map_gives_its_metric_z_and_field_of_view():
    focal = moge.focal_of_hfov(55.0, W, H)
    points, z = _affine_scene(focal, shift=0.4, scale=3.0)
    depth, found = moge.metric_depth(points, np.ones((H, W), np.float32), 3.0)
    assert found == pytest.approx(focal, rel=1e-4)
    assert moge.hfov_of_focal(found, W, H) == pytest.approx(55.0, abs=0.01)
    np.testing.assert_allclose(depth, z, rtol=1e-4)
    given, kept = moge.metric_depth(points, np.ones((H, W), np.float32), 3.0, focal=focal)
    assert kept == focal
    np.testing.assert_allclose(given, z, rtol=1e-4)  # the known focal: only the shift solved


def test_a_wrong_known_focal_length_changes_the_depth_it_implies():
    focal = moge.focal_of_hfov(55.0, W, H)
    points, z = _affine_scene(focal, shift=0.4, scale=3.0)
    depth, _ = moge.metric_depth(points, np.ones((H, W), np.float32), 3.0, focal=1.5 * focal)
    assert not np.allclose(depth, z, rtol=0.02)


def test_masked_pixels_are_far_and_do_not_disturb_the_fit():
    focal = moge.focal_of_hfov(70.0, W, H)
    points, z = _affine_scene(focal, shift=-0.3, scale=1.0)
    mask = np.ones((H, W), np.float32)
    mask[:30], mask[100:, :50] = 0.1, 0.5  # 0.5 itself is not a surface
    points[:30] = np.array([1e6, np.nan, -5.0], np.float32)  # garbage where masked
    depth, found = moge.metric_depth(points, mask, 1.0)
    assert moge.hfov_of_focal(found, W, H) == pytest.approx(70.0, abs=0.01)
    surface = mask > 0.5
    np.testing.assert_allclose(depth[surface], z[surface], rtol=1e-4)
    sky = moge.SKY_FACTOR * np.percentile(z[surface], 99)
    np.testing.assert_allclose(depth[~surface], sky, rtol=1e-4)
    assert depth.dtype == np.float32 and sky < moge.FAR_M


def test_nothing_to_fit_gives_no_focal_and_far_depth():
    points, _ = _affine_scene(1.0, shift=0.0, scale=1.0)
    depth, found = moge.metric_depth(points, np.zeros((H, W), np.float32), 1.0)
    assert found is None and (depth == moge.FAR_M).all()


def test_input_size_keeps_the_aspect_and_the_token_area():
    w, h = moge.input_size(4256, 2832)
    assert abs(w / h - 4256 / 2832) < 2 / h
    assert w * h == pytest.approx(moge.NUM_TOKENS * 14**2, rel=0.01)
    assert moge.input_size(W, H) == (W, H)


def test_the_exact_graph_through_estimate_gives_metric_z_the_lens_and_far_sky(graphs):
    picture, z, sky = coded_photo()
    estimate = estimate_depth(picture, NAME, model_dir=graphs["exact"], upsample="bilinear")
    assert estimate.metric and estimate.revision.startswith("dir:")
    assert estimate.fov_degrees == pytest.approx(HFOV, abs=0.01)
    assert sky.any() and (~sky).any()
    np.testing.assert_allclose(1.0 / estimate.inverse[~sky], z[~sky], rtol=1e-4)
    far = moge.SKY_FACTOR * np.percentile(z[~sky], 99)  # the sky: ten times the farthest
    np.testing.assert_allclose(estimate.inverse[sky], 1.0 / far, rtol=0.01)
    depth = depth_map_of(estimate, _settings())
    assert depth.metric and depth.source.endswith("(metric)") and depth.origin["model"] == NAME
    lens = with_model_lens(picture, estimate)
    from stillcam.camera import Camera

    assert lens.focal_source == f"model:{NAME}"
    assert Camera.from_focal_mm(W, H, lens.focal_mm).hfov_degrees == pytest.approx(HFOV, abs=0.01)


def test_a_focal_length_from_exif_is_given_to_the_model_not_estimated(graphs):
    true_mm = _mm_of_hfov(HFOV)
    picture, z, sky = coded_photo("exif")
    picture = replace(picture, focal_mm=true_mm)
    estimate = estimate_depth(picture, NAME, model_dir=graphs["exact"], upsample="bilinear")
    assert estimate.fov_degrees is None and with_model_lens(picture, estimate) is picture
    np.testing.assert_allclose(1.0 / estimate.inverse[~sky], z[~sky], rtol=1e-4)
    wrong = replace(picture, focal_mm=2 * true_mm, sha256=picture.sha256)  # same photo, other lens
    other = estimate_depth(wrong, NAME, model_dir=graphs["exact"], upsample="bilinear")
    assert other.cache_file != estimate.cache_file  # the focal length is part of the cache key
    assert not np.allclose(other.inverse[~sky], estimate.inverse[~sky], rtol=0.02)


def test_a_render_records_the_model_lens_in_the_recipe(graphs, tmp_path):
    import cv2

    from stillcam import RenderOptions, ShotSettings, render
    from stillcam.camera import Camera
    from stillcam.depth import DepthSettings

    picture, _, _ = coded_photo()
    photo = tmp_path / "coded.png"  # no EXIF: the focal length must come from the model
    cv2.imwrite(str(photo), np.rint(picture.pixels[..., ::-1] * 255).astype(np.uint8))
    options = RenderOptions(
        shot=ShotSettings(move="orbit", size="64x48", duration=0.25, fps="12"),
        depth=DepthSettings(depth_model=NAME, model_dir=str(graphs["exact"])),
    )
    recipe = render(photo, None, tmp_path / "m.####.png", options)
    assert recipe.output["frames"] == 3 and len(list(tmp_path.glob("m.*.png"))) == 3
    assert recipe.focal["source"] == f"model:{NAME}" and recipe.inputs["depth"]["model"] == NAME
    assert Camera.from_focal_mm(W, H, recipe.focal["mm"]).hfov_degrees == pytest.approx(HFOV, abs=0.01)
    assert recipe.depth_source.endswith("(metric)")


def test_a_random_weight_graph_runs_photo_to_depth(graphs, small_example):
    picture, _ = small_example
    estimate = estimate_depth(picture, NAME, model_dir=graphs["random"])
    assert estimate.inverse.shape == (picture.height, picture.width) and estimate.inverse.dtype == np.float32
    assert np.isfinite(estimate.inverse).all() and (estimate.inverse > 0).all() and estimate.metric
    assert estimate.fov_degrees is None  # the example's focal length is the user's


def test_a_large_photo_is_brought_to_the_token_grid(graphs):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (900, 1600, 3), dtype=np.uint8)
    z, _ = moge.run_moge(moge.onnx_file(graphs["random"]), rgb, num_tokens=1200)
    assert z.shape == moge.input_size(1600, 900, 1200)[::-1] and (z > 0).all()


def test_a_static_export_runs_at_its_own_size(tmp_path):
    file = save_random(tmp_path / "static" / "model.onnx", static=(36, 48))
    z, _ = moge.run_moge(file, np.full((90, 160, 3), 128, np.uint8))
    assert z.shape == (36, 48)


def test_a_graph_with_another_contract_is_refused(tmp_path):
    no_mask = save_random(tmp_path / "nomask" / "model.onnx", outputs=["points", "normal", "metric_scale"])
    with pytest.raises(InputError, match="expected image"):
        moge.run_moge(no_mask, np.zeros((32, 32, 3), np.uint8))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(InputError, match="not a loadable ONNX graph"):
        moge.run_moge(tmp_path / "junk" / "model.onnx", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(InputError, match=r"no \.onnx file"):
        model_folder(get_model(NAME), tmp_path / "nomask" / "missing")


def test_the_registry_rows():
    sizes = {"moge-2-vits": 35.0, "moge-2-vitb": 104.0, "moge-2-vitl": 331.0}
    rows = {row["name"]: row for row in model_table()}
    for name, params in sizes.items():
        spec = get_model(name)  # MIT: no --allow-noncommercial needed
        facts = (spec.output, spec.estimates_focal, spec.family, spec.licence)
        assert facts == ("metric", True, "moge", "MIT")
        assert spec.params_m == params and spec.repo_id.startswith("Ruicheng/moge-2-vit")
        assert rows[name]["focal"] == "estimates" and rows[name]["commercial"] == "yes"
    assert "default" in rows[DEFAULT_MODEL]["note"] and "NOT default" in rows[NAME]["note"]


def test_missing_onnxruntime_gives_the_install_hint(monkeypatch, small_example):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"onnxruntime .*stillcam\[models\]"):
        estimate_depth(small_example[0], NAME)


def test_offline_without_weights_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelUnavailableError) as error:
        model_folder(get_model(NAME), None)
    assert f"stillcam models pull {NAME}" in str(error.value) and "--depth FILE" in str(error.value)


def test_moves_in_metres_warn_only_for_relative_depth(graphs, small_example):
    from stillcam.camera.plan import metres_warning
    from stillcam.camera.shot import Shot, parse_move_expression

    shot = Shot(segments=parse_move_expression("dolly-in(distance=1, frames=10)"))
    picture, _, _ = coded_photo()
    metric = depth_map_of(estimate_depth(picture, NAME, model_dir=graphs["exact"]), _settings())
    assert metric.metric and metres_warning(shot, metric) == ()
    relative = replace(metric, metric=False, source="model:depth-anything-v2-small (relative)")
    (warning,) = metres_warning(shot, relative)
    assert "metres are a guess" in warning


def _settings():
    from stillcam import RenderOptions

    return RenderOptions().depth


def _mm_of_hfov(hfov: float) -> float:
    from stillcam.conventions import focal_px_from_fov, focal_px_to_mm

    return focal_px_to_mm(focal_px_from_fov(hfov, W), W, H)
