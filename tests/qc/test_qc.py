"""``stillcam qc`` on tiny real renders (the media fields are what was written, probed from the
files), the upscale factor (hand-computed cases, the fast path against the slow reference, the
render's warning before any frame), specs (shipped, custom, bad), sequences and recipes as
input, models and licences, the content credential."""

from __future__ import annotations

import io
import json
import logging
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam import pipeline
from stillcam.camera.camera import Camera, pose_from, rotation_y
from stillcam.camera.upscale import (
    Upscale,
    sample_pixels,
    shot_upscale,
    upscale_factors,
    upscale_factors_reference,
)
from stillcam.cli import main
from stillcam.errors import InputError
from stillcam.options import RenderOptions
from stillcam.output.recipe import Recipe
from stillcam.qc import load_spec, run_qc, spec_names
from stillcam.qc import report as qc_report
from stillcam.qc.spec import QcSpec
from stillcam.render.frame import RenderSettings
from stillcam.render.registry import get_renderer

#: 3 frames (0.25 s at 12 frames/s).
SHORT = ["--duration", "0.25", "--fps", "12", "--quiet"]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the CLI run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code), captured.out, captured.err


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A 64x36 photo and its depth (a wall 4-6 m away, a square at 2 m)."""
    return tiny_shot_inputs(tmp_path / "in")


def _render(inputs: tuple[Path, Path], output: Path, capsys, *extra: str) -> str:
    """Render ``output``; returns stderr."""
    photo, depth = inputs
    code, _, err = _run(
        ["render", str(photo), "--depth", str(depth), "-o", str(output), *SHORT, *extra], capsys
    )
    assert code == 0, err
    return err


# -- the upscale factor ---------------------------------------------------------------------


def _photo() -> tuple[Camera, np.ndarray]:
    """A 64x36 photo camera and a wall 2 m away with a 16x12 px square 1 m away in the middle."""
    camera = Camera.from_focal_mm(64, 36, 50.0)
    z = np.full((36, 64), 2.0, np.float32)
    z[12:24, 24:40] = 1.0
    return camera, z


def _moved(camera: Camera, x: float = 0.0, z: float = 0.0, degrees: float = 0.0) -> Camera:
    return camera.with_pose(pose_from(rotation_y(degrees), np.array([x, 0.0, z])))


def test_upscale_of_hand_computed_cameras():
    photo, z = _photo()
    factors = upscale_factors(
        photo, z, [photo, photo.scaled(4), _moved(photo, z=0.5), _moved(photo.scaled(2), z=0.5)]
    )
    # 1:1 -> 1; 4x the pixels -> 4; 0.5 m nearer: the square at 1 m is seen at 0.5 m -> 1/0.5 = 2
    # (the wall only 2/1.5); both -> 2 * 2.
    assert factors.tolist() == [1.0, 4.0, 2.0, 4.0]
    assert upscale_factors(photo, z, [photo.zoomed(1.5)])[0] == pytest.approx(1.5, rel=1e-12)
    assert upscale_factors(photo, z, [photo.resized(32, 18)])[0] == pytest.approx(0.5, rel=1e-12)
    # Sideways, the same distance from every point: 1 (the square stays in frame).
    assert upscale_factors(photo, z, [_moved(photo, x=0.1)])[0] == pytest.approx(1.0, abs=1e-12)
    # Looking away from the photo: it sees none of it.
    assert upscale_factors(photo, z, [_moved(photo, degrees=180.0)]).tolist() == [0.0]


def test_shot_upscale_names_the_most_magnified_frame_and_warns():
    photo, z = _photo()
    cameras = [_moved(photo, z=d) for d in (0.0, 0.25, 0.5, 0.25)]
    shot = shot_upscale(photo, z, cameras, first_frame=1001)
    assert shot == Upscale(2.0, 1003)
    assert (
        shot.upscaled
        and "frame 1003 shows the photo at 2.00 output pixels per photo pixel" in shot.warnings[0]
    )
    assert len(shot.warnings) == 1
    assert shot_upscale(photo, z, [photo], 1001).warnings == ()  # exactly 1.0: not upscaled


def test_fast_upscale_agrees_with_the_reference(tmp_path: Path):
    _, depth = tiny_shot_inputs(tmp_path)
    z = np.load(depth)
    photo = Camera.from_focal_mm(64, 36, 35.0)
    out = Camera.from_focal_mm(48, 27, 35.0)
    cameras = [
        out,
        _moved(out, x=0.3, z=0.8, degrees=8.0),
        _moved(out.zoomed(1.7), x=-0.2, degrees=-20.0),
        _moved(out, z=1.9),
        _moved(out.scaled(3), z=-1.0, degrees=30.0),
        _moved(out, degrees=180.0),
    ]
    for width in (64, 17, 5):  # every pixel, and two coarser samples
        fast = upscale_factors(photo, z, cameras, sample_width=width)
        slow = upscale_factors_reference(photo, z, cameras, sample_width=width)
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=0.0)
    factors = upscale_factors(photo, z, cameras)
    assert factors[3] > factors[0] and factors[-1] == 0.0  # a dolly-in magnifies; looking away sees nothing
    # A depth map at half the photo's size is placed on the photo's pixels (same aspect).
    half = z[::2, ::2].copy()
    np.testing.assert_allclose(
        upscale_factors(photo, half, cameras), upscale_factors_reference(photo, half, cameras), rtol=1e-12
    )


def test_sample_keeps_the_corners():
    rows, cols = sample_pixels(2160, 3840)
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (0, 2159, 0, 3839) and len(cols) == 160
    with pytest.raises(ValueError, match="at least 2"):
        sample_pixels(10, 10, 1)


class _Watching:
    """The cpu renderer, noting how many upscale warnings were logged when it first renders."""

    def __init__(self, lines: list[str]) -> None:
        self._renderer = get_renderer(RenderSettings(renderer="cpu"))
        self._lines, self.at_first_frame = lines, None

    def render(self, scene, camera):
        if self.at_first_frame is None:
            self.at_first_frame = len(self._lines)
        return self._renderer.render(scene, camera)


def test_render_warns_of_upscaling_before_the_first_frame(inputs, tmp_path: Path):
    photo, depth = inputs
    fields = {"size": "256x144", "duration": 0.25, "fps": "12", "move": "orbit", "renderer": "cpu"}
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: (
        lines.append(record.getMessage()) if "per photo pixel" in record.getMessage() else None
    )
    log = logging.getLogger("stillcam")
    log.addHandler(handler)
    watching = _Watching(lines)
    try:
        recipe = pipeline.render(
            photo, depth, tmp_path / "up.mp4", RenderOptions.from_fields(fields), renderer=watching
        )
    finally:
        log.removeHandler(handler)
    assert len(lines) == 1 and "output pixels per photo pixel" in lines[0] and "--size" in lines[0], lines
    assert watching.at_first_frame == 1  # said before any frame was rendered
    assert recipe.safety["upscale"] > 4.0 and lines[0] in recipe.safety["warnings"]


def test_a_smaller_output_is_not_upscaled(inputs, tmp_path: Path, capsys):
    err = _render(inputs, tmp_path / "small.mp4", capsys, "--size", "32x18", "--move", "orbit")
    assert "per photo pixel" not in err
    safety = json.loads((tmp_path / "small.recipe.json").read_text())["safety"]
    assert 0.4 < safety["upscale"] < 0.6 and safety["upscale_frame"] in (1001, 1002, 1003)


# -- qc of real renders ---------------------------------------------------------------------


def test_qc_reads_what_was_written_from_the_file(inputs, tmp_path: Path, capsys):
    video = tmp_path / "shot.mp4"
    _render(inputs, video, capsys, "--size", "32x18", "--move", "orbit", "--timecode", "01:00:00:00")
    code, out, err = _run(["qc", str(video)], capsys)
    assert code == 0, out + err
    assert "QC passed" in out and "h264" in out and "upscale" in out
    report = json.loads((tmp_path / "shot.mp4.qc.json").read_text())
    media = report["media"]
    assert (media["codec"], media["profile"], media["fourcc"], media["pix_fmt"]) == (
        "h264",
        "High",
        "avc1",
        "yuv420p",
    )
    assert (media["width"], media["height"], media["aspect"]) == (32, 18, "16:9")
    assert (media["bit_depth"], media["chroma"], media["fps"], media["frames"]) == (8, "4:2:0", "12/1", 3)
    assert media["colour"] == {
        "primaries": "bt709",
        "transfer": "bt709",
        "matrix": "bt709",
        "range": "limited",
    }
    assert media["frame_colour"] == media["colour"] and media["timecode"] == "01:00:00:00"
    assert report["recipe"] == str(tmp_path / "shot.recipe.json") and report["passed"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["upscale"]["result"] == "pass" and checks["matches recipe"]["result"] == "pass"
    assert report["shot"]["upscale"] < 1.0 and report["models"] == []  # a depth file, classical fills
    # The same from Python: the exit code and the report.
    tables = io.StringIO()
    code, checked = run_qc(tmp_path / "shot.recipe.json", spec="hd-review", write_json=False, out=tables)
    assert code == 1 and checked.failed == ["size"] and "QC FAILED: size" in tables.getvalue()


def test_qc_of_an_ffv1_master_counts_its_frames(inputs, tmp_path: Path, capsys):
    master = tmp_path / "m.mkv"  # Matroska does not store a frame count: the packets are counted
    _render(
        inputs, master, capsys, "--size", "32x18", "--move", "orbit", "--codec", "ffv1", "--bit-depth", "16"
    )
    code, out, _ = _run(["qc", str(master), "--json", "-"], capsys)
    media = json.loads(out)["media"]
    assert code == 0 and (media["codec"], media["frames"], media["bit_depth"], media["chroma"]) == (
        "ffv1",
        3,
        16,
        "4:4:4",
    )
    assert media["colour"]["matrix"] == "gbr" and media["colour"]["range"] == "full"
    assert not (tmp_path / "m.mkv.qc.json").exists()  # --json -: on stdout only


def test_an_upscaled_output_fails_the_upscale_check(inputs, tmp_path: Path, capsys):
    video = tmp_path / "big.mp4"
    err = _render(inputs, video, capsys, "--size", "256x144", "--move", "dolly-in")
    assert "output pixels per photo pixel" in err
    code, out, err = _run(["qc", str(video), "--no-json"], capsys)
    assert code == 1 and "QC FAILED: upscale" in out, out + err
    assert not (tmp_path / "big.mp4.qc.json").exists()
    code, out, _ = _run(["qc", str(video), "--json", "-", "--spec", "hd-review"], capsys)
    report = json.loads(out)
    assert code == 1 and "upscale" in report["failed"] and "size" in report["failed"]
    upscale = next(c for c in report["checks"] if c["name"] == "upscale")
    assert upscale["ok"] is False and upscale["expected"] == "<= 1 output px per photo px"


def _write_spec(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_render_passes_the_spec_it_was_made_for(inputs, tmp_path: Path, capsys):
    video = tmp_path / "edit.mov"
    _render(
        inputs,
        video,
        capsys,
        "--size",
        "32x18",
        "--move",
        "orbit",
        "--codec",
        "prores-422hq",
        "--timecode",
        "01:00:00:00",
    )
    spec = _write_spec(
        tmp_path / "tiny-prores.yaml",
        "name: tiny prores\nwidth: 32\nheight: 18\ncodec: prores\nfourcc: apch\nprofile: HQ\nbit_depth: 10\n"
        "chroma: '4:2:2'\ncolour: {primaries: bt709, transfer: bt709, matrix: bt709, range: limited}\n"
        "fps: [12, 24000/1001]\ntimecode: true\nmax_upscale: 1.0\nmax_reveal: 0.9\n",
    )
    code, out, err = _run(["qc", str(video), "--spec", str(spec)], capsys)
    assert code == 0, out + err
    report = json.loads((tmp_path / "edit.mov.qc.json").read_text())
    names = [c["name"] for c in report["checks"]]
    for name in (
        "size",
        "codec",
        "fourcc",
        "profile",
        "bit depth",
        "chroma",
        "colour range",
        "fps",
        "timecode",
    ):
        assert name in names
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    # The shipped UHD ProRes spec: everything but the size and the rate (12 frames/s).
    code, out, _ = _run(["qc", str(video), "--spec", "uhd-prores-422hq", "--json", "-"], capsys)
    assert code == 1 and json.loads(out)["failed"] == ["size", "fps"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nbit_depth: ten\n", "bit_depth: must be an integer"),
        ("name: x\nbitdepth: 10\n", "bitdepth: is not a known field"),
        ("name: x\nchroma: 4:2:2\n", "chroma: write it in quotes"),
        ("name: x\nfps: [24, abc]\n", "fps: 'abc' is not a frame rate"),
        ("name: x\ncolour: {range: tv}\n", "colour.range: must be 'limited' or 'full'"),
        ("width: 10\n", "name: is required"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_spec_names_the_field(inputs, tmp_path: Path, capsys, text, needle):
    video = tmp_path / "v.mp4"
    _render(inputs, video, capsys, "--size", "32x18")
    spec = _write_spec(tmp_path / "bad.yaml", text)
    code, out, err = _run(["qc", str(video), "--spec", str(spec)], capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err and str(spec) in err, err
    assert out == "" and not (tmp_path / "v.mp4.qc.json").exists()


def test_bad_input_exits_2(tmp_path: Path, capsys):
    code, _, err = _run(["qc", str(tmp_path / "nothing.mp4")], capsys)
    assert code == 2 and "no such video file" in err
    code, _, err = _run(["qc", str(tmp_path / "x.txt")], capsys)
    assert code == 2 and err.startswith("stillcam: error:")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    code, _, err = _run(["qc", str(tmp_path / "junk.mp4")], capsys)
    assert code == 2 and "cannot be probed" in err
    code, _, err = _run(["qc", str(tmp_path / "junk.mp4"), "--spec", "uhd"], capsys)
    assert code == 2 and "hd-review, uhd-prores-422hq" in err


def test_the_report_may_not_replace_the_output(inputs, tmp_path: Path, capsys):
    video = tmp_path / "v.mp4"
    _render(inputs, video, capsys, "--size", "32x18")
    before = video.read_bytes()
    code, _, err = _run(["qc", str(video), "--json", str(video)], capsys)
    assert code == 2 and "QC report" in err and video.read_bytes() == before


def test_a_sequence_and_its_recipe_as_input(inputs, tmp_path: Path, capsys):
    _render(inputs, tmp_path / "s.####.png", capsys, "--size", "32x18", "--move", "orbit")
    code, out, err = _run(
        ["qc", str(tmp_path / "s.png.recipe.json"), "--spec", "hd-review", "--json", "-"], capsys
    )
    report = json.loads(out)
    media = report["media"]
    assert report["output"] == str(tmp_path / "s.####.png") and media["kind"] == "sequence"
    assert (media["codec"], media["frames"], media["first_frame"], media["last_frame"]) == (
        "png",
        3,
        1001,
        1003,
    )
    assert (media["bit_depth"], media["chroma"], media["fps"]) == (8, "4:4:4", None)
    assert code == 1 and "codec" in report["failed"] and "upscale" not in report["failed"]
    # One frame names its sequence; the report goes beside it.
    code, out, err = _run(["qc", str(tmp_path / "s.1002.png")], capsys)
    assert code == 0 and (tmp_path / "s.png.qc.json").exists(), out + err
    (tmp_path / "s.1002.png").unlink()
    code, out, _ = _run(["qc", str(tmp_path / "s.####.png"), "--json", "-"], capsys)
    report = json.loads(out)
    assert code == 1 and report["failed"] == ["matches recipe", "no missing frames"]
    assert report["media"]["missing"] == [1002]


def test_an_exr_sequence_is_scene_linear_half_float(inputs, tmp_path: Path, capsys):
    _render(inputs, tmp_path / "c.####.exr", capsys, "--size", "32x18", "--move", "orbit")
    code, out, _ = _run(["qc", str(tmp_path / "c.####.exr"), "--json", "-"], capsys)
    media = json.loads(out)["media"]
    assert code == 0 and (media["codec"], media["bit_depth"], media["sample"]) == ("exr", 16, "float")
    assert media["colour"] == {"primaries": "bt709", "transfer": "linear", "matrix": "gbr", "range": "full"}
    assert (media["fps"], media["profile"], media["alpha"]) == ("12/1", "ZIP", True)


# -- specs, models, credentials -------------------------------------------------------------


def test_shipped_specs_load():
    assert spec_names() == ["hd-review", "uhd-prores-422hq"]
    uhd = load_spec("uhd-prores-422hq")
    assert (uhd.width, uhd.height, uhd.codec, uhd.fourcc, uhd.profile) == (3840, 2160, "prores", "apch", "HQ")
    assert (uhd.bit_depth, uhd.chroma, uhd.max_upscale, uhd.colour.primaries) == (10, "4:2:2", 1.0, "bt709")
    hd = load_spec("hd-review")
    assert (hd.width, hd.height, hd.codec, hd.bit_depth, hd.chroma) == (1920, 1080, "h264", 8, "4:2:0")
    with pytest.raises(InputError, match="no such shipped spec"):
        load_spec("dci-4k")


def _recipe(**inputs) -> Recipe:
    return Recipe("0", {"example": {}, **inputs}, {}, "", {})


def test_models_and_licences_come_from_the_recipe():
    depth = {"model": "depth-anything-v2-small", "revision": "abc123", "cache": "c.npy", "sha256": "0" * 64}
    fills = [
        {"name": "lama", "revision": "r1", "sha256": "1" * 64, "licence": "research", "commercial": False}
    ]
    records = qc_report.model_records(_recipe(depth=depth, fill_models=fills))
    assert [(r["role"], r["name"], r["revision"]) for r in records] == [
        ("depth", "depth-anything-v2-small", "abc123"),
        ("fill", "lama", "r1"),
    ]
    assert records[0]["licence"] == "Apache-2.0" and records[0]["commercial"] is True
    assert records[1]["commercial"] is False and records[1]["sha256"] == "1" * 64
    # The unified list, where a recipe has one, wins.
    unified = types.SimpleNamespace(**vars(_recipe(depth=depth)))
    unified.models = [{"role": "depth", "name": "moge-2", "licence": "MIT", "commercial": True, "extra": 1}]
    assert qc_report.model_records(unified) == [
        {
            "role": "depth",
            "name": "moge-2",
            "repo": None,
            "revision": None,
            "licence": "MIT",
            "commercial": True,
            "sha256": None,
        }
    ]
    shot = qc_report.shot_record(None)
    checks = qc_report._shot_checks(
        QcSpec(name="s", commercial_only=True), shot, records, {"checked": False, "note": "x"}
    )
    commercial = next(c for c in checks if c.name == "commercial models")
    assert commercial.ok is False and "lama" in commercial.actual


def test_the_credential_is_not_checked_without_the_extra(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(qc_report.importlib.util, "find_spec", lambda name: None)
    record = qc_report.credential_record(tmp_path / "v.mp4")
    assert record["checked"] is False and record["note"] == "not checked (extra provenance not installed)"
    spec = QcSpec(name="s", credential=True)
    check = qc_report._shot_checks(spec, qc_report.shot_record(None), [], record)[-1]
    assert check.name == "credential" and check.ok is False and "not installed" in check.actual


def test_the_credential_is_read_through_the_provenance_module(monkeypatch, tmp_path: Path):
    seen = []
    fake = types.ModuleType("stillcam.output.provenance")
    fake.read_credential = lambda path: (
        seen.append(path) or {"present": True, "valid": False, "errors": ["bad hash"]}
    )
    monkeypatch.setattr(qc_report.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setitem(sys.modules, "stillcam.output.provenance", fake)
    record = qc_report.credential_record(tmp_path / "v.mp4")
    assert (
        record["checked"] and record["present"] and not record["valid"] and record["errors"] == ["bad hash"]
    )
    assert seen == [tmp_path / "v.mp4"]


def test_an_old_recipe_without_the_upscale_is_not_measurable(inputs, tmp_path: Path, capsys):
    video = tmp_path / "old.mp4"
    _render(inputs, video, capsys, "--size", "32x18")
    recipe_path = tmp_path / "old.recipe.json"
    recipe = json.loads(recipe_path.read_text())
    del recipe["safety"]["upscale"], recipe["safety"]["upscale_frame"]
    recipe_path.write_text(json.dumps(recipe))
    code, out, _ = _run(["qc", str(video), "--json", "-"], capsys)
    upscale = next(c for c in json.loads(out)["checks"] if c["name"] == "upscale")
    assert code == 0 and upscale["ok"] is None and upscale["result"] == "n/a"
