"""Property tests of the move library (hypothesis): what each move must keep, for any
parameters in a sensible range and any subject distance."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stillcam.camera import MOVES, Camera, MoveContext, build_path
from stillcam.render.frame import project_vertices

CAMERA = Camera.from_focal_mm(320, 180, 35.0)
FPS = Fraction(24)
depths = st.floats(0.5, 50.0)
easings = st.sampled_from(["linear", "ease-in", "ease-out", "ease-in-out"])


def _path(move, params, depth, easing="linear", seconds=2.0, target=None):
    context = MoveContext(CAMERA, depth, target)
    return build_path(move, params, context, duration_s=seconds, fps=FPS, easing=easing)


def _params(name, draw):
    """Random values for every parameter of a move, in ranges where the move is defined."""
    ranges = {
        "degrees": (-40.0, 40.0),
        "fraction": (-0.4, 0.4),
        "factor": (1.05, 3.0),
        "turns": (0.25, 3.0),
        "radius": (0.0, 0.2),
        "push": (-0.3, 0.3),
        "mm": (0.0, 30.0),
        "frequency": (0.2, 5.0),
        "seed": (0, 1000),
    }
    if name == "handheld":  # a shake, not a move: amplitudes of a real hand
        ranges.update(degrees=(0.0, 2.0), mm=(0.0, 30.0), frequency=(0.2, 4.0))
    params = {}
    for p in MOVES[name].params:
        if p.name in ("distance", "to_mm"):
            continue  # optional overrides; covered by the unit tests
        low, high = ranges[p.name]
        params[p.name] = float(draw(st.integers(low, high) if p.name == "seed" else st.floats(low, high)))
    if name == "dolly-zoom":
        params["fraction"] = abs(params["fraction"]) * (1 if draw(st.booleans()) else -1)
    return params


@pytest.mark.parametrize("name", sorted(MOVES))
@settings(max_examples=25, deadline=None)
@given(data=st.data(), depth=depths, easing=easings)
def test_every_move_starts_at_the_photo_and_moves_continuously(name, data, depth, easing):
    params = _params(name, data.draw)
    path = _path(name, params, depth, easing)
    np.testing.assert_allclose(path.cameras[0].pose, np.eye(4), atol=1e-9)
    assert path.cameras[0].fx == pytest.approx(CAMERA.fx)
    # Continuity: over 48 frames, no frame-to-frame step is longer than a quarter of the
    # whole path (a smooth path's longest step is a few times the mean step, i.e. a few
    # percent of it; a jump would be one step holding much of it), in position and in view
    # direction.
    positions = np.array([c.pose[:3, 3] for c in path.cameras])
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    assert steps.max() <= 0.25 * steps.sum() + 1e-9 * depth
    forwards = np.array([c.pose[:3, 2] for c in path.cameras])
    turns = np.arccos(np.clip((forwards[1:] * forwards[:-1]).sum(axis=1), -1.0, 1.0))
    assert turns.max() <= 0.25 * turns.sum() + 1e-6


@pytest.mark.parametrize("name", ["pan", "tilt", "roll", "dutch", "zoom-in", "zoom-out"])
@given(degrees=st.floats(-60, 60), depth=depths)
@settings(max_examples=20, deadline=None)
def test_rotations_and_zooms_keep_the_position(name, degrees, depth):
    params = {"degrees": degrees} if "degrees" in [p.name for p in MOVES[name].params] else {}
    for camera in _path(name, params, depth).cameras:
        np.testing.assert_allclose(camera.pose[:3, 3], 0.0, atol=1e-12)


@pytest.mark.parametrize("name", ["truck", "pedestal", "dolly-in", "dolly-out", "dolly-zoom", "spiral"])
@given(fraction=st.floats(-0.4, 0.4), depth=depths)
@settings(max_examples=20, deadline=None)
def test_translations_keep_the_orientation(name, fraction, depth):
    params = {"fraction": fraction} if name != "spiral" else {"push": fraction}
    for camera in _path(name, params, depth).cameras:
        np.testing.assert_allclose(camera.pose[:3, :3], np.eye(3), atol=1e-12)


@given(fraction=st.floats(-0.9, 0.9), depth=depths)
@settings(max_examples=30, deadline=None)
def test_dolly_zoom_keeps_the_subject_size_within_half_a_percent(fraction, depth):
    # A 1 m wide object at the subject depth, centred.
    edges = np.array([[-0.5, 0.0, depth], [0.5, 0.0, depth]])
    start = project_vertices(edges, CAMERA)
    width = start[1, 0] - start[0, 0]
    for camera in _path("dolly-zoom", {"fraction": fraction}, depth).cameras:
        pixels = project_vertices(edges, camera)
        assert pixels[1, 0] - pixels[0, 0] == pytest.approx(width, rel=0.005)


@pytest.mark.parametrize("name", ["orbit", "arc", "swing", "crane", "lemniscate"])
@given(data=st.data(), depth=depths)
@settings(max_examples=20, deadline=None)
def test_target_moves_keep_the_subject_on_the_same_pixel(name, data, depth):
    params = _params(name, data.draw)
    # On the axis (the default subject) or anywhere in the frame (--target).
    x, y = data.draw(st.floats(0.05, 0.95)), data.draw(st.floats(0.05, 0.95))
    ray = np.array(
        [(x * CAMERA.width - CAMERA.cx) / CAMERA.fx, (y * CAMERA.height - CAMERA.cy) / CAMERA.fy, 1.0]
    )
    target = data.draw(st.sampled_from([None, ray * depth]))
    point = np.array([[0.0, 0.0, depth]]) if target is None else target[None]
    start = project_vertices(point, CAMERA)[0]
    for camera in _path(name, params, depth, target=target).cameras:
        pixel = project_vertices(point, camera)[0]
        assert abs(pixel[0] - start[0]) <= 0.5 and abs(pixel[1] - start[1]) <= 0.5


def test_handheld_same_seed_same_shake_other_seed_differs():
    a = _path("handheld", {"seed": 3.0}, 5.0)
    b = _path("handheld", {"seed": 3.0}, 5.0)
    c = _path("handheld", {"seed": 4.0}, 5.0)
    poses = [np.array([cam.pose for cam in p.cameras]) for p in (a, b, c)]
    assert np.array_equal(poses[0], poses[1])
    assert np.abs(poses[0] - poses[2]).max() > 1e-4
    # Amplitudes are respected: rotation within the set degrees, translation within the mm.
    positions = poses[0][:, :3, 3]
    assert np.abs(positions).max() <= 8.0 / 1000.0


def test_static_holds():
    for camera in _path("static", {}, 5.0).cameras:
        np.testing.assert_array_equal(camera.pose, np.eye(4))


SMOOTH = sorted(set(MOVES) - {"handheld", "static"})


@given(
    first=st.sampled_from(SMOOTH),
    second=st.sampled_from(SMOOTH),
    frames=st.tuples(st.integers(8, 30), st.integers(8, 30)),
    depth=depths,
    easing=easings,
)
@settings(max_examples=60, deadline=None)
def test_sequences_start_at_the_photo_and_join_without_a_jump(first, second, frames, depth, easing):
    from stillcam.camera.shot import Shot, build_shot_path, parse_move_expression

    expression = f"{first}(frames={frames[0]}) then {second}(frames={frames[1]})"
    shot = Shot(segments=parse_move_expression(expression))
    path = build_shot_path(shot, MoveContext(CAMERA, depth), fps=FPS, easing=easing)
    assert len(path) == sum(frames)
    np.testing.assert_allclose(path.cameras[0].pose, np.eye(4), atol=1e-9)
    # The boundary step (last frame of segment 1 -> first of segment 2) is at most 1.5 x the
    # largest step inside either segment: the second move continues from the first's end (a
    # jump back to the photo's pose would be many times larger).
    positions = np.array([c.pose[:3, 3] for c in path.cameras])
    forwards = np.array([c.pose[:3, 2] for c in path.cameras])
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    turns = np.arccos(np.clip((forwards[1:] * forwards[:-1]).sum(axis=1), -1.0, 1.0))
    b = frames[0] - 1  # index of the boundary step
    inside = np.delete(np.arange(len(steps)), b)
    assert steps[b] <= 1.5 * steps[inside].max() + 1e-9 * depth
    assert turns[b] <= 1.5 * turns[inside].max() + 1e-6
