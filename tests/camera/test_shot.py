"""Shots: sequences and layers of moves, Bézier easing, keyframes and shot files."""

from fractions import Fraction

import numpy as np
import pytest

from stillcam.camera import Camera, MoveContext, build_path, ease, look_at
from stillcam.camera.keyframes import quaternion_of, rotation_from_angles
from stillcam.camera.shot import (
    Keyframe,
    Lens,
    MoveStep,
    Segment,
    Shot,
    build_shot_path,
    parse_move_expression,
    read_shot_file,
    shot_from_dict,
    write_shot_file,
)
from stillcam.errors import InputError, MoveError

CAMERA = Camera.from_focal_mm(320, 180, 35.0)
CTX = MoveContext(CAMERA, 5.0)
FPS = Fraction(24)


def _path(shot: Shot, **kwargs):
    kwargs.setdefault("fps", FPS)
    kwargs.setdefault("duration_s", 2.0)
    return build_shot_path(shot, CTX, **kwargs)


def _positions(path) -> np.ndarray:
    return np.array([c.pose[:3, 3] for c in path.cameras])


def test_expression_reads_segments_layers_lengths_and_easings():
    segments = parse_move_expression(
        "dolly-in(fraction=0.2, distance=none, duration=1.5s) then pan(degrees=15, frames=12, "
        "easing=bezier(0.4,0,0.6,1)) + handheld(seed=3)"
    )
    assert [s.move for s in segments] == ["dolly-in", "pan"]
    assert segments[0].params == {"fraction": 0.2, "distance": None} and segments[0].duration == 1.5
    assert segments[1].frames == 12 and segments[1].easing == "bezier(0.4,0,0.6,1)"
    assert segments[1].layers == (MoveStep("handheld", {"seed": 3.0}),)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("fly", "unknown move 'fly'"),
        ("pan(speed=2)", "no parameter 'speed'"),
        ("pan(degrees=left)", "'left' is not a number"),
        ("pan(degrees)", "is not KEY=VALUE"),
        ("pan + handheld(frames=3)", "give frames to the segment"),
        ("pan(easing=wobbly)", "unknown easing"),
        ("pan(frames=2, duration=1)", "frames or duration, not both"),
        ("pan then ", "cannot read"),
        ("handheld(mm=none)", "parameter mm has no value"),  # none unsets optional parameters only
    ],
)
def test_bad_expressions_say_what_is_wrong(expression, words):
    with pytest.raises(MoveError, match=words):
        parse_move_expression(expression)


def test_a_sequence_continues_from_where_the_last_segment_ended():
    shot = Shot(
        segments=parse_move_expression("dolly-in(distance=1, frames=10) then pan(degrees=30, frames=6)")
    )
    path = _path(shot, easing="linear")
    assert len(path) == 16  # frames add up; the boundary frame is not repeated
    end_of_dolly = path.cameras[9]
    np.testing.assert_allclose(end_of_dolly.pose[:3, 3], [0, 0, 1], atol=1e-12)
    for camera in path.cameras[10:]:  # the pan keeps the dolly's end position
        np.testing.assert_allclose(camera.pose[:3, 3], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(path.cameras[-1].pose[:3, :3], rotation_from_angles(30, 0, 0), atol=1e-12)
    steps = np.linalg.norm(np.diff(_positions(path)[:10], axis=0), axis=1)
    np.testing.assert_allclose(steps, 1 / 9, atol=1e-12)
    angles = [np.degrees(np.arctan2(c.pose[0, 2], c.pose[2, 2])) for c in path.cameras[9:]]
    np.testing.assert_allclose(np.diff(angles), 5.0, atol=1e-9)


def test_a_single_segment_is_the_single_move():
    shot = Shot(segments=(Segment(move="orbit", params={"degrees": 12.0}),))
    single = build_path("orbit", {"degrees": 12.0}, CTX, duration_s=2.0, fps=FPS)
    for a, b in zip(_path(shot).cameras, single.cameras, strict=True):
        np.testing.assert_array_equal(a.pose, b.pose)


def test_fractions_of_a_later_segment_are_of_the_distance_from_there():
    shot = Shot(
        segments=parse_move_expression(
            "dolly-in(fraction=0.5, frames=5) then dolly-in(fraction=0.5, frames=5)"
        )
    )
    path = _path(shot)
    np.testing.assert_allclose(path.cameras[-1].pose[:3, 3], [0, 0, 2.5 + 1.25], atol=1e-12)


def test_an_orbit_after_a_truck_keeps_the_same_world_subject_framed():
    from stillcam.render.frame import project_vertices

    shot = Shot(
        segments=parse_move_expression("truck(distance=0.5, frames=8) then orbit(degrees=20, frames=8)")
    )
    path = _path(shot)
    target = np.array([[0.0, 0.0, 5.0]])
    pixel = project_vertices(target, path.cameras[7])[0, :2]
    for camera in path.cameras[8:]:
        np.testing.assert_allclose(project_vertices(target, camera)[0, :2], pixel, atol=1e-6)


def test_a_layer_is_applied_in_the_camera_frame_over_its_segment():
    layered = _path(Shot(segments=parse_move_expression("orbit(degrees=20) + handheld(seed=4)")))
    orbit = _path(Shot(segments=parse_move_expression("orbit(degrees=20)")))
    shake = _path(Shot(segments=parse_move_expression("handheld(seed=4)")))
    for a, b, c in zip(layered.cameras, orbit.cameras, shake.cameras, strict=True):
        np.testing.assert_allclose(a.pose, b.pose @ c.pose, atol=1e-12)
    assert not np.allclose(layered.cameras[20].pose, orbit.cameras[20].pose)


def test_shot_layers_run_over_the_whole_sequence():
    shot = Shot(
        segments=parse_move_expression("pan(frames=10) then tilt(frames=10)"),
        layers=(MoveStep("zoom-in", {"factor": 2.0}, "linear"),),
    )
    path = _path(shot)
    assert path.cameras[0].fx == pytest.approx(CAMERA.fx)
    assert path.cameras[-1].fx == pytest.approx(2 * CAMERA.fx)


def test_segments_without_a_length_share_what_the_shot_has_left():
    shot = Shot(segments=parse_move_expression("pan then tilt then pan(frames=10)"))
    assert len(_path(shot, duration_s=2.0)) == 48
    with pytest.raises(MoveError, match="need at least one each"):
        _path(Shot(segments=parse_move_expression("pan then tilt(frames=60)")), duration_s=2.0)


def test_amount_plays_part_of_every_move():
    shot = Shot(segments=parse_move_expression("dolly-in(distance=2)"))
    np.testing.assert_allclose(_path(shot, amount=0.25).cameras[-1].pose[:3, 3], [0, 0, 0.5], atol=1e-12)


def test_bezier_easing():
    t = np.linspace(0, 1, 101)
    np.testing.assert_allclose(
        ease(t, "bezier(0.3333333333333333,0.3333333333333333,0.6666666666666666,0.6666666666666666)"),
        t,
        atol=1e-12,
    )
    curve = ease(t, "bezier(0.42,0,0.58,1)")  # CSS ease-in-out: symmetric, slow ends
    np.testing.assert_allclose(curve + curve[::-1], 1.0, atol=1e-12)
    assert curve[10] < 0.1 and np.all(np.diff(curve) >= 0)
    overshoot = ease(t, "bezier(0.3,0,0.7,1.4)")  # y handles may leave [0, 1] (overshoot)
    assert overshoot.max() > 1.0 and overshoot[-1] == 1.0
    for bad in (
        "bezier(1.2,0,0.5,1)",
        "bezier(0,0,1)",
        "cubic-bezier(a,b,c,d)",
        "bezier(0,1e308,1,0)",
        "bezier(0,0,1,-11)",
    ):
        with pytest.raises(InputError):
            ease(t, bad)


def _keys(**extra):
    return Shot(
        keyframes=(
            Keyframe(frame=1001, position=(0.0, 0.0, 0.0)),
            Keyframe(frame=1011, position=(1.0, 0.0, 0.0), rotation=(20.0, 0.0, 0.0), focal_mm=50.0),
            Keyframe(frame=1021, position=(2.0, 1.0, 0.0), rotation=(40.0, 10.0, 0.0)),
        ),
        **extra,
    )


def test_keyframes_are_hit_exactly_and_joined_smoothly():
    path = _path(_keys())
    assert len(path) == 21 and path.first_frame == 1001
    np.testing.assert_allclose(path.cameras[10].pose[:3, 3], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(path.cameras[20].pose[:3, 3], [2, 1, 0], atol=1e-12)
    np.testing.assert_allclose(path.cameras[10].pose[:3, :3], rotation_from_angles(20, 0, 0), atol=1e-12)
    assert path.cameras[10].focal_mm == pytest.approx(50.0)
    assert path.cameras[20].focal_mm == pytest.approx(50.0)  # held from the previous key
    # Slerp: halfway between pan 0 and pan 20 is pan 10.
    np.testing.assert_allclose(path.cameras[5].pose[:3, :3], rotation_from_angles(10, 0, 0), atol=1e-9)
    # Catmull-Rom: the curve bends before key 2 (y > 0 before frame 1011 would be a straight line's 0).
    positions = _positions(path)
    assert positions[8, 1] < 0  # tangent at key 2 points towards key 3, so it dips first
    linear = _positions(_path(_keys(interpolation={"position": "linear"})))
    np.testing.assert_allclose(linear[5], [0.5, 0, 0], atol=1e-12)


def test_look_at_and_quaternion_keys():
    target = (0.5, -0.2, 4.0)
    quaternion = quaternion_of(rotation_from_angles(-10, 5, 3))
    shot = Shot(
        keyframes=(
            Keyframe(time=0.0, position=(0.3, 0.1, 0.0), look_at=target),
            Keyframe(time=0.5, position=(0.3, 0.1, 0.0), quaternion=quaternion),
        )
    )
    path = _path(shot)
    assert len(path) == 13
    expected = look_at(np.array([0.3, 0.1, 0.0]), np.array(target))
    np.testing.assert_allclose(path.cameras[0].pose, expected, atol=1e-12)
    np.testing.assert_allclose(path.cameras[-1].pose[:3, :3], rotation_from_angles(-10, 5, 3), atol=1e-12)


def test_lens_filmback_sets_the_focal_on_that_back():
    shot = _keys(lens=Lens(focal_mm=24.0, filmback_mm=(36.0, 24.0)))
    path = _path(shot)
    assert path.cameras[0].fx == pytest.approx(24.0 / 36.0 * 320)
    assert path.cameras[10].fx == pytest.approx(50.0 / 36.0 * 320)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_shot_files_round_trip_exactly(tmp_path, suffix):
    shots = [
        _keys(
            lens=Lens(focal_mm=24.1, filmback_mm=(36.0, 24.0)),
            fps="24000/1001",
            layers=(MoveStep("handheld", {"seed": 2.0}),),
        ),
        Shot(
            segments=parse_move_expression(
                "dolly-in(fraction=0.1234567891234, duration=1.1) then "
                "orbit(degrees=-17.3, easing=bezier(0.1,0.7,0.2,1.3)) + handheld(seed=9)"
            ),
            duration=3.0,
            easing="ease-out",
        ),
    ]
    for i, shot in enumerate(shots):
        file = tmp_path / f"shot{i}{suffix}"
        write_shot_file(shot, file)
        again = read_shot_file(file)
        assert again == shot
        a, b = _path(shot), _path(again)
        assert a.fps == b.fps and len(a) == len(b)
        for x, y in zip(a.cameras, b.cameras, strict=True):
            np.testing.assert_array_equal(x.pose, y.pose)
            assert (x.fx, x.fy, x.cx, x.cy) == (y.fx, y.fy, y.cx, y.cy)


def test_a_hand_written_yaml_file(tmp_path):
    file = tmp_path / "shot.yml"
    file.write_text(
        "stillcam_shot: 1\nfps: 24000/1001\nsegments:\n"
        "  - move: dolly-in\n    params: {fraction: 0.2}\n    duration: 2\n    easing: [0.42, 0, 0.58, 1]\n"
        "  - move: pan\n    params: {degrees: 15}\n    frames: 24\n"
        "layers:\n  - {move: handheld, params: {seed: 3}}\n"
    )
    shot = read_shot_file(file)
    assert shot.segments[0].easing == "bezier(0.42,0.0,0.58,1.0)"
    path = _path(shot)
    assert path.fps == Fraction(24000, 1001) and len(path) == 48 + 24


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"segments": [{"move": "pan", "speed": 3}]}, r"segments\.0\.speed"),
        ({"segments": [{"move": "pan", "params": {"degrees": "x"}}]}, r"segments\.0\.params\.degrees"),
        ({"segments": [{"move": "jump"}]}, "segment 1 \\(jump\\): unknown move"),
        ({}, "either segments or keyframes"),
        ({"segments": [{"move": "pan"}], "keyframes": [{"frame": 1}]}, "either segments or keyframes"),
        ({"keyframes": [{"position": [0, 0, 0]}]}, "keyframe 1: give its frame"),
        ({"keyframes": [{"frame": 5}, {"frame": 3}]}, "increasing order"),
        ({"keyframes": [{"frame": 1, "look_at": [0, 0, 1], "rotation": [0, 0, 0]}]}, "at most one"),
        ({"keyframes": [{"frame": 1, "position": [0, 0]}]}, r"keyframes\.0\.position"),
        ({"stillcam_shot": 2, "segments": [{"move": "pan"}]}, "format 2"),
        ({"fps": "fast", "segments": [{"move": "pan"}]}, "shot fps"),
    ],
)
def test_bad_shot_files_are_located(data, words):
    with pytest.raises(MoveError, match=words):
        shot_from_dict(data, "shot.yaml")


def test_unreadable_shot_files(tmp_path):
    with pytest.raises(MoveError, match="no such shot file"):
        read_shot_file(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("segments: [move: pan\n")
    with pytest.raises(MoveError, match="not valid YAML"):
        read_shot_file(bad)


def test_the_shot_files_in_the_docs_are_valid():
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[2] / "docs" / "moves.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 2
    for block in blocks:
        shot = shot_from_dict(yaml.safe_load(block), "docs/moves.md")
        assert len(_path(shot)) > 1
