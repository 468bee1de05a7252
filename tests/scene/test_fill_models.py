"""Generative fills through the real loading, tiling and inference code, on a tiny
random-weight ONNX graph built here with MI-GAN's published contract (inputs ``image`` (B, 3,
H, W) uint8 and ``mask`` (B, 1, H, W) uint8, 255 = known; output ``result`` (B, 3, H, W)
uint8), saved into a folder laid out like a ``--fill-model-dir``.

What this proves: registry -> weights from a folder (SHA-256, revision) -> ONNX Runtime session
(contract checked) -> 512 px windows, feathered, outward passes -> cache -> scene -> frames ->
recipe -> re-render from the cache without the weights; the licence gate, the errors. What it
cannot prove: fill quality (random weights); that the pinned hub revision still loads (no
network here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from stillcam.errors import InputError, MissingExtraError, ModelUnavailableError  # noqa: E402
from stillcam.io.hashing import sha256_file  # noqa: E402
from stillcam.scene import generative  # noqa: E402
from stillcam.scene.fill_models import MIGAN, fill_model_table, get_fill_model  # noqa: E402
from stillcam.scene.fills import prepare_fill_models  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))


def save_tiny_migan(folder: Path, *, seed: int = 0, names=("image", "mask", "result")) -> Path:
    """A two-convolution stand-in with the MI-GAN pipeline's inputs, output, dtypes and
    dynamic shapes: [mask - 0.5, image x mask] -> conv 3x3 -> lrelu -> conv 3x3 -> tanh ->
    0..255, composited over the known pixels, as uint8."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    image, mask, result = names
    inits = [
        numpy_helper.from_array(np.array(value, np.float32), key)
        for key, value in {"k255": 255.0, "half": 0.5, "two": 2.0, "one": 1.0, "zero": 0.0}.items()
    ]
    inits += [
        numpy_helper.from_array((rng.standard_normal((8, 4, 3, 3)) * 0.3).astype(np.float32), "w1"),
        numpy_helper.from_array((rng.standard_normal((3, 8, 3, 3)) * 0.3).astype(np.float32), "w2"),
    ]
    node = helper.make_node
    nodes = [
        node("Cast", [image], ["img"], to=TensorProto.FLOAT),
        node("Cast", [mask], ["m255"], to=TensorProto.FLOAT),
        node("Div", ["m255", "k255"], ["m"]),
        node("Div", ["img", "k255"], ["img01"]),
        node("Mul", ["img01", "two"], ["img02"]),
        node("Sub", ["img02", "one"], ["imgpm"]),
        node("Sub", ["m", "half"], ["mc"]),
        node("Mul", ["imgpm", "m"], ["masked"]),
        node("Concat", ["mc", "masked"], ["x"], axis=1),
        node("Conv", ["x", "w1"], ["h1"], pads=[1, 1, 1, 1]),
        node("LeakyRelu", ["h1"], ["a1"], alpha=0.2),
        node("Conv", ["a1", "w2"], ["h2"], pads=[1, 1, 1, 1]),
        node("Tanh", ["h2"], ["t"]),
        node("Mul", ["t", "half"], ["t1"]),
        node("Add", ["t1", "half"], ["t2"]),
        node("Mul", ["t2", "k255"], ["gen"]),
        node("Sub", ["one", "m"], ["hole"]),
        node("Mul", ["img", "m"], ["keep"]),
        node("Mul", ["gen", "hole"], ["new"]),
        node("Add", ["keep", "new"], ["out"]),
        node("Clip", ["out", "zero", "k255"], ["clipped"]),
        node("Cast", ["clipped"], [result], to=TensorProto.UINT8),
    ]

    def tensor(label, channels):
        return helper.make_tensor_value_info(label, TensorProto.UINT8, ["batch", channels, "height", "width"])

    graph = helper.make_graph(
        nodes, "tiny_migan", [tensor(image, 3), tensor(mask, 1)], [tensor(result, 3)], inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / MIGAN.file))
    return folder


@pytest.fixture(scope="module")
def tiny_migan(tmp_path_factory) -> Path:
    return save_tiny_migan(tmp_path_factory.mktemp("fill") / "migan")


def _holes(h: int, w: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.random((h, w, 3), dtype=np.float32)
    known = np.ones((h, w), bool)
    known[h // 4 : h // 2, w // 5 : w // 2] = False  # a hole
    known[:, -w // 6 :] = False  # and a margin, like a ring
    return image, known


def test_known_pixels_stay_and_the_same_input_gives_the_same_bytes(tiny_migan, tmp_path, monkeypatch):
    image, known = _holes(700, 1100)  # several 512 px windows, each way
    fill = generative.model_fill("migan", tiny_migan)
    first = fill(image, known)
    assert first.dtype == np.float32 and first.shape == image.shape
    assert np.array_equal(first[known], image[known])  # bit for bit
    assert np.isfinite(first).all() and first.min() >= 0 and first.max() <= 1
    assert not np.allclose(first[~known], 0)  # something was drawn
    assert len(list((tmp_path / "cache" / "fill").glob("*.npy"))) == 1
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "other-cache"))  # run the model again
    again = fill(image, known)
    assert again.tobytes() == first.tobytes()
    assert fill(image, known).tobytes() == first.tobytes()  # and from the cache


def test_a_cache_hit_does_not_run_the_model(tiny_migan, monkeypatch):
    image, known = _holes(300, 400)
    fill = generative.model_fill("migan", tiny_migan)
    first = fill(image, known)

    def fail(*args):
        raise AssertionError("the model ran on a cache hit")

    monkeypatch.setattr(generative, "_session", fail)
    assert fill(image, known).tobytes() == first.tobytes()
    other = known.copy()
    other[0, 0] = False  # another mask is another cache entry: the model runs (and fails)
    with pytest.raises(AssertionError, match="cache hit"):
        fill(image, other)


class _Constant:
    """A fake session: every window's output is grey 200/255; counts runs and the known
    fraction each window saw."""

    def __init__(self):
        self.seen: list[float] = []

    def run(self, names, feeds):
        mask = feeds["mask"]
        self.seen.append(float((mask == 255).mean()))
        return [np.full((1, 3, *mask.shape[2:]), 200, np.uint8)]


def test_windows_fill_outward_from_the_photo_each_once():
    h, w = 520, 2000  # the known strip is on the left: windows on the right start with nothing known
    image = np.zeros((h, w, 3), np.float32)
    known = np.zeros((h, w), bool)
    known[:, :300] = True
    image[known] = 0.25
    session = _Constant()
    out = generative.tiled_fill(session, MIGAN.contract, image, known)
    assert np.array_equal(out[known], image[known])
    assert np.allclose(out[~known], 200 / 255, atol=1e-6)  # every unknown pixel was filled
    windows = generative.windows_to_fill(~known, 512)
    assert len(session.seen) == len(windows)  # each window ran once
    assert min(session.seen) > 0  # none ran without context: later passes use earlier fills


def test_small_images_are_padded_to_one_window():
    image = np.full((40, 60, 3), 0.5, np.float32)
    known = np.ones((40, 60), bool)
    known[10:20, 10:30] = False
    session = _Constant()
    out = generative.tiled_fill(session, MIGAN.contract, image, known)
    assert out.shape == image.shape and len(session.seen) == 1
    assert np.allclose(out[~known], 200 / 255, atol=1e-6)


def _cli(argv, capsys):
    from stillcam import cli

    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    return stop.value.code, capsys.readouterr()


SMALL = ["--example-size", "160x90", "--size", "64x36", "--duration", "0.25", "--fps", "12", "--quiet"]


def test_demo_with_migan_fills_renders_records_and_rerenders_without_the_weights(tmp_path, capsys):
    import json
    import shutil

    folder = save_tiny_migan(tmp_path / "weights")
    output = tmp_path / "a.####.png"
    argv = ["demo", "--fill", "migan", "--outpaint", "migan", "--fill-model-dir", str(folder)]
    code, streams = _cli([*argv, "-o", str(output), *SMALL], capsys)
    assert code == 0, streams.err
    frames = sorted(tmp_path.glob("a.*.png"))
    assert len(frames) == 3
    recipe = json.loads((tmp_path / "a.png.recipe.json").read_text())
    (record,) = recipe["inputs"]["fill_models"]
    assert record["name"] == "migan" and record["licence"] == "MIT" and record["commercial"] is True
    assert record["used_for"] == ["fill", "outpaint"]
    assert record["sha256"] == sha256_file(folder / MIGAN.file)
    assert record["revision"] == "dir:" + record["sha256"][:16]
    assert recipe["options"]["scene"]["fill"] == "migan"
    assert list((tmp_path / "cache" / "fill").glob("*.npy"))  # the fills were cached
    shutil.rmtree(folder)  # the weights are gone: the re-render must not need them
    code, streams = _cli(
        ["rerender", str(tmp_path / "a.png.recipe.json"), "-o", str(tmp_path / "b.####.png")], capsys
    )
    assert code == 0, streams.err
    for frame in frames:
        assert frame.read_bytes() == (tmp_path / frame.name.replace("a.", "b.", 1)).read_bytes()


def test_the_model_changes_the_render(tmp_path, tiny_migan):
    from stillcam import RenderOptions, ShotSettings
    from stillcam.pipeline import demo
    from stillcam.scene import SceneSettings

    shot = ShotSettings(move="orbit(degrees=12)", size="64x36", duration=0.25, fps="12")
    frames = {}
    for fill in ("telea", "migan"):
        outpaint = "migan" if fill == "migan" else "propagate"
        scene = SceneSettings(fill=fill, outpaint=outpaint, fill_model_dir=str(tiny_migan))
        demo(tmp_path / f"{fill}.####.png", RenderOptions(shot=shot, scene=scene), example_size="160x90")
        frames[fill] = (tmp_path / f"{fill}.1003.png").read_bytes()
    assert frames["telea"] != frames["migan"]


def test_lama_needs_allow_noncommercial(capsys, tmp_path):
    from stillcam import RenderOptions

    with pytest.raises(InputError, match="--allow-noncommercial"):
        RenderOptions.from_fields({"fill": "lama"})
    with pytest.raises(InputError, match="research-only"):
        RenderOptions.from_fields({"outpaint": "lama"})
    assert RenderOptions.from_fields({"fill": "lama", "allow_noncommercial": True}).scene.fill == "lama"
    assert RenderOptions.from_fields({"fill": "none", "outpaint": "lama"}).scene.fills is False  # not used
    code, streams = _cli(["demo", "--fill", "lama", "-o", str(tmp_path / "x.mp4")], capsys)
    assert code == 2 and "--allow-noncommercial" in streams.err and len(streams.err.strip().splitlines()) == 1


def test_unknown_names_list_the_known_ones():
    from stillcam.scene import SceneSettings

    with pytest.raises(InputError) as error:
        SceneSettings(fill="diffusion-xl")
    assert "migan" in str(error.value) and "telea" in str(error.value)
    with pytest.raises(InputError, match="unknown fill model 'gan'; choose one of: migan, lama"):
        get_fill_model("gan")


def test_missing_weights_give_one_line_that_says_what_to_do(tmp_path, monkeypatch, capsys):
    from stillcam import RenderOptions, pipeline

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("the photo was decoded before the fill model was checked")

    monkeypatch.setattr(pipeline, "load_image", no_decoding)
    monkeypatch.setattr(pipeline, "example_inputs", no_decoding)
    options = RenderOptions.from_fields({"outpaint": "migan"})
    (tmp_path / "photo.jpg").write_bytes(b"not decoded")  # exists: the model is what is missing
    with pytest.raises(ModelUnavailableError) as error:
        pipeline.load_inputs(tmp_path / "photo.jpg", tmp_path / "depth.npy", options)
    message = str(error.value)
    assert "stillcam models pull migan" in message and "--fill-model-dir" in message and "\n" not in message
    assert error.value.exit_code == 1
    code, streams = _cli(["demo", "--fill", "migan", "-o", str(tmp_path / "x.mp4")], capsys)
    assert code == 1 and streams.err.count("\n") == 1 and "stillcam models pull migan" in streams.err
    with pytest.raises(InputError, match=r"no migan_pipeline_v2\.onnx there"):
        pipeline.demo_inputs(
            "160x90", RenderOptions.from_fields({"fill": "migan", "fill_model_dir": str(tmp_path)})
        )


def test_missing_extra_gives_the_install_hint(monkeypatch, tiny_migan):
    from stillcam import RenderOptions

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    options = RenderOptions.from_fields({"fill": "migan", "fill_model_dir": str(tiny_migan)})
    with pytest.raises(MissingExtraError, match=r"stillcam\[fill\]"):
        prepare_fill_models(options.scene, allow_noncommercial=False)


def test_a_graph_with_another_contract_is_refused(tmp_path):
    folder = save_tiny_migan(tmp_path / "other", names=("input", "mask", "output"))
    image, known = _holes(64, 64)
    with pytest.raises(InputError, match="expected image and mask in, result out"):
        generative.model_fill("migan", folder)(image, known)


def save_tiny_lama(folder: Path) -> Path:
    """LaMa's contract (Carve/LaMa-ONNX): ``image`` (1, 3, 512, 512) float32 in [0, 1], ``mask``
    (1, 1, 512, 512) float32 with 1 = fill, one output in 0..255; here holes become grey 0.25."""
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in {"one": 1.0, "q": 63.75}.items()]
    inits.append(numpy_helper.from_array(np.array(255.0, np.float32), "k255"))
    node = helper.make_node
    nodes = [
        node("Sub", ["one", "mask"], ["keep"]),
        node("Mul", ["image", "keep"], ["kept"]),
        node("Mul", ["kept", "k255"], ["kept255"]),
        node("Mul", ["mask", "q"], ["grey"]),
        node("Add", ["kept255", "grey"], ["inpainted"]),
    ]

    def tensor(label, channels):
        return helper.make_tensor_value_info(label, TensorProto.FLOAT, [1, channels, 512, 512])

    graph = helper.make_graph(
        nodes, "tiny_lama", [tensor("image", 3), tensor("mask", 1)], [tensor("inpainted", 3)], inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "lama_fp32.onnx"))
    return folder


def test_the_lama_contract_float_inputs_hole_is_one_output_0_to_255(tmp_path):
    folder = save_tiny_lama(tmp_path / "lama")
    image, known = _holes(300, 700)
    out = generative.model_fill("lama", folder)(image, known)
    assert np.array_equal(out[known], image[known])
    assert np.allclose(out[~known], 0.25, atol=1e-4)


def test_models_lists_fill_models_and_pull_says_what_failed(capsys):
    code, streams = _cli(["models"], capsys)
    assert code == 0
    assert "fill models" in streams.out and "migan" in streams.out and "research-only" in streams.out
    rows = {row["name"]: row for row in fill_model_table()}
    assert rows["migan"]["commercial"] == "yes" and rows["lama"]["commercial"] == "NO"
    assert rows["migan"]["size"] == "28.1 MB"
    code, streams = _cli(["models", "pull", "lama"], capsys)
    assert code == 2 and "--allow-noncommercial" in streams.err
    code, streams = _cli(["models", "pull", "migan"], capsys)  # offline: the download fails
    assert code == 1 and "download failed" in streams.err


def test_an_entry_point_plugin_is_listed_and_runs(monkeypatch):
    import types
    from importlib.metadata import EntryPoint

    from stillcam.scene import fill_models
    from stillcam.scene.fill_models import FillModelSpec
    from stillcam.scene.inpaint import get_inpainter

    def grey(image, known):
        return np.where(known[..., None], image, 0.5).astype(np.float32)

    plugin = types.ModuleType("fake_fill_plugin")
    plugin.SPEC = FillModelSpec("grey", "example/grey", "1", "-", "MIT", True, 0.0, None, inpaint=grey)
    monkeypatch.setitem(sys.modules, "fake_fill_plugin", plugin)
    point = EntryPoint("grey", "fake_fill_plugin:SPEC", fill_models.ENTRY_POINT_GROUP)
    monkeypatch.setattr(fill_models, "entry_points", lambda group: [point])
    assert "grey" in {row["name"] for row in fill_model_table()}
    image, known = _holes(32, 48)
    out = get_inpainter("grey")(image, known)
    assert np.array_equal(out[known], image[known]) and np.allclose(out[~known], 0.5, atol=1e-4)
    broken = EntryPoint("broken", "no_such_module_xyz:SPEC", fill_models.ENTRY_POINT_GROUP)
    monkeypatch.setattr(fill_models, "entry_points", lambda group: [broken])
    assert get_fill_model("migan").name == "migan"  # the others still work
    with pytest.raises(InputError, match="plug-in 'broken'"):
        get_fill_model("broken")
