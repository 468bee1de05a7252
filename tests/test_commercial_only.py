"""``--commercial-only``: every model a render names, and every model a re-render's recipe
records, must allow commercial use; refused on one line before any file is decoded. With
``--allow-noncommercial`` it is refused as a contradiction. A shot list sets it once for the
whole batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import tiny_shot_inputs
from stillcam import cli, pipeline
from stillcam.batch.shotlist import cli_level, load_shot_list
from stillcam.errors import InputError
from stillcam.options import RenderOptions, command_line

SHOT = {"size": "64x36", "duration": 0.25, "fps": "12", "move": "orbit(degrees=12)"}


def _no_decoding(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a file was decoded before the error")

    monkeypatch.setattr(pipeline, "load_image", refuse)
    monkeypatch.setattr(pipeline, "read_depth_file", refuse)


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    return stopped.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--allow-noncommercial"], "--commercial-only and --allow-noncommercial contradict each other"),
        (["--depth-model", "depth-pro"], "depth model depth-pro is licensed apple-amlr"),
        (["--depth-model", "depth-anything-v2-large"], "licensed CC-BY-NC-4.0"),
        (["--fill", "lama"], "fill model lama is licensed"),
        (["--outpaint", "lama"], "fill model lama is licensed"),
        (["--depth-model", "no-such-model"], "unknown depth model 'no-such-model'"),
    ],
)
def test_a_non_commercial_model_is_one_line_before_any_file_is_decoded(
    tmp_path, monkeypatch, capsys, flags, words
):
    _no_decoding(monkeypatch)
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "a.mp4"), "--commercial-only"]
    code, err = _cli([*argv, *flags], capsys)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob("a*"))


def test_commercial_only_wins_over_the_allow_noncommercial_advice(monkeypatch):
    """A non-commercial fill model under --commercial-only is not told to pass
    --allow-noncommercial."""
    with pytest.raises(InputError) as caught:
        RenderOptions.from_fields({"fill": "lama", "commercial_only": True})
    assert "--commercial-only" in str(caught.value) and "pass --allow-noncommercial" not in str(caught.value)


def test_commercial_models_render_and_the_recipe_keeps_the_option(tmp_path, capsys):
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    out = tmp_path / "a.mp4"
    code, err = _cli(
        [
            "render",
            str(photo),
            "--depth",
            str(depth),
            "-o",
            str(out),
            "--quiet",
            "--commercial-only",
            "--size",
            "64x36",
            "--duration",
            "0.25",
            "--fps",
            "12",
        ],
        capsys,
    )
    assert code == 0, err
    recipe = json.loads((tmp_path / "a.recipe.json").read_text())
    assert recipe["options"]["provenance"] == {"commercial_only": True}
    assert RenderOptions.from_dict(recipe["options"]).provenance.commercial_only
    options = RenderOptions.from_fields({**SHOT, "commercial_only": True})
    assert "--commercial-only" in command_line(options, "p.png", None, "a.mp4")


def test_the_default_is_off_and_old_recipes_read_without_the_section():
    assert RenderOptions().provenance.commercial_only is False
    data = RenderOptions().to_dict()
    del data["provenance"]
    assert RenderOptions.from_dict(data) == RenderOptions()


def _rendered_recipe(tmp_path: Path) -> Path:
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    pipeline.render(photo, depth, tmp_path / "a.mp4", RenderOptions.from_fields(SHOT))
    return tmp_path / "a.recipe.json"


def test_rerender_refuses_a_recipe_a_non_commercial_model_touched(tmp_path, monkeypatch, capsys):
    recipe = _rendered_recipe(tmp_path)
    data = json.loads(recipe.read_text())
    data["models"] = [
        {"role": "depth", "name": "depth-pro", "licence": "apple-amlr", "commercial": False, "sha256": None}
    ]
    touched = tmp_path / "touched.recipe.json"
    touched.write_text(json.dumps(data))
    _no_decoding(monkeypatch)
    code, err = _cli(["rerender", str(touched), "-o", str(tmp_path / "b.mp4"), "--commercial-only"], capsys)
    assert code == 2 and "depth model depth-pro (licensed apple-amlr)" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "b.mp4").exists()


def test_rerender_of_an_old_recipe_reads_the_models_from_its_input_records(tmp_path, monkeypatch):
    recipe = _rendered_recipe(tmp_path)
    data = json.loads(recipe.read_text())
    del data["models"]  # written before the list: the fill model's record says it all
    data["inputs"]["fill_models"] = [
        {
            "name": "lama",
            "revision": "c3c0c9e",
            "sha256": "0" * 64,
            "commercial": False,
            "licence": "research",
        }
    ]
    old = tmp_path / "old.recipe.json"
    old.write_text(json.dumps(data))
    _no_decoding(monkeypatch)
    with pytest.raises(InputError, match="fill model lama"):
        pipeline.rerender(old, tmp_path / "b.mp4", commercial_only=True)


def test_rerender_with_commercial_models_is_bit_for_bit(tmp_path):
    recipe = _rendered_recipe(tmp_path)
    pipeline.rerender(recipe, tmp_path / "b.mp4", commercial_only=True)
    assert (tmp_path / "b.mp4").read_bytes() == (tmp_path / "a.mp4").read_bytes()


def _shot_list(tmp_path: Path, shots: list[dict], defaults: dict) -> Path:
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    base = {"photo": str(photo), "depth": str(depth), **SHOT}
    path = tmp_path / "shots.yaml"
    path.write_text(yaml.safe_dump({"defaults": {**base, **defaults}, "shots": shots}), encoding="utf-8")
    return path


def test_a_shot_list_sets_it_once_for_the_whole_batch(tmp_path):
    shots = [
        {"name": "SH010"},
        {"name": "SH020", "fill": "lama"},
        {"name": "SH030", "commercial_only": False},
        {"name": "SH040", "allow_noncommercial": True},
    ]
    checked = load_shot_list(_shot_list(tmp_path, shots, {"commercial_only": True}))
    assert [s.name for s in checked.specs] == ["SH010"] and checked.specs[
        0
    ].options.provenance.commercial_only
    errors = "\n".join(checked.errors)
    assert "(SH020): --commercial-only: fill model lama" in errors
    assert "(SH030): commercial_only: the batch is commercial-only; a shot cannot turn it off" in errors
    assert "(SH040): --commercial-only and --allow-noncommercial contradict" in errors


def test_the_batch_command_line_sets_it_and_may_lift_the_lists_default(tmp_path):
    path = _shot_list(tmp_path, [{"name": "SH010", "fill": "lama", "allow_noncommercial": True}], {})
    refused = load_shot_list(path, cli_level({"commercial_only": True}, Path.cwd()))
    assert refused.specs == () and "contradict" in refused.errors[0]
    path = _shot_list(tmp_path, [{"name": "SH010", "commercial_only": False}], {"commercial_only": True})
    lifted = load_shot_list(path, cli_level({"commercial_only": False}, Path.cwd()))
    assert lifted.errors == () and not lifted.specs[0].options.provenance.commercial_only
