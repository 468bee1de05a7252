"""``stillcam batch --sign KEY CERT``: every shot's output carries content credentials, on the
local pool and in the chunked encode; a bad identity or an output that cannot carry them is
refused before any work."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

c2pa = pytest.importorskip("c2pa")
pytest.importorskip("cryptography")

from c2pa_identity import write_identity  # noqa: E402
from stillcam.batch.chunks import chunk_folder, chunk_ranges, encode_chunks, render_chunk  # noqa: E402
from stillcam.batch.jobs import ShotJob  # noqa: E402
from stillcam.cli import main  # noqa: E402
from stillcam.options import RenderOptions  # noqa: E402
from stillcam.output.provenance import read_credential  # noqa: E402

SMALL_FLAGS = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--encoder-threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def identity(tmp_path_factory) -> dict[str, Path]:
    return write_identity(tmp_path_factory.mktemp("identity"))


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


def _verified(path: Path, identity: dict[str, Path]) -> dict:
    found = read_credential(path, trust_anchors=identity["root"])
    assert found["present"] and found["valid"] and found["trusted"], found["errors"]
    return found


def test_every_output_of_a_batch_is_signed(tmp_path, stills, write_yaml, identity, capsys):
    shots = [
        {"name": "A", "photo": "in/a.png"},
        {"name": "B", "photo": "in/b.png", "output": "{shot}.####.png"},
    ]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy"})
    out = tmp_path / "renders"
    sign = ["--sign", str(identity["key"]), str(identity["chain"])]
    code, err = _run(["batch", str(path), "-o", str(out), "--workers", "2", *sign, *SMALL_FLAGS], capsys)
    assert code == 0, err
    video = _verified(out / "A_v001.mp4", identity)
    assert [i["sha256"] for i in video["ingredients"]] == [hashlib.sha256(stills.a.read_bytes()).hexdigest()]
    frames = sorted(out.glob("B.*.png"))
    assert len(frames) == 3 and all(_verified(frame, identity) for frame in frames)


def test_a_bad_identity_or_an_unsignable_output_renders_nothing(
    tmp_path, stills, write_yaml, identity, capsys
):
    path = write_yaml(
        tmp_path / "shots.yaml", [{"name": "A", "photo": "in/a.png", "output": "{shot}.mkv", "codec": "ffv1"}]
    )
    out = tmp_path / "renders"
    code, err = _run(
        ["batch", str(path), "-o", str(out), "--sign", str(identity["key"]), str(identity["chain"])], capsys
    )
    assert code == 2 and "shots[0] (A): --sign: A.mkv cannot carry C2PA" in err, err
    assert not out.exists() or not any(out.iterdir())
    path = write_yaml(tmp_path / "ok.yaml", [{"name": "A", "photo": "in/a.png"}], {"depth": "in/depth.npy"})
    code, err = _run(
        ["batch", str(path), "-o", str(out), "--sign", str(identity["other_key"]), str(identity["chain"])],
        capsys,
    )
    assert code == 2 and "--sign" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_a_chunked_shot_is_signed_by_its_encode(tmp_path, stills, identity):
    options = RenderOptions.from_fields({"size": "64x36", "duration": 1.0, "fps": "12", "encoder_threads": 1})
    (tmp_path / "out").mkdir()
    job = ShotJob("A", stills.a, stills.depth, options, tmp_path / "out" / "A.mp4")
    job = replace(job, sign=(str(identity["key"]), str(identity["chain"])))
    folders = []
    for a, b in chunk_ranges(1001, 12, 6):
        folders.append(chunk_folder(job, tmp_path / "scratch", a, b))
        assert render_chunk(job, a, b, folders[-1]).error is None
    result = encode_chunks(job, folders)
    assert result.status == "done", result.error
    _verified(job.output, identity)
