"""C2PA content credentials (``--sign KEY CERT``): signed tiny renders verified by c2pa's own
Reader (signature, the photo's hash as ingredient, the actions as written), tampered files
failing, bad identities refused on one line before any render work. The certificate chains
are made by the test (tests/c2pa_identity.py: a CA and a signing certificate with the profile
C2PA asks for); skipped without c2pa."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

c2pa = pytest.importorskip("c2pa")
pytest.importorskip("cryptography")

from c2pa_identity import write_identity  # noqa: E402
from helpers import tiny_shot_inputs  # noqa: E402
from stillcam import cli, pipeline  # noqa: E402
from stillcam._version import __version__  # noqa: E402
from stillcam.errors import InputError  # noqa: E402
from stillcam.options import RenderOptions  # noqa: E402
from stillcam.output.provenance import (  # noqa: E402
    ALGORITHMIC_MEDIA,
    TRAINED_ALGORITHMIC_MEDIA,
    load_signing,
    read_credential,
)
from stillcam.output.recipe import read_recipe  # noqa: E402

OPTIONS = RenderOptions.from_fields({"size": "64x36", "duration": 0.25, "fps": "12", "move": "orbit"})


@pytest.fixture(scope="module")
def identity(tmp_path_factory) -> dict[str, Path]:
    """A root CA, a signing certificate it issued (P-256), their files, and a few bad ones."""
    return write_identity(tmp_path_factory.mktemp("identity"))


@pytest.fixture()
def shot_inputs(tmp_path: Path) -> tuple[Path, Path]:
    return tiny_shot_inputs(tmp_path / "in")


def _signed_render(identity, shot_inputs, output: Path, **kwargs):
    photo, depth = shot_inputs
    sign = load_signing(identity["key"], identity["chain"])
    return pipeline.render(photo, depth, output, OPTIONS, sign=sign, **kwargs)


def test_a_signed_video_verifies_with_the_photo_as_ingredient_and_the_actions_written(
    identity, shot_inputs, tmp_path
):
    recipe = _signed_render(identity, shot_inputs, tmp_path / "shot.mp4")
    photo_sha = hashlib.sha256(shot_inputs[0].read_bytes()).hexdigest()
    # c2pa's own Reader, as is: signature valid (its chain is not in c2pa's trust list).
    with open(tmp_path / "shot.mp4", "rb") as handle, c2pa.Reader("video/mp4", handle) as reader:
        assert reader.get_validation_state() == "Valid"
        manifest = reader.get_active_manifest()
    assert manifest["title"] == "shot.mp4"
    assert manifest["claim_generator_info"][0]["name"] == "stillcam"
    assert manifest["signature_info"]["common_name"] == "stillcam test signer"
    (ingredient,) = manifest["ingredients"]
    assert ingredient["relationship"] == "parentOf" and ingredient["title"] == "photo.png"
    assert ingredient["metadata"]["stillcam:sha256"] == photo_sha == recipe.inputs["photo"]["sha256"]
    # Through read_credential, trusting the test root: valid, trusted, no errors.
    found = read_credential(tmp_path / "shot.mp4", trust_anchors=identity["root"])
    assert found["present"] and found["valid"] and found["trusted"] and found["errors"] == []
    assert found["ingredients"] == [
        {"title": "photo.png", "format": "image/png", "relationship": "parentOf", "sha256": photo_sha}
    ]
    opened, edited = found["actions"]
    assert opened["action"] == "c2pa.opened"  # the parent ingredient opened, then edited
    assert edited["action"] == "c2pa.edited" and edited["softwareAgent"]["version"] == __version__
    assert "digitalSourceType" not in edited  # a depth file and classical fills: no trained model
    assert found["models"] == recipe.models == []
    assert "CN=stillcam test signer" in recipe.output["content_credentials"]["signer"]
    stored = read_recipe(tmp_path / "shot.recipe.json")
    assert stored.output["content_credentials"] == recipe.output["content_credentials"]


def test_without_the_trust_anchor_the_signature_is_valid_but_untrusted(identity, shot_inputs, tmp_path):
    _signed_render(identity, shot_inputs, tmp_path / "shot.mov")
    found = read_credential(tmp_path / "shot.mov")
    assert found["present"] and found["valid"] and not found["trusted"] and found["errors"] == []
    assert found["state"] == "Valid"


@pytest.mark.parametrize("where", ["media", "manifest"])
def test_a_tampered_video_fails_verification(identity, shot_inputs, tmp_path, where):
    _signed_render(identity, shot_inputs, tmp_path / "shot.mp4")
    data = bytearray((tmp_path / "shot.mp4").read_bytes())
    if where == "media":
        at = data.find(b"mdat") + 64  # inside the encoded frames
    else:
        at = data.find(b"stillcam.provenance") + 40  # inside stillcam's assertion
    data[at] ^= 0x5A
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    found = read_credential(tmp_path / "bad.mp4", trust_anchors=identity["root"])
    assert found["present"] and not found["valid"] and found["errors"], found
    assert all("\n" not in error for error in found["errors"])


def test_every_frame_of_a_png_sequence_is_signed_and_a_changed_frame_fails(identity, shot_inputs, tmp_path):
    _signed_render(identity, shot_inputs, tmp_path / "shot.####.png")
    frames = sorted(tmp_path.glob("shot.*.png"))
    assert len(frames) == 3
    for frame in frames:
        found = read_credential(frame, trust_anchors=identity["root"])
        assert found["valid"] and found["trusted"], frame
        assert found["ingredients"][0]["title"] == "photo.png"
    data = bytearray(frames[1].read_bytes())
    data[data.find(b"IDAT") + 10] ^= 0x01
    frames[1].write_bytes(bytes(data))
    assert not read_credential(frames[1])["valid"]


def test_the_example_is_created_as_algorithmic_media_with_no_ingredient(identity, tmp_path):
    sign = load_signing(identity["key"], identity["chain"])
    pipeline.demo(tmp_path / "demo.mp4", OPTIONS, example_size="64x36", sign=sign)
    found = read_credential(tmp_path / "demo.mp4", trust_anchors=identity["root"])
    assert found["valid"] and found["ingredients"] == []
    created, edited = found["actions"]
    assert created["action"] == "c2pa.created" and created["digitalSourceType"] == ALGORITHMIC_MEDIA
    assert edited["action"] == "c2pa.edited"


def test_a_model_in_the_models_list_makes_the_edit_trained_algorithmic_media(identity, shot_inputs, tmp_path):
    """A fill model's record (as the recipe holds it) reaches the manifest's action and
    stillcam's assertion (the model itself is not run: signing reads only the recipe)."""
    from stillcam.output.provenance import ContentCredential, sign_file

    recipe = pipeline.render(*shot_inputs, tmp_path / "plain.mp4", OPTIONS)
    model = {"role": "fill", "name": "migan", "repo": "r", "revision": "v", "licence": "MIT"}
    model |= {"commercial": True, "sha256": "ab" * 32}
    import dataclasses

    recipe = dataclasses.replace(recipe, models=[model])
    signing = load_signing(identity["key"], identity["chain"])
    sign_file(tmp_path / "plain.mp4", "plain.mp4", ContentCredential(signing, shot_inputs[0]), recipe)
    found = read_credential(tmp_path / "plain.mp4", trust_anchors=identity["root"])
    assert found["valid"] and found["models"] == [model]
    edited = found["actions"][-1]
    assert edited["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert (
        edited["parameters"]["models"] == [model]
        and "fill model migan" in edited["parameters"]["description"]
    )


def test_signing_leaves_the_frames_alone_a_rerender_without_it_gives_the_unsigned_bytes(
    identity, shot_inputs, tmp_path
):
    photo, depth = shot_inputs
    pipeline.render(photo, depth, tmp_path / "plain.mp4", OPTIONS)
    _signed_render(identity, shot_inputs, tmp_path / "signed.mp4")
    assert (tmp_path / "signed.mp4").read_bytes() != (tmp_path / "plain.mp4").read_bytes()
    pipeline.rerender(tmp_path / "signed.recipe.json", tmp_path / "again.mp4")
    assert (tmp_path / "again.mp4").read_bytes() == (tmp_path / "plain.mp4").read_bytes()
    sign = load_signing(identity["key"], identity["chain"])
    pipeline.rerender(tmp_path / "signed.recipe.json", tmp_path / "again_signed.mp4", sign=sign)
    assert read_credential(tmp_path / "again_signed.mp4", trust_anchors=identity["root"])["trusted"]
    again = json.loads((tmp_path / "again_signed.recipe.json").read_text())
    first = json.loads((tmp_path / "signed.recipe.json").read_text())
    assert again["models"] == first["models"] and again["inputs"] == first["inputs"]


def test_unsigned_and_uncarrying_outputs_read_as_not_present(shot_inputs, tmp_path):
    pipeline.render(*shot_inputs, tmp_path / "plain.mp4", OPTIONS)
    found = read_credential(tmp_path / "plain.mp4")
    assert not found["present"] and not found["valid"] and found["errors"] == [] and found["actions"] == []
    found = read_credential(tmp_path / "x.mkv")
    assert not found["present"] and "no C2PA manifest" in found["errors"][0]


def _no_decoding(monkeypatch):
    """Fail the test if the photo or the depth file is decoded."""

    def refuse(*args, **kwargs):
        raise AssertionError("a file was decoded before the error")

    monkeypatch.setattr(pipeline, "load_image", refuse)
    monkeypatch.setattr(pipeline, "read_depth_file", refuse)


@pytest.mark.parametrize(
    "key, cert, words",
    [
        ("other_key", "chain", "is not KEY's"),
        ("chain", "key", "KEY holds a certificate"),
        ("garbage", "chain", "not a private key"),
        ("key", "garbage", "not an X.509 certificate"),
        ("encrypted_key", "chain", "encrypted"),
        ("self_key", "self_cert", "c2pa refused the signing identity"),
        ("small_rsa_key", "small_rsa_cert", "at least 2048"),
        ("missing", "chain", "no such private key"),
    ],
)
def test_a_bad_key_or_certificate_is_one_line_before_any_render_work(
    identity, shot_inputs, tmp_path, monkeypatch, capsys, key, cert, words
):
    _no_decoding(monkeypatch)
    photo, depth = shot_inputs
    key_file = identity.get(key, tmp_path / "missing.pem")
    argv = ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "s.mp4"), "--quiet"]
    with pytest.raises(SystemExit) as stopped:
        cli.main([*argv, "--sign", str(key_file), str(identity[cert])])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert "BEGIN" not in err  # never a key's text
    assert not list(tmp_path.glob("s*"))


def test_a_sec1_key_is_accepted(identity):
    assert load_signing(identity["sec1_key"], identity["chain"]).algorithm == "ES256"


@pytest.mark.parametrize("output", ["shot.mkv", "shot.####.exr"])
def test_sign_refuses_containers_without_credentials_before_any_work(
    identity, shot_inputs, tmp_path, monkeypatch, output
):
    _no_decoding(monkeypatch)
    sign = load_signing(identity["key"], identity["chain"])
    options = RenderOptions.from_fields({"size": "64x36", "duration": 0.25, "fps": "12", "codec": "ffv1"})
    with pytest.raises(InputError, match="cannot carry C2PA content credentials"):
        pipeline.render(*shot_inputs, tmp_path / output, options, sign=sign)
    assert not list(tmp_path.glob("shot*"))


def test_a_photo_changed_during_the_render_publishes_nothing(identity, shot_inputs, tmp_path, monkeypatch):
    from stillcam.errors import OutputError
    from stillcam.output import provenance

    real = provenance._photo_ingredient

    def changed(photo, sha256):
        photo.write_bytes(photo.read_bytes() + b"\0")
        return real(photo, sha256)

    monkeypatch.setattr(provenance, "_photo_ingredient", changed)
    with pytest.raises(OutputError, match="changed during the render"):
        _signed_render(identity, shot_inputs, tmp_path / "shot.mp4")
    assert not list(tmp_path.glob("shot*")) and not list(tmp_path.glob(".*"))
