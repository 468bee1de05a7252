"""The motion-safety guard: reveal fraction against exact geometry, collisions, the clamp."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from stillcam.camera import Camera, MoveContext
from stillcam.camera.shot import Shot, build_shot_path, parse_move_expression
from stillcam.safety import check_path, guard, proxy_for


@pytest.fixture(scope="module")
def setup(small_example_module):
    picture, depth = small_example_module
    camera = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    return proxy_for(picture, depth), MoveContext(camera, 6.0)


@pytest.fixture(scope="module")
def small_example_module():
    from stillcam.example.procedural import example_inputs

    return example_inputs(320, 180)


def _maker(expression: str, context: MoveContext):
    shot = Shot(segments=parse_move_expression(expression))
    return lambda amount: build_shot_path(
        shot, context, fps=Fraction(8), duration_s=1.0, easing="linear", amount=amount
    )


def test_reveal_is_the_area_beyond_the_photo(setup):
    proxy, context = setup
    assert check_path(proxy, _maker("zoom-in(factor=2)", context)(1.0))[0] < 0.03
    reveal, frame, collision = check_path(proxy, _maker("zoom-out(factor=2)", context)(1.0))
    # Zooming out 2x shows the photo in the central quarter of the frame: 3/4 is new.
    assert reveal == pytest.approx(0.75, abs=0.03) and frame == 1008 and collision is None


def test_flying_into_the_wall_is_a_collision_and_a_short_dolly_is_not(setup):
    proxy, context = setup
    assert check_path(proxy, _maker("dolly-in(distance=0.5)", context)(1.0))[2] is None
    collision = check_path(proxy, _maker("dolly-in(distance=40)", context)(1.0))[2]
    assert collision is not None and 1001 < collision <= 1008


def test_clamp_plays_the_largest_safe_part_of_the_move(setup):
    proxy, context = setup
    make = _maker("zoom-out(factor=2)", context)
    path, safety = guard(make, proxy, max_reveal=0.4, clamp=True)
    # Safe when 1 - 1/f^2 <= 0.4 with f = 2^amount: amount <= log2(1/sqrt(0.6)) = 0.368.
    assert safety.amount == pytest.approx(math.log2(1 / math.sqrt(0.6)), abs=0.03)
    assert 0.33 < safety.reveal <= 0.4 and "played at" in safety.warnings[0]
    assert path.cameras[-1].fx == pytest.approx(context.camera.fx / 2**safety.amount)
    again = guard(make, proxy, max_reveal=0.4, clamp=True)[1]
    assert again == safety  # deterministic: a re-render clamps the same way


def test_without_clamp_the_guard_only_warns(setup):
    proxy, context = setup
    path, safety = guard(_maker("zoom-out(factor=2)", context), proxy, max_reveal=0.4, clamp=False)
    assert safety.amount == 1.0 and len(safety.warnings) == 1 and "--safe" in safety.warnings[0]
    np.testing.assert_allclose(path.cameras[-1].fx, context.camera.fx / 2)
