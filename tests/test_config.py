"""A site's defaults (``$STILLCAM_CONFIG``, stillcam/config.py): given to each command as if
typed before the user's own options, checked before any work; nothing read without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from stillcam import pipeline
from stillcam.cli import main
from stillcam.config import SiteConfig, config_arguments, read_config
from stillcam.errors import InputError

SMALL = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--move", "orbit", "--quiet"]
NON_COMMERCIAL = ["--depth-model", "depth-anything-v2-base"]  # CC-BY-NC-4.0


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


@pytest.fixture()
def site(tmp_path, monkeypatch):
    """``site(text)``: a configuration file of ``text``, named by ``$STILLCAM_CONFIG``."""

    def write(text: str) -> Path:
        path = tmp_path / "site" / "stillcam.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        monkeypatch.setenv("STILLCAM_CONFIG", str(path))
        return path

    return write


@pytest.fixture()
def decoding(monkeypatch) -> list[str]:
    calls: list[str] = []
    for name in ("load_image", "read_depth_file"):
        real = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, lambda *a, _n=name, _r=real, **k: calls.append(_n) or _r(*a, **k))
    return calls


def test_commercial_only_from_the_site_refuses_before_any_decode(
    photo_files, tmp_path, site, capsys, decoding
):
    photo, depth = photo_files
    argv = [
        "render",
        str(photo),
        "--depth",
        str(depth),
        "-o",
        str(tmp_path / "a.mp4"),
        *SMALL,
        *NON_COMMERCIAL,
    ]
    site("commercial_only: true\n")
    code, err = _run(argv, capsys)
    assert code == 2 and "depth-anything-v2-base" in err and "commercial" in err
    assert decoding == [] and not (tmp_path / "a.mp4").exists()
    code, err = _run([*argv, "--no-commercial-only"], capsys)  # the user's own option wins
    assert code == 0, err
    assert (tmp_path / "a.mp4").is_file()


def test_without_the_variable_nothing_is_read(photo_files, tmp_path, monkeypatch, capsys):
    photo, depth = photo_files
    monkeypatch.delenv("STILLCAM_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    Path("stillcam.yaml").write_text("commercial_only: true\n")  # not named: not read
    argv = ["render", str(photo), "--depth", str(depth), "-o", "a.mp4", *SMALL, *NON_COMMERCIAL]
    assert _run(argv, capsys)[0] == 0


def test_a_batch_takes_the_site_policy_too(tmp_path, site, capsys):
    photo = tmp_path / "p.png"
    photo.write_bytes(b"")  # never decoded: the options are refused first
    shots = tmp_path / "shots.yaml"
    shots.write_text(f"shots:\n  - name: A\n    photo: {photo}\n    depth_model: depth-anything-v2-base\n")
    site("commercial_only: true\n")
    code, err = _run(["batch", str(shots), "-o", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and "commercial" in err and not (tmp_path / "out").exists()


def test_sign_from_the_site_is_checked_before_any_decode(photo_files, tmp_path, site, capsys, decoding):
    pytest.importorskip("c2pa")
    photo, depth = photo_files
    site("sign:\n  key: keys/missing.key\n  cert: keys/missing.pem\n")
    code, err = _run(
        ["render", str(photo), "--depth", str(depth), "-o", str(tmp_path / "a.mp4"), *SMALL], capsys
    )
    assert code == 2 and "missing.key" in err and len(err.strip().splitlines()) == 1
    assert str(tmp_path / "site" / "keys") in err  # relative to the configuration file
    assert decoding == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commercial_onyl: true\n", "commercial_onyl"),
        ("commercial_only: maybe\n", "commercial_only"),
        ("sign:\n  key: a.key\n", "sign.cert"),
        ("- a\n- b\n", "top level: must be an object"),
        ("commercial_only: [\n", "not valid YAML"),
    ],
)
def test_a_bad_configuration_is_one_line_naming_the_key(tmp_path, site, capsys, text, expected):
    path = site(text)
    code, err = _run(["moves"], capsys)
    assert code == 2 and expected in err and str(path) in err and len(err.strip().splitlines()) == 1


def test_the_arguments_a_configuration_stands_for(tmp_path):
    both = SiteConfig.model_validate(
        {"commercial_only": True, "sign": {"key": "k.pem", "cert": "/abs/c.pem"}}
    )
    render = ["--commercial-only", "--no-commercial-only", "--sign"]
    assert config_arguments(both, tmp_path, render) == [
        "--commercial-only",
        "--sign",
        str(tmp_path / "k.pem"),
        "/abs/c.pem",
    ]
    assert config_arguments(both, tmp_path, ["--commercial-only"]) == ["--commercial-only"]  # rerender
    assert config_arguments(both, tmp_path, []) == []  # moves, models: nothing
    off = SiteConfig.model_validate({"commercial_only": False})
    assert config_arguments(off, tmp_path, render) == ["--no-commercial-only"]
    assert config_arguments(off, tmp_path, ["--commercial-only"]) == []
    (tmp_path / "empty.yaml").write_text("")
    assert read_config(tmp_path / "empty.yaml") == SiteConfig()
    with pytest.raises(InputError, match=r"does not exist|no such|not found"):
        read_config(tmp_path / "nope.yaml")
