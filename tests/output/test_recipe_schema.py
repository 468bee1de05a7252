"""Recipes against damaged and hostile input: ``read_recipe`` and ``stillcam rerender`` raise
only :class:`RecipeError`, on one line naming the file and the field, before any input is
decoded; ``/dev/zero`` or a FIFO as the recipe fails at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stillcam import pipeline
from stillcam.errors import InputError, RecipeError, StillcamError
from stillcam.options import RenderOptions
from stillcam.output.recipe import MAX_RECIPE_BYTES, read_recipe, recipe_from_dict, write_recipe
from structured_corpus import (
    as_json,
    assert_one_line,
    damaged_bytes,
    json_like,
    mutated,
    special_files,
    wrong_types,
)

SHA = "0123456789abcdef" * 4
VALID = {
    "format": 1,
    "stillcam_version": "0.9.0",
    "inputs": {
        "photo": {"path": "missing-photo.png", "sha256": SHA, "colour": {"space": "sRGB"}},
        "depth": {"path": "missing-depth.npy", "sha256": SHA},
        "fill_models": [{"name": "migan", "revision": "abc", "sha256": SHA, "used_for": ["fill"]}],
    },
    "options": json.loads(json.dumps(RenderOptions().to_dict())),
    "depth_source": "file:depth.npy (depth)",
    "focal": {"mm": 50.0, "source": "default"},
    "output": {"kind": "video", "frames": 96},
    "safety": {"amount": 1.0, "warnings": []},
}
KEYS = sorted(
    {"format", "stillcam_version", "inputs", "options", "depth_source", "focal", "output", "safety"}
    | {"photo", "depth", "example", "camera_file", "path", "sha256", "model", "revision", "cache"}
    | {"width", "height", "fill_models", "name", "shot", "scene", "render", "duration", "move", "fps"}
)


def _write(tmp_path: Path, data, name: str = "r.recipe.json") -> Path:
    file = tmp_path / name
    file.write_bytes(as_json(data) if not isinstance(data, bytes) else data)
    return file


def _rerender_error(file: Path, tmp_path: Path) -> RecipeError:
    """What re-rendering ``file`` raises (the recipe names no existing photo: it never renders)."""
    with pytest.raises(RecipeError) as caught:
        pipeline.rerender(file, tmp_path / "out.mp4", overwrite=True)
    assert_one_line(caught.value)
    return caught.value


def _changed(path: str, value=None, *, delete: bool = False) -> dict:
    data = json.loads(json.dumps(VALID))
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if delete:
        del node[last]
    else:
        node[last] = value
    return data


def test_the_valid_recipe_reads_and_round_trips(tmp_path):
    recipe = read_recipe(_write(tmp_path, VALID))
    assert recipe.inputs["photo"]["colour"] == {"space": "sRGB"}  # other fields of a record kept
    assert "example" not in recipe.inputs and recipe.options == VALID["options"]
    write_recipe(tmp_path / "again.recipe.json", recipe)
    assert read_recipe(tmp_path / "again.recipe.json") == recipe
    assert "missing-photo.png is missing" in str(_rerender_error(tmp_path / "again.recipe.json", tmp_path))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_changed("inputs", [1, 2]), "inputs: must be an object"),
        (_changed("inputs.depth", delete=True), "inputs: needs the depth (or the example) the render read"),
        (_changed("inputs.photo", delete=True), "inputs: needs the photo (or the example)"),
        (_changed("inputs.photo.sha256", delete=True), "inputs.photo.sha256: is required"),
        (_changed("inputs.photo.path", delete=True), "inputs.photo.path: is required"),
        (_changed("inputs.photo.path", 5), "inputs.photo.path: must be text (got 5)"),
        (_changed("inputs.photo.path", "a\0b"), "inputs.photo.path: must not contain a NUL character"),
        (_changed("inputs.photo.sha256", "abc"), "inputs.photo.sha256: must be a SHA-256: 64 lowercase hex"),
        (_changed("inputs.photo", "photo.png"), "inputs.photo: must be an object"),
        (_changed("inputs.depth.sha256", None), "inputs.depth.sha256: must be text"),
        (_changed("inputs.depth", {"sha256": SHA}), "inputs.depth: give the depth file's path, or the model"),
        (_changed("inputs.depth", {"sha256": SHA, "model": "m", "revision": "r"}), "needs its cache"),
        (
            _changed("inputs.example", {"width": "64", "height": 0, "sha256": SHA}),
            "inputs.example.height: must",
        ),
        (_changed("inputs.fill_models", {"name": "migan"}), "inputs.fill_models: must be a list"),
        (_changed("inputs.fill_models.0.name", delete=True), "inputs.fill_models.0.name: is required"),
        (_changed("options", []), "options: must be an object"),
        (_changed("options.shot", "pan"), "options.shot: must be an object"),
        (_changed("stillcam_version", 1.0), "stillcam_version: must be text (got 1.0)"),
        (_changed("focal", None), "focal: must be an object"),
        (_changed("extra", 1), "extra: is not a known field"),
        (_changed("format", 2), "not a stillcam recipe of format 1"),
        (_changed("format", delete=True), "not a stillcam recipe of format 1"),
        ([VALID], "not a stillcam recipe of format 1"),
    ],
)
def test_damaged_recipes_name_the_field_on_one_line(tmp_path, change, words):
    file = _write(tmp_path, change)
    with pytest.raises(RecipeError) as caught:
        read_recipe(file)
    assert words in str(caught.value), str(caught.value)
    assert_one_line(caught.value, names=str(file))
    assert words in str(_rerender_error(file, tmp_path))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_changed("options.shot.duration", "abc"), "options.shot.duration: must be a number (got 'abc')"),
        (_changed("options.shot.move", {"a": 1}), "options.shot.move: must be text"),
        (_changed("options.shot.move", ["pan"]), "options.shot.move: must be text"),
        (
            _changed("options.shot.move", "orbit(degrees=5,,)"),
            "recipe options: --move 'orbit(degrees=5,,)': an em",
        ),
        (_changed("options.shot.params", "degrees=5"), "options.shot.params: must be a list"),
        (_changed("options.shot.params", ["degrees="]), "recipe options: "),
        (_changed("options.shot.duration", 1e9), "recipe options: --duration"),
        (_changed("options.shot.fps", 0), "options.shot.fps: must be text (got 0)"),
        (_changed("options.render.supersample", [2]), "options.render.supersample: must be an integer"),
        (_changed("options.output.bit_depth", 12), "options.output.bit_depth: must be 8 or 16 (got 12)"),
        (
            _changed("options.output.matte", [0, 0]),
            "options.output.matte.2: is missing: the list is too short",
        ),
        (_changed("options.bogus", {}), "options.bogus: not an option section"),
        (_changed("options.shot.bogus", 1), "recipe options do not match this stillcam version"),
    ],
)
def test_damaged_options_are_refused_before_any_input_is_read(tmp_path, change, words):
    message = str(_rerender_error(_write(tmp_path, change), tmp_path))
    assert words in message, message


def test_special_files_fail_at_once(tmp_path):
    for name, path in special_files(tmp_path, larger_than=MAX_RECIPE_BYTES):
        with pytest.raises(RecipeError) as caught:
            read_recipe(path)
        assert_one_line(caught.value, names=str(path))
        if name in ("dev-zero", "fifo"):
            assert "not a regular file; give a recipe file" in str(caught.value)
        assert str(path) in str(_rerender_error(path, tmp_path))


def test_damaged_recipe_files_raise_only_recipe_errors(tmp_path):
    source = json.dumps(VALID, indent=2).encode()
    for k, (name, content) in enumerate(damaged_bytes(source, seed=5)):
        file = _write(tmp_path, content, f"{k}-{name}.recipe.json")
        try:
            read_recipe(file)
        except RecipeError as exc:
            assert_one_line(exc, names=str(file))
        else:  # readable: re-rendering it stops at a typed error (the photo does not exist)
            _rerender_error(file, tmp_path)


def _only_typed(data, tmp_path: Path | None = None) -> None:
    try:
        recipe = recipe_from_dict(data, "r.recipe.json")
    except RecipeError as exc:
        assert_one_line(exc, names="r.recipe.json")
        return
    try:
        if tmp_path is None:
            pipeline._recipe_options(recipe, Path("r.recipe.json"))
        else:
            pipeline.rerender(_write(tmp_path, data), tmp_path / "out.mp4", overwrite=True)
    except InputError as exc:
        assert isinstance(exc, RecipeError), exc
        assert_one_line(exc)
    except StillcamError as exc:  # an output that cannot be written, say
        assert_one_line(exc)


def test_wrong_types_at_every_field_give_recipe_errors():
    for _name, data in wrong_types(VALID):
        _only_typed(data)


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like(KEYS))
def test_arbitrary_data_gives_a_recipe_or_a_recipe_error(data):
    _only_typed(data)
    _only_typed({**VALID, "inputs": data})
    _only_typed({**VALID, "options": data})


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.sampled_from([VALID]).flatmap(lambda v: mutated(v, KEYS)))
def test_damaged_valid_recipes_rerender_to_a_typed_error(tmp_path, data):
    _only_typed(data, tmp_path)
