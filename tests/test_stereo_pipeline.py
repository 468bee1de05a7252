"""``--stereo`` end to end: packed layouts are the separate eyes side by side or stacked,
``separate`` writes and re-renders one output per eye (all or nothing), options and outputs
are refused before any decoding, the exports carry the eye cameras, chunks join."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam import pipeline
from stillcam.camera.plan import ShotSettings
from stillcam.cli import main
from stillcam.errors import InputError, OutputError
from stillcam.options import RenderOptions
from stillcam.output.stereo import eye_target
from stillcam.output.targets import parse_output
from stillcam.output.writers import OutputSettings
from stillcam.render.frame import RenderSettings

SHOT = ShotSettings(size="64x36", duration=0.25, fps="12", move="dolly-in")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return tiny_shot_inputs(tmp_path_factory.mktemp("in"))


def _options(stereo: str | None, *, output: OutputSettings | None = None, **render) -> RenderOptions:
    return RenderOptions(
        shot=SHOT, render=RenderSettings(stereo=stereo, **render), output=output or OutputSettings()
    )


def _frames(folder: Path, name: str) -> list[np.ndarray]:
    files = sorted(folder.glob(f"{name}.[0-9]*.png"))
    return [cv2.imread(str(f), cv2.IMREAD_UNCHANGED) for f in files]


def test_eye_names_follow_the_stem():
    cases = {
        "out/shot.mp4": ("out/shot.left.mp4", "out/shot.right.mp4"),
        "shot.####.png": ("shot.left.####.png", "shot.right.####.png"),
        "shot.%04d.exr": ("shot.left.%04d.exr", "shot.right.%04d.exr"),
        "shot_####.png": ("shot.left_####.png", "shot.right_####.png"),
        "####.png": ("left.####.png", "right.####.png"),
    }
    for given, names in cases.items():
        target = parse_output(given)
        got = tuple(eye_target(target, eye).path.as_posix() for eye in ("left", "right"))
        assert got == names, given
        assert eye_target(target, "left").kind == target.kind
        assert eye_target(target, "left").padding == target.padding


@pytest.mark.parametrize(
    "lens",
    [{}, {"shutter": 180.0, "shutter_samples": 3, "fstop": 1.4, "distortion": "-0.1,0,0,0", "vignette": 1.0}],
    ids=["plain", "lens-and-shutter"],
)
def test_sbs_and_tb_pack_the_separate_eyes(tmp_path, inputs, lens):
    pipeline.render(*inputs, tmp_path / "sep.####.png", _options("separate", **lens))
    left, right = _frames(tmp_path, "sep.left"), _frames(tmp_path, "sep.right")
    assert len(left) == len(right) == 3 and left[0].shape == (36, 64, 3)
    assert not np.array_equal(left[0], right[0])
    assert not list(tmp_path.glob("sep.[0-9]*.png"))  # no centre frames
    pipeline.render(*inputs, tmp_path / "sbs.####.png", _options("sbs", **lens))
    pipeline.render(*inputs, tmp_path / "tb.####.png", _options("tb", **lens))
    for packed, axis in ((_frames(tmp_path, "sbs"), 1), (_frames(tmp_path, "tb"), 0)):
        assert len(packed) == 3
        for frame, a, b in zip(packed, left, right, strict=True):
            np.testing.assert_array_equal(frame, np.concatenate([a, b], axis=axis))
    recipe = json.loads((tmp_path / "sbs.png.recipe.json").read_text())
    assert recipe["output"]["width"] == 128 and recipe["output"]["height"] == 36
    stereo = recipe["output"]["stereo"]
    assert stereo["layout"] == "sbs" and stereo["interaxial_mm"] == 65.0 and stereo["eye_width"] == 64
    assert stereo["convergence_m"] > 0


def test_separate_rerenders_both_eyes_bit_for_bit(tmp_path, inputs, capsys):
    argv = ["render", str(inputs[0]), "--depth", str(inputs[1]), "-o", str(tmp_path / "a.####.png")]
    argv += ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--quiet", "--move", "orbit"]
    argv += ["--stereo", "separate", "--interaxial", "120", "--convergence", "3", "--bit-depth", "16"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0, capsys.readouterr().err
    recipe_path = tmp_path / "a.png.recipe.json"
    recipe = json.loads(recipe_path.read_text())
    assert recipe["options"]["render"]["stereo"] == "separate"
    assert recipe["output"]["stereo"]["eyes"] == {"left": "a.left.####.png", "right": "a.right.####.png"}
    assert recipe["output"]["stereo"]["convergence_m"] == 3.0
    with pytest.raises(SystemExit) as exit_info:
        main(["rerender", str(recipe_path), "-o", str(tmp_path / "b.####.png"), "--quiet"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    for eye in ("left", "right"):
        first = sorted(tmp_path.glob(f"a.{eye}.[0-9]*.png"))
        again = sorted(tmp_path.glob(f"b.{eye}.[0-9]*.png"))
        assert len(first) == len(again) == 3
        assert [f.read_bytes() for f in first] == [f.read_bytes() for f in again]
    assert (tmp_path / "b.png.recipe.json").is_file()


def test_separate_publishes_nothing_unless_both_eyes_are_complete(tmp_path, inputs):
    def stop(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.render(*inputs, tmp_path / "s.mp4", _options("separate"), on_frame=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_existing_eye_output_is_refused_before_any_decoding(tmp_path, inputs, monkeypatch):
    (tmp_path / "s.right.mp4").write_bytes(b"x")

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(pipeline, "load_image", no_decoding)
    with pytest.raises(OutputError, match=r"s\.right\.mp4"):
        pipeline.render(*inputs, tmp_path / "s.mp4", _options("separate"))
    (tmp_path / "cam.left.chan").write_bytes(b"x")
    with pytest.raises(OutputError, match=r"cam\.left\.chan"):
        pipeline.render(*inputs, tmp_path / "t.mp4", _options("sbs"), exports=[tmp_path / "cam.chan"])
    with pytest.raises(InputError, match="--stereo sbs: not on EXR frames"):
        pipeline.render(*inputs, tmp_path / "t.####.exr", _options("sbs"))
    with pytest.raises(InputError, match="would overwrite"):  # an eye output onto another output
        pipeline.render(*inputs, tmp_path / "u.mp4", _options("separate"), exports=[tmp_path / "u.left.mp4"])


def test_a_packed_frame_too_big_is_refused_when_the_options_are_made(capsys):
    with pytest.raises(InputError, match=r"--stereo sbs of --size 9000x100.*18000x100"):
        RenderOptions(shot=ShotSettings(size="9000x100"), render=RenderSettings(stereo="sbs"))
    RenderOptions(shot=ShotSettings(size="9000x100"), render=RenderSettings(stereo="separate"))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "-o", "x.mp4", "--size", "100x9000", "--stereo", "tb"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "--stereo tb" in err


def test_bad_stereo_options_on_the_command_line_exit_2_in_one_line(capsys):
    for extra in (["--stereo", "anaglyph"], ["--stereo", "sbs", "--interaxial", "0"], ["--convergence", "x"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "-o", "x.mp4", *extra])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.strip().count("\n") <= 1, err
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--stereo {sbs,tb,separate}" in text and "--interaxial MM" in text
    assert "--convergence WHERE" in text


def test_packed_stereo_with_motion_blur_depth_of_field_and_distortion(tmp_path, inputs):
    lens = {"shutter": 180.0, "shutter_samples": 2, "fstop": 2.0, "distortion": "-0.1,0,0,0"}
    pipeline.render(*inputs, tmp_path / "l.####.png", _options("sbs", **lens))
    frames = _frames(tmp_path, "l")
    assert len(frames) == 3 and frames[0].shape == (36, 128, 3)
    for eye in ("left", "right"):  # each eye has its own principal point: its own ST-maps
        assert (tmp_path / f"l.{eye}.stmap.exr").is_file()
        assert (tmp_path / f"l.{eye}.undistort.stmap.exr").is_file()
    assert not (tmp_path / "l.stmap.exr").exists()


def test_packed_passes_and_burn_ins_in_each_eye(tmp_path, inputs):
    passes = OutputSettings(passes=("depth", "coverage"))
    pipeline.render(*inputs, tmp_path / "p.####.png", _options("tb", output=passes))
    coverage = cv2.imread(str(tmp_path / "p.coverage.1001.png"), cv2.IMREAD_UNCHANGED)
    assert coverage.shape == (72, 64) and (tmp_path / "p.depth.1001.exr").is_file()
    pipeline.render(*inputs, tmp_path / "plain.####.png", _options("sbs"))
    pipeline.render(*inputs, tmp_path / "b.####.png", _options("sbs", output=OutputSettings(burn_in=True)))
    plain, burned = _frames(tmp_path, "plain")[0], _frames(tmp_path, "b")[0]
    changed = np.any(plain != burned, axis=2)
    assert changed.any()
    np.testing.assert_array_equal(changed[:, :64], changed[:, 64:])  # the same place in both eyes


def test_exports_carry_both_eye_cameras(tmp_path, inputs):
    pytest.importorskip("pxr")
    from pxr import Usd, UsdGeom

    exports = [tmp_path / "cam.usda", tmp_path / "cam.chan"]
    options = _options("sbs", interaxial=80.0, convergence="2.5")
    pipeline.render(*inputs, tmp_path / "s.mp4", options, exports=exports)
    stage = Usd.Stage.Open(str(tmp_path / "cam.usda"))
    roles = {}
    for name in ("camera", "camera_left", "camera_right"):
        camera = UsdGeom.Camera(stage.GetPrimAtPath(f"/stillcam/{name}"))
        assert camera, name
        roles[name] = camera.GetStereoRoleAttr().Get()
    assert roles == {"camera": "mono", "camera_left": "left", "camera_right": "right"}
    from pxr import UsdValidation

    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    assert [e.GetMessage() for e in UsdValidation.ValidationContext(validators).Validate(stage)] == []
    positions = {}
    offsets = {}
    for name in ("camera", "camera_left", "camera_right"):
        prim = stage.GetPrimAtPath(f"/stillcam/{name}")
        matrix = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(1001)
        positions[name] = np.array(matrix.ExtractTranslation())
        offsets[name] = prim.GetAttribute("horizontalApertureOffset").Get(1001)
    # 80 mm apart in cm along x (a dolly: no rotation), centred on the mono camera
    np.testing.assert_allclose(positions["camera_right"] - positions["camera_left"], [8.0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(positions["camera_left"] + positions["camera_right"], 2 * positions["camera"])
    assert offsets["camera_left"] < offsets["camera"] < offsets["camera_right"]  # the image translation
    centre, left, right = (
        np.loadtxt(tmp_path / name) for name in ("cam.chan", "cam.left.chan", "cam.right.chan")
    )
    assert centre.shape == left.shape == right.shape == (3, 8)
    np.testing.assert_allclose(left[:, 1] - centre[:, 1], -0.04, atol=1e-7)
    np.testing.assert_allclose(right[:, 1] - centre[:, 1], 0.04, atol=1e-7)
    np.testing.assert_allclose(left[:, 2:], centre[:, 2:], atol=1e-7)


def test_exports_without_stereo_are_unchanged(tmp_path, inputs):
    pipeline.render(*inputs, tmp_path / "s.mp4", _options(None), exports=[tmp_path / "cam.chan"])
    assert sorted(p.name for p in tmp_path.glob("cam*")) == ["cam.chan"]


def test_packed_stereo_chunks_join_into_the_whole_render(tmp_path, inputs):
    from stillcam.batch.chunks import (
        check_shot,
        chunk_folder,
        chunk_ranges,
        encode_chunks,
        render_chunk,
        unchunkable,
    )
    from stillcam.batch.jobs import ShotJob, run_shot

    options = replace(_options("sbs"), shot=replace(SHOT, duration=1.0))
    (tmp_path / "whole").mkdir()
    (tmp_path / "chunked").mkdir()
    whole = run_shot(ShotJob("SH010", *inputs, options, tmp_path / "whole" / "s.####.png"))
    job = ShotJob("SH010", *inputs, options, tmp_path / "chunked" / "s.####.png")
    assert unchunkable(job) is None
    first, count = check_shot(job, overwrite=False)
    folders = []
    for a, b in chunk_ranges(first, count, 5):
        folder = chunk_folder(job, tmp_path / "scratch", a, b)
        assert render_chunk(job, a, b, folder).error is None
        folders.append(folder)
    result = encode_chunks(job, folders)
    assert whole.status == result.status == "done" and result.frames == 12, result.error
    names = sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "chunked").iterdir())
    for name in names:
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "chunked" / name).read_bytes(), name
    separate = ShotJob("SH010", *inputs, _options("separate"), tmp_path / "c" / "s.mp4")
    assert "--stereo separate" in (unchunkable(separate) or "")
    assert separate.outputs == (str(tmp_path / "c" / "s.left.mp4"), str(tmp_path / "c" / "s.right.mp4"))


def test_render_views_packs_both_eyes():
    from stillcam.views import render_views

    image = np.random.default_rng(0).integers(0, 255, (36, 64, 3), dtype=np.uint8)
    depth = np.full((36, 64), 3.0, np.float32)
    K = np.array([[60.0, 0, 31.5], [0, 60.0, 17.5], [0, 0, 1]])
    plain = render_views(image, depth, K, [np.eye(4)])[0]
    (sbs,) = render_views(image, depth, K, [np.eye(4)], stereo="sbs", convergence="3")
    assert sbs.shape == (36, 128, 3)
    # a plane at the convergence distance: both eyes see it where the centre camera does
    np.testing.assert_array_equal(sbs[:, 8:56], plain[:, 8:56])
    np.testing.assert_array_equal(sbs[:, 72:120], plain[:, 8:56])
    with pytest.raises(InputError, match="separate"):
        render_views(image, depth, K, [np.eye(4)], stereo="separate")


def _exr(path: Path):
    import OpenEXR

    with OpenEXR.File(str(path), separate_channels=True) as file:
        header = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in file.header().items()}
        return header, np.array(file.channels()["Z"].pixels)


def test_separate_exr_sequences_carry_each_eyes_camera(tmp_path, inputs):
    from stillcam.camera.stereo import StereoRig, eye_camera
    from stillcam.conventions import GLTF_FROM_OPENCV

    options = _options("separate", interaxial=100.0, convergence="3")
    pipeline.render(*inputs, tmp_path / "e.####.exr", options)
    headers = {eye: _exr(tmp_path / f"e.{eye}.1002.exr") for eye in ("left", "right")}
    assert not np.array_equal(headers["left"][0]["worldToNDC"], headers["right"][0]["worldToNDC"])
    # the eye's own camera sends its pixels, unprojected with its Z, back onto themselves
    picture, depth = pipeline.load_inputs(*inputs, options)
    _, path, _ = pipeline.plan_cameras(picture, depth, options)
    for eye, (header, z) in headers.items():
        camera = eye_camera(path.cameras[1], StereoRig(0.1, 3.0), eye)
        ys, xs = np.mgrid[4:32:9, 5:60:11].reshape(2, -1)
        zs = z[ys, xs].astype(np.float64)
        local = np.stack(
            [(xs - camera.cx) / camera.fx * zs, (ys - camera.cy) / camera.fy * zs, zs, np.ones_like(zs)]
        )
        world = camera.pose @ local
        world[:3] = GLTF_FROM_OPENCV @ world[:3]
        ndc = world.T @ header["worldToNDC"].astype(np.float64)
        np.testing.assert_allclose(ndc[:, 0] / ndc[:, 3], (xs + 0.5) / 64, atol=1e-5)


def test_packed_rerenders_bit_for_bit(tmp_path, inputs):
    pipeline.render(*inputs, tmp_path / "p.####.png", _options("tb", convergence="0.4,0.5"))
    pipeline.rerender(tmp_path / "p.png.recipe.json", tmp_path / "q.####.png")
    first, again = sorted(tmp_path.glob("p.[0-9]*.png")), sorted(tmp_path.glob("q.[0-9]*.png"))
    assert len(first) == len(again) == 3
    assert [f.read_bytes() for f in first] == [f.read_bytes() for f in again]


def test_usd_eye_cameras_carry_the_depth_of_field(tmp_path, inputs):
    pytest.importorskip("pxr")
    from pxr import Usd

    options = _options("separate", fstop=2.8, focus="3")
    pipeline.render(*inputs, tmp_path / "s.mp4", options, exports=[tmp_path / "cam.usda"])
    stage = Usd.Stage.Open(str(tmp_path / "cam.usda"))
    for name in ("camera", "camera_left", "camera_right"):
        prim = stage.GetPrimAtPath(f"/stillcam/{name}")
        assert prim.GetAttribute("fStop").Get(1001) == pytest.approx(2.8)
        assert prim.GetAttribute("focusDistance").Get(1001) == pytest.approx(300.0)
