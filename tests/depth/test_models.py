"""Depth models through the real loading code, on tiny random-weight models built here.

What this proves: registry -> from_pretrained(local folder, local_files_only) -> the
repository's image processor (PIL path, no torchvision) -> model -> conversion -> edge-exact
upsampling -> cache -> scene -> frames, with the shapes and orientation of every step, for
each architecture. What it cannot prove: depth quality (random weights); that the pinned hub
revisions still load (no network here).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from helpers import save_depth_anything  # noqa: E402
from stillcam.depth.estimate import ModelUnavailableError, estimate_depth, model_folder  # noqa: E402
from stillcam.depth.models import get_model, model_table  # noqa: E402
from stillcam.errors import InputError, MissingExtraError  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))


def save_zoedepth(folder: Path) -> Path:
    backbone = transformers.BeitConfig(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=384,
        patch_size=16,
        out_features=["stage1", "stage2", "stage3", "stage4"],
        use_relative_position_bias=True,
        reshape_hidden_states=False,
    )
    config = transformers.ZoeDepthConfig(
        backbone_config=backbone,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        bottleneck_features=16,
        num_relative_features=8,
        bin_embedding_dim=16,
        hidden_size=32,
    )
    torch.manual_seed(0)
    transformers.ZoeDepthForDepthEstimation(config).save_pretrained(folder)
    transformers.ZoeDepthImageProcessorPil().save_pretrained(folder)
    return folder


def save_depth_pro(folder: Path) -> Path:
    small = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "patch_size": 16,
        "image_size": 32,
    }
    config = transformers.DepthProConfig(
        fusion_hidden_size=16,
        patch_size=32,
        intermediate_hook_ids=[1, 0],
        intermediate_feature_dims=[8, 8],
        scaled_images_ratios=[0.5, 1.0],
        scaled_images_overlap_ratios=[0.0, 0.25],
        scaled_images_feature_dims=[16, 16],
        use_fov_model=True,
        image_model_config=transformers.Dinov2Config(**small),
        patch_model_config=transformers.Dinov2Config(**small),
        fov_model_config=transformers.Dinov2Config(**small),
    )
    torch.manual_seed(0)
    transformers.DepthProForDepthEstimation(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_processor_type": "DepthProImageProcessor",
                "size": {"height": 64, "width": 64},
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
            }
        )
    )
    return folder


BUILDERS = {
    "depth-anything-v2-small": save_depth_anything,
    "zoedepth-nk": save_zoedepth,
    "depth-pro": save_depth_pro,
}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {name: build(root / name) for name, build in BUILDERS.items()}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_architecture_runs_photo_to_depth(name, tiny_models, small_example):
    picture, _ = small_example
    estimate = estimate_depth(picture, name, model_dir=tiny_models[name], allow_noncommercial=True)
    assert estimate.inverse.shape == (picture.height, picture.width) and estimate.inverse.dtype == np.float32
    assert np.isfinite(estimate.inverse).all() and (estimate.inverse >= 0).all()
    assert estimate.metric == (name != "depth-anything-v2-small")
    assert estimate.revision.startswith("dir:") and estimate.cache_file.is_file()


@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_architecture_renders_three_frames(name, tiny_models, photo_files, tmp_path):
    from stillcam import RenderOptions, ShotSettings, render
    from stillcam.depth import DepthSettings

    options = RenderOptions(
        shot=ShotSettings(move="orbit", size="64x36", duration=0.25, fps="12"),
        depth=DepthSettings(depth_model=name, model_dir=str(tiny_models[name]), allow_noncommercial=True),
    )
    recipe = render(photo_files[0], None, tmp_path / "m.####.png", options)
    assert recipe.output["frames"] == 3 and len(list(tmp_path.glob("m.*.png"))) == 3
    assert recipe.inputs["depth"]["model"] == name
    assert recipe.depth_source.endswith("(metric)") == (name != "depth-anything-v2-small")


def test_a_model_focal_length_is_used_only_without_exif_or_user_focal(small_example, tmp_path):
    from dataclasses import replace

    from stillcam import RenderOptions
    from stillcam.depth.estimate import Estimate, depth_map_of, with_model_lens

    picture = replace(small_example[0], focal_source="default")
    inverse = np.ones((picture.height, picture.width), np.float32)
    estimate = Estimate(inverse, True, 60.0, "depth-pro", "x", tmp_path / "c.npy", "0")
    updated, depth = with_model_lens(picture, estimate), depth_map_of(estimate, RenderOptions().depth)
    assert depth.metric and depth.origin["model"] == "depth-pro"
    from stillcam.camera import Camera

    hfov = Camera.from_focal_mm(picture.width, picture.height, updated.focal_mm).hfov_degrees
    assert updated.focal_source == "model:depth-pro" and hfov == pytest.approx(60.0)
    exif = replace(picture, focal_source="exif")
    assert with_model_lens(exif, estimate).focal_mm == picture.focal_mm


def test_depth_anything_photo_to_frames_and_rerender_without_the_model(tiny_models, photo_files, tmp_path):
    photo, _ = photo_files
    model = tmp_path / "model"
    save_depth_anything(model)
    env = {"HF_HUB_OFFLINE": "1", "STILLCAM_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    base = [sys.executable, "-m", "stillcam"]
    common = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--quiet"]
    run = subprocess.run(
        [*base, "render", str(photo), "--model-dir", str(model), "-o", str(tmp_path / "a.####.png"), *common],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    recipe = json.loads((tmp_path / "a.png.recipe.json").read_text())
    record = recipe["inputs"]["depth"]
    assert record["model"] == "depth-anything-v2-small" and Path(record["cache"]).is_file()
    assert recipe["depth_source"].startswith("model:depth-anything-v2-small@dir:")
    for file in model.iterdir():  # the model is gone: the re-render must not need it
        file.unlink()
    again = subprocess.run(
        [
            *base,
            "rerender",
            str(tmp_path / "a.png.recipe.json"),
            "-o",
            str(tmp_path / "b.####.png"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    for n in (1001, 1002, 1003):
        assert (tmp_path / f"a.{n}.png").read_bytes() == (tmp_path / f"b.{n}.png").read_bytes()


def test_cache_hit_does_not_run_the_model(tiny_models, small_example, monkeypatch):
    from stillcam.depth import estimate as module

    picture, _ = small_example
    first = estimate_depth(
        picture, "depth-anything-v2-small", model_dir=tiny_models["depth-anything-v2-small"]
    )

    def fail(*args):
        raise AssertionError("the model ran on a cache hit")

    monkeypatch.setattr(module, "_run_dpt", fail)
    second = estimate_depth(
        picture, "depth-anything-v2-small", model_dir=tiny_models["depth-anything-v2-small"]
    )
    assert second.sha256 == first.sha256 and np.array_equal(second.inverse, first.inverse)
    bilinear = estimate_depth  # another upsampling is another cache entry: the model runs (and fails)
    with pytest.raises(AssertionError, match="cache hit"):
        bilinear(
            picture,
            "depth-anything-v2-small",
            model_dir=tiny_models["depth-anything-v2-small"],
            upsample="bilinear",
        )


def test_a_process_loads_a_model_once_for_many_photos(tiny_models, small_example, monkeypatch):
    """A batch worker or the web app estimating several photos with one model loads it once
    (and gets the same depth as a fresh load)."""
    from dataclasses import replace

    from stillcam.depth import estimate as module

    module._loaded.cache_clear()
    real = transformers.AutoModelForDepthEstimation.from_pretrained
    loads = []
    monkeypatch.setattr(
        transformers.AutoModelForDepthEstimation,
        "from_pretrained",
        lambda *a, **k: loads.append(a) or real(*a, **k),
    )
    picture, _ = small_example
    folder = tiny_models["depth-anything-v2-small"]
    pictures = [
        replace(picture, pixels=picture.pixels * s, sha256=f"{picture.sha256}{s}") for s in (1.0, 0.9)
    ]
    first, second = (estimate_depth(p, "depth-anything-v2-small", model_dir=folder) for p in pictures)
    assert len(loads) == 1 and first.sha256 != second.sha256
    module._loaded.cache_clear()
    again = estimate_depth(
        replace(pictures[1], sha256=pictures[1].sha256 + "x"), "depth-anything-v2-small", model_dir=folder
    )
    assert len(loads) == 2 and np.array_equal(again.inverse, second.inverse)


def test_licence_gate_and_table():
    assert get_model("depth-anything-v2-small").commercial
    for name in ("depth-anything-v2-base", "depth-anything-v2-large", "depth-pro"):
        with pytest.raises(InputError, match="--allow-noncommercial"):
            get_model(name)
        assert get_model(name, allow_noncommercial=True).name == name
    rows = {row["name"]: row for row in model_table()}
    assert rows["depth-anything-v2-small"]["licence"] == "Apache-2.0"
    assert rows["depth-anything-v2-base"]["commercial"] == "NO"
    with pytest.raises(InputError, match="unknown depth model"):
        get_model("midas")


def test_offline_without_weights_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelUnavailableError) as error:
        model_folder(get_model("depth-anything-v2-small"), None)
    message = str(error.value)
    assert "stillcam models pull depth-anything-v2-small" in message and "--depth FILE" in message
    assert error.value.exit_code == 1


def test_missing_extra_gives_the_install_hint(monkeypatch, small_example):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingExtraError, match=r"stillcam\[models\]"):
        estimate_depth(small_example[0], "depth-anything-v2-small")


def test_an_entry_point_plugin_is_listed_and_runs(monkeypatch, small_example):
    import types
    from importlib.metadata import EntryPoint

    from stillcam.depth import models
    from stillcam.depth.models import ModelSpec

    def estimate(rgb):  # a "model": nearer towards the bottom, 64 px wide
        h = round(64 * rgb.shape[0] / rgb.shape[1])
        return np.tile(np.linspace(1.0, 2.0, h, dtype=np.float32)[:, None], (1, 64)), None

    plugin = types.ModuleType("fake_depth_plugin")
    plugin.SPEC = ModelSpec(
        "fake", "example/fake", "1", "MIT", True, "relative-inverse", False, "plugin", 0.1, "fast", estimate
    )
    monkeypatch.setitem(sys.modules, "fake_depth_plugin", plugin)
    point = EntryPoint("fake", "fake_depth_plugin:SPEC", models.ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        models, "entry_points", lambda group: [point] if group == models.ENTRY_POINT_GROUP else []
    )
    assert "fake" in {row["name"] for row in model_table()}
    picture, _ = small_example
    result = estimate_depth(picture, "fake")
    assert result.inverse.shape == (picture.height, picture.width)
    assert result.inverse[-1].mean() > result.inverse[0].mean()  # orientation kept: bottom nearer
    broken = EntryPoint("broken", "no_such_module_xyz:SPEC", models.ENTRY_POINT_GROUP)
    monkeypatch.setattr(models, "entry_points", lambda group: [broken])
    assert get_model("depth-anything-v2-small").name == "depth-anything-v2-small"  # others still work
    with pytest.raises(InputError, match="plug-in 'broken'"):
        get_model("broken")


def test_model_problems_are_reported_before_the_photo_is_decoded(tmp_path, monkeypatch):
    from stillcam import RenderOptions, pipeline

    def no_decoding(*args, **kwargs):
        raise AssertionError("the photo was decoded before the model was checked")

    monkeypatch.setattr(pipeline, "load_image", no_decoding)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    (tmp_path / "photo.jpg").write_bytes(b"not decoded")  # exists: the model is what is missing
    with pytest.raises(ModelUnavailableError):
        pipeline.load_inputs(tmp_path / "photo.jpg", None, RenderOptions())
