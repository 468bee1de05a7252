"""Rack focus and keyframed lens values end to end (render/dof.py focus_pulled, the pipeline,
USD, burn-ins): each frame blurs with its own focus, the same bytes with --frames and on a
re-render, and clear errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_shot_inputs
from stillcam import pipeline
from stillcam.camera.plan import ShotSettings
from stillcam.errors import InputError
from stillcam.options import RenderOptions
from stillcam.output.burnin import BurnIn
from stillcam.render.frame import RenderSettings

SHOT = {"size": "64x36", "duration": 5 / 12, "fps": "12", "move": "dolly-in"}  # frames 1001-1005


def _frames(folder: Path, photo: Path, depth: Path, name: str, shot=None, **render) -> list[bytes]:
    options = RenderOptions(shot=ShotSettings(**(shot or SHOT)), render=RenderSettings(**render))
    pipeline.render(photo, depth, folder / f"{name}.####.png", options)
    return [f.read_bytes() for f in sorted(folder.glob(f"{name}.*.png"))]


def test_a_rack_focus_holds_pulls_and_holds(tmp_path):
    photo, depth = tiny_shot_inputs(tmp_path / "in")  # a square at 2 m before a wall at 4-6 m
    near = _frames(tmp_path, photo, depth, "near", fstop=0.7, focus="2")
    far = _frames(tmp_path, photo, depth, "far", fstop=0.7, focus="5")
    racked = _frames(tmp_path, photo, depth, "rack", fstop=0.7, focus="2..5", rack="1002-1004")
    assert len(racked) == 5
    assert racked[0] == near[0] and racked[-1] == far[-1]  # held before and after the pull
    assert racked[2] not in (near[2], far[2])  # in between: neither
    again = _frames(
        tmp_path,
        photo,
        depth,
        "part",
        shot={**SHOT, "frames": "1003-1004"},
        **{"fstop": 0.7, "focus": "2..5", "rack": "1002-1004"},
    )
    assert again == racked[2:4]  # --frames: the same focus on the same frames
    pipeline.rerender(tmp_path / "rack.png.recipe.json", tmp_path / "re.####.png")
    assert [f.read_bytes() for f in sorted(tmp_path.glob("re.*.png"))] == racked


def test_a_pull_between_two_pixels_focuses_on_their_depths(tmp_path):
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    z = np.load(depth)
    ys, xs = np.nonzero(z == 2.0)
    square = f"{(xs.mean() + 0.5) / 64:.4f},{(ys.mean() + 0.5) / 36:.4f}"
    near = _frames(tmp_path, photo, depth, "near", fstop=0.7, focus="2")
    pulled = _frames(tmp_path, photo, depth, "px", fstop=0.7, focus=f"{square}..0.98,0.5")
    assert pulled[0] == near[0]  # the square's pixel: 2 m


def test_keyframed_focus_and_fstop_reach_usd_per_frame(tmp_path):
    pxr = pytest.importorskip("pxr")
    from pxr import Usd, UsdGeom  # noqa: F401  (loads the submodules)

    photo, depth = tiny_shot_inputs(tmp_path / "in")
    shot = tmp_path / "shot.json"
    shot.write_text(
        json.dumps(
            {
                "fps": "12",
                "keyframes": [
                    {"frame": 1001, "position": [0, 0, 0], "focus_m": 2.0, "fstop": 1.0},
                    {"frame": 1005, "position": [0, 0, 0.2], "focus_m": 5.0, "fstop": 4.0},
                ],
            }
        )
    )
    options = RenderOptions(shot=ShotSettings(size="64x36", camera_file=str(shot)))  # no --fstop
    pipeline.render(photo, depth, tmp_path / "u.####.png", options, exports=[tmp_path / "u.usda"])
    stage = pxr.Usd.Stage.Open(str(tmp_path / "u.usda"))
    camera = pxr.UsdGeom.Camera(stage.GetPrimAtPath("/stillcam/camera"))
    assert camera.GetFStopAttr().Get(1001) == pytest.approx(1.0)
    assert camera.GetFStopAttr().Get(1003) == pytest.approx(2.0)  # half way in stops
    assert camera.GetFocusDistanceAttr().Get(1005) == pytest.approx(500.0)  # cm
    assert camera.GetFocusDistanceAttr().Get(1003) == pytest.approx(100.0 / (0.5 / 2 + 0.5 / 5))


def test_keyframed_fstop_changes_the_frames(tmp_path):
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    shot = tmp_path / "shot.json"
    keys = [{"frame": 1001, "position": [0, 0, 0]}, {"frame": 1003, "position": [0, 0, 0.1]}]
    shot.write_text(json.dumps({"fps": "12", "keyframes": keys}))
    keyed = {"size": "64x36", "camera_file": str(shot)}
    plain = _frames(tmp_path, photo, depth, "plain", shot=keyed)
    keys[0]["fstop"] = 0.7
    keys[0]["focus_m"] = 5.0
    shot.write_text(json.dumps({"fps": "12", "keyframes": keys}))
    blurred = _frames(tmp_path, photo, depth, "keys", shot=keyed)
    fixed = _frames(tmp_path, photo, depth, "fixed", shot=keyed, fstop=0.7, focus="5")
    assert len(plain) == 3 and blurred != plain and blurred == fixed


@pytest.mark.parametrize(
    ("render", "message"),
    [
        ({"rack": "1002-1004"}, r"--rack 1002-1004: give the pull as --focus A\.\.B"),
        ({"focus": "2..5", "rack": "1004-1002"}, "--rack 1004-1002: the first frame must not come after"),
        ({"focus": "2..5", "rack": "soon"}, "--rack 'soon': write A-B"),
        ({"focus": "2..5..8"}, r"--focus '2\.\.5\.\.8': a focus pull is A\.\.B"),
        ({"focus": "..5"}, r"a focus pull is A\.\.B"),
        ({"focus": "2..0.001"}, r"--focus 0.001: give metres in"),
    ],
)
def test_pull_options_are_refused_with_one_line(render, message):
    with pytest.raises(InputError, match=message):
        RenderSettings(**render)


def test_a_rack_outside_the_shot_is_refused_before_any_frame(tmp_path, decoding):
    photo, depth = tiny_shot_inputs(tmp_path / "in")
    with pytest.raises(
        InputError, match="--rack 1004-1009: the pull must lie inside the shot's frames 1001-1005"
    ):
        _frames(tmp_path, photo, depth, "bad", fstop=2.0, focus="2..5", rack="1004-1009")
    assert not list(tmp_path.glob("bad*")) and decoding == []


def test_burn_in_shows_each_frames_fstop_and_focus():
    from stillcam.camera.camera import Camera

    burn = BurnIn(True, (), "shot", "dolly-in", 24, "00:00:00:00", 1001, fstop=2.8)
    camera = Camera.from_focal_mm(64, 36, 35.0)
    assert "f/2.8" in dict(burn.lines(1001, camera))["bottom-left"]
    pulled = Camera(64, 36, camera.fx, camera.fy, camera.cx, camera.cy, focus_m=3.25, fstop=4.0)
    assert dict(burn.lines(1001, pulled))["bottom-left"].endswith("f/4  @3.25m")
