"""The recipe's ``models`` list: every model that touched an output, with its role, licence
and the SHA-256 of the weights it loaded; older recipes without it still read and re-render
bit for bit."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from helpers import save_depth_anything, tiny_shot_inputs
from stillcam import pipeline
from stillcam.depth.estimate import model_folder
from stillcam.depth.models import get_model
from stillcam.errors import RecipeError
from stillcam.io.hashing import sha256_file
from stillcam.options import RenderOptions
from stillcam.output.provenance import model_records, weights_digest
from stillcam.output.recipe import read_recipe, recipe_from_dict

TESTS = Path(__file__).resolve().parents[1]
SHOT = {"size": "64x36", "duration": 0.25, "fps": "12", "move": "orbit(degrees=12)"}


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))


def _helpers(relative: str):
    """A test module's helpers (the tiny model builders), loaded by path."""
    name = "_models_list_" + relative.replace("/", "_").removesuffix(".py")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / relative)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_a_depth_file_with_classical_fills_touches_no_model(tmp_path):
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    recipe = pipeline.render(photo, depth, tmp_path / "a.mp4", RenderOptions.from_fields(SHOT))
    assert recipe.models == []
    assert json.loads((tmp_path / "a.recipe.json").read_text())["models"] == []


def test_a_fill_model_is_listed_with_its_weights_and_rerenders_bit_for_bit(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    folder = _helpers("scene/test_fill_models.py").save_tiny_migan(tmp_path / "migan")
    weights = folder / "migan_pipeline_v2.onnx"
    options = RenderOptions.from_fields(
        {**SHOT, "fill": "migan", "outpaint": "migan", "fill_model_dir": str(folder)}
    )
    recipe = pipeline.demo(tmp_path / "a.####.png", options, example_size="160x90")
    (model,) = recipe.models
    sha = sha256_file(weights)
    assert model == {
        "role": "fill",
        "name": "migan",
        "repo": "andraniksargsyan/migan",
        "revision": "dir:" + sha[:16],
        "licence": "MIT",
        "commercial": True,
        "sha256": sha,
        "files": [{"file": "migan_pipeline_v2.onnx", "sha256": sha}],
        "used_for": ["fill", "outpaint"],
    }
    assert recipe.inputs["fill_models"][0]["sha256"] == sha  # the old record is still there
    pipeline.rerender(tmp_path / "a.png.recipe.json", tmp_path / "b.####.png")
    for frame in sorted(tmp_path.glob("a.*.png")):
        assert frame.read_bytes() == (tmp_path / frame.name.replace("a.", "b.", 1)).read_bytes()
    again = json.loads((tmp_path / "b.png.recipe.json").read_text())
    assert again["models"] == json.loads((tmp_path / "a.png.recipe.json").read_text())["models"]


def test_a_depth_model_is_listed_with_the_sha256_of_its_weights(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    folder = save_depth_anything(tmp_path / "dav2")
    photo, _ = tiny_shot_inputs(tmp_path / "in")
    options = RenderOptions.from_fields({**SHOT, "model_dir": str(folder)})
    recipe = pipeline.render(photo, None, tmp_path / "a.mp4", options)
    (model,) = recipe.models
    files = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))
    assert len(files) == 1
    _, revision = model_folder(get_model("depth-anything-v2-small"), folder)
    assert model["role"] == "depth" and model["name"] == "depth-anything-v2-small"
    assert model["repo"] == "depth-anything/Depth-Anything-V2-Small-hf" and model["revision"] == revision
    assert model["licence"] == "Apache-2.0" and model["commercial"] is True
    assert model["sha256"] == sha256_file(files[0])
    assert recipe.inputs["depth"]["model"] == "depth-anything-v2-small"  # the old record is still there


def test_weights_of_several_files_are_hashed_as_their_sorted_listing(tmp_path):
    (tmp_path / "b.safetensors").write_bytes(b"second")
    (tmp_path / "a.safetensors").write_bytes(b"first")
    sha, files = weights_digest(
        [("b.safetensors", tmp_path / "b.safetensors"), ("a.safetensors", tmp_path / "a.safetensors")]
    )
    first, second = (hashlib.sha256(d).hexdigest() for d in (b"first", b"second"))
    assert files == [{"file": "a.safetensors", "sha256": first}, {"file": "b.safetensors", "sha256": second}]
    assert sha == hashlib.sha256(f"{first}  a.safetensors\n{second}  b.safetensors\n".encode()).hexdigest()
    assert weights_digest([]) == (None, [])


def test_a_depth_record_whose_weights_are_not_on_disk_has_no_sha256(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    _, revision = model_folder(get_model("depth-anything-v2-small"), folder)
    record = {"model": "depth-anything-v2-small", "revision": revision, "cache": "x.npy", "sha256": "0" * 64}
    (found,) = model_records({"depth": record}, model_dir=str(folder))
    assert found["sha256"] == hashlib.sha256(b"weights").hexdigest() and found["revision"] == revision
    (gone,) = model_records({"depth": {**record, "revision": "dir:0000"}}, model_dir=str(folder))
    assert gone["sha256"] is None and gone["licence"] == "Apache-2.0"
    (plugin,) = model_records({"depth": {**record, "model": "no-such-plugin"}})
    assert plugin["licence"] == "unknown" and plugin["commercial"] is False


def _recipe_of_a_render(tmp_path: Path) -> tuple[Path, dict]:
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    pipeline.render(photo, depth, tmp_path / "a.mp4", RenderOptions.from_fields(SHOT))
    return tmp_path / "a.recipe.json", json.loads((tmp_path / "a.recipe.json").read_text())


def test_a_recipe_without_models_reads_and_rerenders_bit_for_bit(tmp_path):
    _, data = _recipe_of_a_render(tmp_path)
    del data["models"]
    old = tmp_path / "old.recipe.json"
    old.write_text(json.dumps(data))
    assert read_recipe(old).models == []
    pipeline.rerender(old, tmp_path / "b.mp4")
    assert (tmp_path / "b.mp4").read_bytes() == (tmp_path / "a.mp4").read_bytes()


@pytest.mark.parametrize(
    "entry, words",
    [
        ({"role": "depth", "name": "m", "licence": "MIT", "commercial": "yes"}, "models.0.commercial"),
        ({"role": "Depth!", "name": "m", "licence": "MIT", "commercial": True}, "models.0.role"),
        ({"role": "fill", "name": "m", "commercial": True}, "models.0.licence"),
        (
            {"role": "fill", "name": "m", "licence": "MIT", "commercial": True, "sha256": "abc"},
            "models.0.sha256",
        ),
    ],
)
def test_a_damaged_models_list_names_the_field(tmp_path, entry, words):
    _, data = _recipe_of_a_render(tmp_path)
    with pytest.raises(RecipeError, match=words):
        recipe_from_dict({**data, "models": [entry]})


def test_later_roles_and_fields_are_kept(tmp_path):
    _, data = _recipe_of_a_render(tmp_path)
    entry = {"role": "upscale", "name": "x", "licence": "MIT", "commercial": True, "tile": 512}
    recipe = recipe_from_dict({**data, "models": [entry]})
    assert recipe.models == [{**entry, "repo": None, "revision": None, "sha256": None}]


def test_signing_without_the_provenance_extra_says_what_to_install(tmp_path, monkeypatch):
    """(Here, not in test_provenance.py: it runs without c2pa.)"""
    from stillcam.errors import MissingExtraError
    from stillcam.output.provenance import load_signing, read_credential

    monkeypatch.setitem(sys.modules, "c2pa", None)  # import c2pa fails
    (tmp_path / "k.pem").write_text("x")
    with pytest.raises(MissingExtraError, match=r"pip install 'stillcam\[provenance\]'"):
        load_signing(tmp_path / "k.pem", tmp_path / "k.pem")
    with pytest.raises(MissingExtraError, match="c2pa-python"):
        read_credential(tmp_path / "a.mp4")
    assert read_credential(tmp_path / "a.exr")["present"] is False  # no container to look in
