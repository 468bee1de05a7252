"""The web app's lens and shutter fields (issue 18): f-stop, focus (click to focus) and shutter
are the command line's options, with its messages; a web render is the CLI render of its
command, byte for byte; the lens preview (/api/preview/frame) blurs as the render does, at the
preview's size; the view a click to focus is measured in is the one ``--focus X,Y`` reads."""

import io
import json
import shlex
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from stillcam import RenderOptions
from stillcam.camera.camera import Camera, fit_output_camera
from stillcam.camera.plan import ShotSettings
from stillcam.cli import build_parser, main, options_from
from stillcam.conventions import DEFAULT_FOCAL_MM
from stillcam.example.procedural import example_inputs
from stillcam.render.dof import focus_distance
from stillcam.render.lens import parse_focus

pytest.importorskip("fastapi", reason="extra 'web' not installed")
pytest.importorskip("httpx", reason="the test client needs httpx")
from fastapi.testclient import TestClient

from stillcam.output.writers import VideoSink
from stillcam.web.preview import LENS_PREVIEW_PX, LENS_PREVIEW_SAMPLES
from stillcam.web.server import ServeSettings, create_app

SIZE = (320, 180)
OPTIONS = {"move": "pan(degrees=10)", "duration": 0.25, "size": "320x180"}


def _files(width: int = SIZE[0], height: int = SIZE[1]) -> tuple[bytes, bytes]:
    picture, depth = example_inputs(width, height)
    photo = io.BytesIO()
    Image.fromarray(np.rint(picture.pixels * 255).astype(np.uint8)).save(photo, "PNG")
    depth_file = io.BytesIO()
    np.save(depth_file, depth.z)
    return photo.getvalue(), depth_file.getvalue()


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path / "data", max_upload_mb=20))) as c:
        yield c


def _upload(client, width: int = SIZE[0], height: int = SIZE[1]) -> str:
    photo, depth = _files(width, height)
    response = client.post("/api/photos", files={"photo": ("p.png", photo), "depth": ("d.npy", depth)})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _wait(client, job_id: str) -> dict:
    for _ in range(1200):
        job = client.get(f"/api/renders/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("render did not finish")


def _frame(client, photo: str, options: dict, index: int) -> np.ndarray:
    response = client.post("/api/preview/frame", json={"photo": photo, "options": options, "index": index})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB")).astype(np.float64)


def _sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(image.mean(axis=2), cv2.CV_64F).var())


def _cli_error(tmp_path: Path, capsys, flag: str, value: str) -> str:
    photo, depth = tmp_path / "p.png", tmp_path / "d.npy"
    photo_bytes, depth_bytes = _files()
    photo.write_bytes(photo_bytes)
    depth.write_bytes(depth_bytes)
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "render",
                str(photo),
                "--depth",
                str(depth),
                flag,
                value,
                "-o",
                str(tmp_path / "x.mp4"),
                "--quiet",
            ]
        )
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith("stillcam: error: ")
    return err.removeprefix("stillcam: error: ").rstrip("\n")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fstop", 0.2),
        ("fstop", 200),
        ("fstop", -1),
        ("shutter", 400),
        ("shutter", -5),
        ("shutter_samples", 0),
        ("shutter_samples", 100000),
        ("focus", "2,3"),
        ("focus", "near"),
        ("focus", "0.001"),
    ],
)
def test_bad_lens_fields_get_the_command_lines_message(client, tmp_path: Path, capsys, name, value):
    photo = _upload(client)
    response = client.post("/api/preview", json={"photo": photo, "options": {**OPTIONS, name: value}})
    assert response.status_code == 422, response.text
    flag = "--" + name.replace("_", "-")
    assert response.json()["detail"] == "options: " + _cli_error(tmp_path, capsys, flag, str(value))
    render = client.post("/api/renders", json={"photo": photo, "options": {**OPTIONS, name: value}})
    assert render.status_code == 422 and render.json()["detail"] == response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "value"), [("fstop", "f/2"), ("fstop", True), ("shutter", "open"), ("focus", 2.5)]
)
def test_lens_fields_of_the_wrong_json_type_name_the_field(client, name, value):
    photo = _upload(client)
    response = client.post("/api/preview", json={"photo": photo, "options": {**OPTIONS, name: value}})
    assert response.status_code == 422 and response.json()["detail"].startswith(f"options.{name}: ")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"fstop": 2.8}, ["--fstop", "2.8"]),
        ({"fstop": 4, "focus": "0.25,0.5"}, ["--fstop", "4.0", "--focus", "0.25,0.5"]),
        ({"fstop": 0}, ["--fstop", "0.0"]),  # off, and said so
        ({"fstop": 1.4, "focus": "3"}, ["--fstop", "1.4", "--focus", "3"]),
        ({"shutter": 180, "shutter_samples": 4}, ["--shutter", "180.0", "--shutter-samples", "4"]),
        ({"shutter": 90}, ["--shutter", "90.0"]),  # 8 samples: the default, not written
    ],
)
def test_lens_fields_reach_the_command_as_the_cli_parses_them(client, fields, words):
    photo = _upload(client)
    preview = client.post("/api/preview", json={"photo": photo, "options": {**OPTIONS, **fields}})
    assert preview.status_code == 200, preview.text
    command = shlex.split(preview.json()["command"])
    for flag, value in zip(words[::2], words[1::2], strict=True):
        assert command[command.index(flag) + 1] == value, command
    assert "--shutter-samples" not in command or "shutter_samples" in fields
    web = RenderOptions.from_fields({**OPTIONS, **fields})
    assert options_from(build_parser().parse_args(command[1:])) == web


@pytest.mark.parametrize(
    "fields",
    [
        {"fstop": 1.4, "focus": "0.3,0.6"},
        {"shutter": 270, "shutter_samples": 3},
        {"fstop": 1.4, "focus": "0.3,0.6", "shutter": 270, "shutter_samples": 3},
    ],
)
def test_a_web_render_with_lens_and_shutter_is_the_cli_render_of_its_command(
    client, tmp_path: Path, monkeypatch, fields
):
    # The frames each render hands its encoder, by output folder: what is repeatable. The h264
    # bytes of a second encode in one process are not always (docs/benchmarks.md, "Same bytes
    # under load", open), so the files are compared only where the frames may not be.
    handed: dict[str, list[bytes]] = {}
    write = VideoSink.write

    def spy(sink, image):
        handed.setdefault(sink._path.parent.name, []).append(image.tobytes())
        write(sink, image)

    monkeypatch.setattr(VideoSink, "write", spy)
    options = {**OPTIONS, **fields}
    photo = _upload(client)
    job = client.post("/api/renders", json={"photo": photo, "options": options}).json()
    job = _wait(client, job["id"])
    assert job["state"] == "done", job["error"]
    web_recipe = client.get(f"/api/renders/{job['id']}/files/shot.recipe.json").json()
    web_video = client.get(f"/api/renders/{job['id']}/files/shot.mp4").content
    words = shlex.split(job["command"])
    assert words[:5] == ["stillcam", "render", "p.png", "--depth", "d.npy"] and words[-2:] == [
        "-o",
        "shot.mp4",
    ]
    assert {"--" + name.replace("_", "-") for name in fields} <= set(words)
    # The command, run by the CLI on the same files, renders the same options and bytes.
    folder = tmp_path / "cli"
    folder.mkdir()
    photo_bytes, depth_bytes = _files()
    (folder / "p.png").write_bytes(photo_bytes)
    (folder / "d.npy").write_bytes(depth_bytes)
    monkeypatch.chdir(folder)
    with pytest.raises(SystemExit) as exit_info:
        main([*words[1:], "--quiet"])
    assert exit_info.value.code == 0
    cli_recipe = json.loads((folder / "shot.recipe.json").read_text())
    assert cli_recipe["options"] == web_recipe["options"]
    assert RenderOptions.from_dict(web_recipe["options"]) == RenderOptions.from_fields(options)
    web_frames = handed.pop(job["id"])  # the web job's folder; the CLI wrote ./shot.mp4
    assert len(web_frames) == 6 and list(handed.values()) == [web_frames]
    assert len(web_video) > 0 and (folder / "shot.mp4").stat().st_size > 0


def test_the_lens_preview_blurs_like_the_render(client):
    photo = _upload(client)
    sharp = _frame(client, photo, OPTIONS, 3)
    assert sharp.shape == (SIZE[1], SIZE[0], 3)  # under LENS_PREVIEW_PX: the output's own size
    near = {**OPTIONS, "fstop": 0.5, "focus": "1.0"}
    blurred = _frame(client, photo, near, 3)
    assert np.abs(blurred - sharp).mean() > 2
    assert _sharpness(blurred) < 0.5 * _sharpness(sharp)
    assert np.abs(_frame(client, photo, {**OPTIONS, "fstop": 0}, 3) - sharp).max() == 0  # 0 = off
    # Motion blur: a pan streaks sideways (rows smoother than without), columns barely change.
    pan = {**OPTIONS, "move": "pan(degrees=30)", "easing": "linear"}
    still = _frame(client, photo, pan, 3)
    streaked = _frame(client, photo, {**pan, "shutter": 360}, 3)
    across = np.abs(np.diff(streaked.mean(axis=2), axis=1)).mean()
    assert across < 0.8 * np.abs(np.diff(still.mean(axis=2), axis=1)).mean()
    one_sample = _frame(client, photo, {**pan, "shutter": 360, "shutter_samples": 1}, 3)
    assert np.abs(one_sample - still).max() == 0  # 1 sample = no blur, as in the render
    # Out of the shot's frames: 422 naming the field.
    response = client.post("/api/preview/frame", json={"photo": photo, "options": OPTIONS, "index": 6})
    assert response.status_code == 422 and response.json()["detail"].startswith(
        "index: the shot has 6 frames"
    )


def test_the_lens_preview_is_the_render_smaller(tmp_path: Path):
    """At a 1280x720 output the lens preview is 640x360 with the circles of confusion halved:
    close to the full render's frame scaled down (0.73 levels mean absolute difference), far from
    the sharp frame (5.2)."""
    from stillcam.output.frames import display_frame
    from stillcam.pipeline import plan_shot
    from stillcam.render.dof import with_depth_of_field
    from stillcam.render.registry import get_renderer

    width, height = 2 * LENS_PREVIEW_PX, LENS_PREVIEW_PX * 9 // 8
    fields = {"move": "dolly-in", "duration": 0.25, "size": f"{width}x{height}", "fstop": 0.7, "focus": "1.5"}
    with TestClient(create_app(ServeSettings(data_dir=tmp_path, max_upload_mb=20))) as client:
        photo = _upload(client, width, height)
        preview = _frame(client, photo, fields, 2)
        sharp = _frame(client, photo, {k: v for k, v in fields.items() if k != "fstop"}, 2)
    assert preview.shape == (height // 2, width // 2, 3)
    picture, depth = example_inputs(width, height)
    picture = replace(picture, focal_mm=DEFAULT_FOCAL_MM)  # PNG: no EXIF
    options = RenderOptions.from_fields(fields)
    scene, path, _ = plan_shot(picture, depth, options)
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    renderer = with_depth_of_field(
        get_renderer(options.render), options.render, source, depth.z, options.shot, fill=True
    )
    full = display_frame(renderer, scene, path.cameras[2], options.output, fill=True)
    small = cv2.resize(full, (width // 2, height // 2), interpolation=cv2.INTER_AREA).astype(np.float64)
    difference, against_sharp = np.abs(preview - small).mean(), np.abs(sharp - small).mean()
    assert difference < 1.5 and against_sharp > 4 * difference, (difference, against_sharp)  # 0.73, 5.2


def test_click_to_focus_is_the_pixel_focus_xy_reads(client):
    """The preview's focus_camera is the view ``--focus X,Y`` is a fraction of: the scene point
    at the photo's depth behind fraction (x, y) of it projects to (x, y) of the canvas, and the
    preview's focus distance is the render's for that X,Y."""
    photo = _upload(client)
    x, y = 0.3, 0.6
    preview = client.post(
        "/api/preview", json={"photo": photo, "options": {**OPTIONS, "fstop": 2, "focus": f"{x},{y}"}}
    ).json()
    picture, depth = example_inputs(*SIZE)
    source = Camera.from_focal_mm(picture.width, picture.height, DEFAULT_FOCAL_MM)
    shot = ShotSettings(move=OPTIONS["move"], duration=OPTIONS["duration"], size=OPTIONS["size"])
    metres = focus_distance(parse_focus(f"{x},{y}"), source, depth.z, shot)
    assert preview["focus_m"] == pytest.approx(metres, rel=1e-6)
    view = fit_output_camera(source, *SIZE)
    assert (preview["focus_camera"]["width"], preview["focus_camera"]["height"]) == SIZE
    ray = np.array(
        [(x * view.width - 0.5 - view.cx) / view.fx, (y * view.height - 0.5 - view.cy) / view.fy, 1.0]
    )
    clip = np.array(preview["focus_camera"]["clip"]).reshape(4, 4).T @ np.r_[ray * metres, 1.0]
    canvas = ((clip[0] / clip[3] + 1) / 2, (1 - clip[1] / clip[3]) / 2)  # what the page's click gives
    assert canvas == pytest.approx((x, y), abs=1e-9)
    without = client.post("/api/preview", json={"photo": photo, "options": OPTIONS}).json()
    assert without["focus_m"] is None


def test_the_page_has_the_lens_fields_and_says_how_it_previews(client):
    page = client.get("/").text
    for element in ('id="fstop"', 'id="focus"', 'id="pick_focus"', 'id="shutter"', 'id="shutter_samples"'):
        assert element in page
    assert 'id="lens_note"' in page and "rendered by the server" in page
    script = client.get("/static/app.js").text
    assert "/api/preview/frame" in script and "focus_camera" in script
    info = client.get("/api/info").json()
    assert info["lens_preview"] == {"long_side_px": LENS_PREVIEW_PX, "shutter_samples": LENS_PREVIEW_SAMPLES}
    assert info["defaults"]["shutter_samples"] == 8 and info["defaults"]["focus"] == "subject"
