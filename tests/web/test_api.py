"""The web app's API with FastAPI's test client: upload -> preview -> scene -> render ->
download, bad uploads, path traversal, the access token, jobs surviving a restart, and the
preview's cameras being the render's."""

import io
import json
import time
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from stillcam import RenderOptions
from stillcam.camera.plan import ShotSettings
from stillcam.conventions import DEFAULT_FOCAL_MM
from stillcam.example.procedural import example_inputs
from stillcam.pipeline import plan_shot
from stillcam.render.frame import project_vertices

pytest.importorskip("fastapi", reason="extra 'web' not installed")
pytest.importorskip("httpx", reason="the test client needs httpx")
from fastapi.testclient import TestClient

from stillcam.web.preview import clip_matrix
from stillcam.web.server import ServeSettings, create_app

OPTIONS = {"move": "orbit(degrees=12)", "duration": 0.5, "size": "320x180"}


def _files():
    picture, depth = example_inputs(320, 180)
    photo = io.BytesIO()
    Image.fromarray(np.rint(picture.pixels * 255).astype(np.uint8)).save(photo, "PNG")
    depth_file = io.BytesIO()
    np.save(depth_file, depth.z)
    return photo.getvalue(), depth_file.getvalue()


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path, max_upload_mb=5))) as c:
        yield c


def _upload(client) -> str:
    photo, depth = _files()
    response = client.post("/api/photos", files={"photo": ("p.png", photo), "depth": ("d.npy", depth)})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _wait(client, job_id: str) -> dict:
    for _ in range(600):
        job = client.get(f"/api/renders/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("render did not finish")


def test_upload_preview_render_download(client):
    info = client.get("/api/info").json()
    assert "orbit" in [m["name"] for m in info["moves"]] and "prores-422hq" in info["codecs"]
    photo = _upload(client)
    preview = client.post("/api/preview", json={"photo": photo, "options": OPTIONS}).json()
    assert len(preview["cameras"]) == 12 and preview["fps"] == 24 and preview["first_frame"] == 1001
    assert preview["command"].startswith("stillcam render p.png --depth d.npy --move 'orbit(degrees=12)'")
    mesh = client.get(f"/api/scenes/{preview['scene']}/mesh.bin").content
    n_vertices, n_indices = np.frombuffer(mesh[:8], "<u4")
    assert len(mesh) == 8 + n_vertices * 20 + n_indices * 4 and n_indices % 3 == 0
    texture = client.get(f"/api/scenes/{preview['scene']}/texture.jpg")
    assert texture.headers["content-type"] == "image/jpeg"
    job = client.post("/api/renders", json={"photo": photo, "options": OPTIONS}).json()
    assert job["state"] == "queued" and len(job["id"]) == 32
    job = _wait(client, job["id"])
    assert job["state"] == "done", job["error"]
    assert job["files"] == ["shot.glb", "shot.mp4", "shot.recipe.json"] and job["progress"] == 1.0
    video = client.get(f"/api/renders/{job['id']}/files/shot.mp4")
    with av.open(io.BytesIO(video.content)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 12
    assert [j["id"] for j in client.get("/api/renders").json()] == [job["id"]]


@pytest.mark.parametrize(
    ("photo", "status", "message"),
    [
        (b"hello, not an image", 415, "not an image"),
        (None, 415, "truncated"),  # a JPEG cut in half
        (b"", 400, "empty"),
    ],
)
def test_bad_photos_are_refused_with_a_readable_message(client, photo, status, message):
    if photo is None:
        buffer = io.BytesIO()
        Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 90).save(buffer, "JPEG")
        photo = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    response = client.post("/api/photos", files={"photo": ("p.jpg", photo)})
    assert response.status_code == status and message in response.json()["detail"]


def test_too_large_uploads_and_unknown_depth_files_are_refused(client):
    big = b"\xff\xd8" + bytes(6 * 2**20)
    response = client.post("/api/photos", files={"photo": ("big.jpg", big)})
    assert response.status_code == 413 and "MB limit" in response.json()["detail"]
    photo, _ = _files()
    response = client.post("/api/photos", files={"photo": ("p.png", photo), "depth": ("d.txt", b"1 2 3")})
    assert response.status_code == 415 and "EXR, PNG, TIFF or .npy" in response.json()["detail"]


def test_downloads_come_only_from_a_jobs_file_list(client):
    photo = _upload(client)
    job = _wait(client, client.post("/api/renders", json={"photo": photo, "options": OPTIONS}).json()["id"])
    for name in ("job.json", "..%2Fjob.json", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "shot.mp4%00"):
        assert client.get(f"/api/renders/{job['id']}/files/{name}").status_code == 404
    assert client.get("/api/renders/" + "0" * 32 + "/files/shot.mp4").status_code == 404
    assert client.get("/api/renders/../../uploads/files/shot.mp4").status_code == 404
    response = client.post("/api/preview", json={"photo": "../../etc", "options": OPTIONS})
    assert response.status_code == 422 and response.json()["detail"].startswith("photo: String should match")


def test_bad_options_say_what_is_wrong(client):
    photo = _upload(client)
    response = client.post("/api/preview", json={"photo": photo, "options": {"speed": 3}})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("options.speed: unknown option 'speed'; valid options:")
    response = client.post("/api/preview", json={"photo": photo, "options": {"move": "warp(x=1)"}})
    assert response.status_code == 422 and "warp" in response.json()["detail"]


def test_the_token_is_enforced_when_configured(tmp_path: Path):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path, token="s3cret"))) as client:
        assert client.get("/api/info").status_code == 401
        assert client.get("/api/info", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/api/info", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/api/info?token=s3cret").status_code == 200
        assert client.get("/").status_code == 200  # the page itself holds no data


def test_finished_renders_survive_a_restart_and_interrupted_ones_are_marked(tmp_path: Path):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path))) as client:
        photo = _upload(client)
        done = _wait(
            client, client.post("/api/renders", json={"photo": photo, "options": OPTIONS}).json()["id"]
        )
    stale = tmp_path / "jobs" / ("f" * 32)
    stale.mkdir()
    record = {**done, "id": "f" * 32, "state": "running", "files": [], "progress": 0.5}
    (stale / "job.json").write_text(json.dumps(record))
    with TestClient(create_app(ServeSettings(data_dir=tmp_path))) as client:
        jobs = {j["id"]: j for j in client.get("/api/renders").json()}
        assert jobs[done["id"]]["state"] == "done" and jobs[done["id"]]["files"] == done["files"]
        assert jobs["f" * 32]["state"] == "failed" and "stopped" in jobs["f" * 32]["error"]
        assert client.get(f"/api/renders/{done['id']}/files/shot.mp4").status_code == 200


def test_preview_clip_matrices_are_the_render_cameras(client):
    photo = _upload(client)
    preview = client.post("/api/preview", json={"photo": photo, "options": OPTIONS}).json()
    picture, depth = example_inputs(320, 180)
    picture = replace(picture, focal_mm=DEFAULT_FOCAL_MM)  # the uploaded PNG has no EXIF focal
    options = RenderOptions(shot=ShotSettings(move="orbit(degrees=12)", duration=0.5, size="320x180"))
    scene, path, _ = plan_shot(picture, depth, options)
    points = scene.vertices[:: max(1, len(scene.vertices) // 300)].astype(np.float64)
    for index in (0, 6, 11):
        clip = np.array(preview["cameras"][index]["clip"]).reshape(4, 4).T  # column-major from JSON
        h = np.c_[points, np.ones(len(points))] @ clip.T
        ndc = h[:, :2] / h[:, 3:]
        camera = path.cameras[index]
        pixels = np.c_[(ndc[:, 0] + 1) / 2 * camera.width - 0.5, (1 - ndc[:, 1]) / 2 * camera.height - 0.5]
        want = project_vertices(points, camera)
        visible = want[:, 2] > 0.01
        np.testing.assert_allclose(pixels[visible], want[visible, :2], atol=1e-6)


def test_clip_matrix_depth_range():
    picture, _ = example_inputs(64, 36)
    from stillcam.camera import Camera

    camera = Camera.from_focal_mm(64, 36, picture.focal_mm)
    m = clip_matrix(camera, 0.5, 100.0)
    for z, expected in ((0.5, -1.0), (100.0, 1.0)):
        h = m @ np.array([0.0, 0.0, z, 1.0])
        assert h[2] / h[3] == pytest.approx(expected)
