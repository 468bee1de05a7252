"""The web API under hostile requests (issue 15): every option typed (422 naming the field),
no server-side file reachable from a request, upload bombs refused from their headers, bodies
counted while they stream, preview budgets, the token, retention and restart clean-up, and an
atomic render queue. Renders are stubbed where only the API is under test."""

import asyncio
import functools
import io
import json
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stillcam.errors import InputError, RequestError
from stillcam.example.procedural import example_inputs

pytest.importorskip("fastapi", reason="extra 'web' not installed")
pytest.importorskip("httpx", reason="the test client needs httpx")
from fastapi.testclient import TestClient

from stillcam.io.limits import input_pixel_budget
from stillcam.web import server
from stillcam.web.guard import Guard
from stillcam.web.jobs import JobStore
from stillcam.web.server import ServeSettings, create_app
from stillcam.web.sniff import sniff_depth

OPTIONS = {"move": "orbit(degrees=12)", "duration": 0.5, "size": "96x54"}
SHOT_YAML = "segments:\n  - move: orbit\n    params: {degrees: 10}\n    duration: 0.5\n"


@functools.cache
def _inputs() -> tuple[bytes, bytes]:
    picture, depth = example_inputs(96, 54)
    photo = io.BytesIO()
    Image.fromarray(np.rint(picture.pixels * 255).astype(np.uint8)).save(photo, "PNG")
    depth_file = io.BytesIO()
    np.save(depth_file, depth.z)
    return photo.getvalue(), depth_file.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (8-bit grey) over one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(64)


@pytest.fixture
def settings(tmp_path: Path) -> ServeSettings:
    return ServeSettings(data_dir=tmp_path / "data", max_upload_mb=2)


@pytest.fixture
def client(settings: ServeSettings):
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def fast_render(monkeypatch):
    """Renders that write a small stand-in output at once (the API is under test, not the render)."""

    def render(photo, depth, output, options, *, exports, on_frame):
        Path(output).write_bytes(b"video")
        on_frame(1, 1)

    monkeypatch.setattr(server, "render", render)


def _upload(client, photo: bytes | None = None, depth: bytes | None = None) -> str:
    default_photo, default_depth = _inputs()
    files = {"photo": ("p.png", photo or default_photo), "depth": ("d.npy", depth or default_depth)}
    response = client.post("/api/photos", files=files)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _upload_camera(client, text: str, name: str = "shot.yaml"):
    return client.post("/api/cameras", files={"camera": (name, text.encode())})


# ---------------------------------------------------------------- typed options: 422, never 500


@pytest.mark.parametrize("endpoint", ["/api/preview", "/api/renders"])
@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"duration": "abc"}, "options.duration"),
        ({"size": 5}, "options.size"),
        ({"move": 5}, "options.move"),
        ({"stride": 1.5}, "options.stride"),
        ({"safe": "yes"}, "options.safe"),
        ({"first_frame": 10**30}, "options.first_frame"),
        ({"matte": [1, 2]}, "options.matte"),
        ({"codec": "divx"}, "options.codec"),
        ({"params": "degrees=5"}, "options.params"),
        ([["move", "orbit"]], "options"),
        ({"duration": -1}, "options: --duration"),  # a typed value out of range: the options say
    ],
)
def test_badly_typed_options_answer_422_naming_the_field(client, fast_render, endpoint, options, field):
    photo = _upload(client)
    response = client.post(endpoint, json={"photo": photo, "options": options})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(field), response.json()["detail"]
    assert client.get("/api/renders").json() == []  # nothing was queued to fail later


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_nan_and_infinity_answer_422(client, number):
    photo = _upload(client)
    body = f'{{"photo": "{photo}", "options": {{"duration": {number}}}}}'
    response = client.post("/api/preview", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "options.duration: Input should be a finite number"


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b'"x"', b"{", b"\xff\xfe", b'{"photo": 5}', b'{"photo": "' + b"a" * 32 + b'", "x": 1}'],
)
def test_bodies_that_are_not_requests_answer_4xx(client, body):
    response = client.post("/api/renders", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422) and isinstance(response.json()["detail"], str)


# ---------------------------------------------------------------- no server-side file from a request


@pytest.mark.parametrize("field", ["model_dir", "fill_model_dir", "path", "camera_file"])
def test_clients_cannot_name_server_files(client, tmp_path, field):
    secret = tmp_path / "secret.yaml"
    secret.write_text("segments: [{move: orbit, params: {degrees: 'the secret text'}}]\n")
    photo = _upload(client)
    answers = []
    for path in (secret, tmp_path / "missing.yaml", Path("/dev/zero")):
        response = client.post("/api/preview", json={"photo": photo, "options": {field: str(path)}})
        assert response.status_code == 422, response.text
        assert "secret text" not in response.text
        assert response.json()["detail"].startswith(f"options.{field}: ")
        answers.append(response.json()["detail"].replace(str(path), "PATH"))
    assert len(set(answers)) == 1  # an existing, a missing and a device file answer alike: no oracle


def test_camera_files_are_uploads(client):
    photo = _upload(client)
    camera = _upload_camera(client, SHOT_YAML, "my shot.yaml")
    assert camera.status_code == 200, camera.text
    assert camera.json()["kind"] == "shot" and camera.json()["frames"] == 12
    options = {"camera_file": camera.json()["id"], "size": "96x54"}
    preview = client.post("/api/preview", json={"photo": photo, "options": options})
    assert preview.status_code == 200, preview.text
    assert len(preview.json()["cameras"]) == 12
    assert "--path 'my shot.yaml'" in preview.json()["command"]  # the client's name, not the server's
    unknown = {"camera_file": "0" * 32}
    assert client.post("/api/preview", json={"photo": photo, "options": unknown}).status_code == 404


@pytest.mark.parametrize(
    ("text", "name", "status", "message"),
    [
        ("segments: [{move: warp}]\n", "bad.yaml", 422, "bad.yaml"),
        ("segments: [\n", "broken.yaml", 422, "broken.yaml"),
        ('{"segments": 5', "broken.json", 422, "broken.json"),
        ("a: &x [1, 2]\nb: [*x, *x]\n", "laughs.yaml", 415, "YAML aliases"),
        ("[" * 100_000, "deep.json", 422, "deep.json"),
    ],
)
def test_bad_camera_files_are_refused_with_their_own_name(client, settings, text, name, status, message):
    response = _upload_camera(client, text, name)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert str(settings.data_dir) not in response.text and "camera.yaml" not in response.text
    assert not any((settings.data_dir / "cameras").iterdir())  # nothing of it kept


def test_server_folders_are_never_in_messages(client, settings):
    photo, _ = _inputs()
    damaged = _png_header(96, 54)  # a PNG header whose pixels do not decode
    upload = _upload(client, photo, damaged)
    response = client.post("/api/preview", json={"photo": upload, "options": OPTIONS})
    assert 400 <= response.status_code < 500, response.text
    assert str(settings.data_dir) not in response.text and "uploads/" not in response.text


# ---------------------------------------------------------------- upload bombs, refused from headers


@pytest.mark.parametrize(
    ("depth", "status", "message"),
    [
        (_npy_header((100_000, 100_000)), 413, "d: the depth map is 100000x100000 = 10000 MP, over"),
        (_png_header(24_000, 13_500), 413, "d: the depth map is 24000x13500 = 324 MP, over"),
        (_npy_header((10_000, 10_000, 5)), 413, "with 5 channels"),
        (_npy_header((64, 64), "<c8"), 415, "complex64"),
        (_npy_header((64, 64, 0)), 415, "no channel"),
        (_npy_header((640, 640)), 415, "truncated"),
        (_png_header(0, 10), 415, "empty"),
        (b"\x89PNG\r\n\x1a\n", 415, "damaged"),
    ],
)
def test_depth_bombs_and_lying_headers_are_refused_at_upload(client, settings, depth, status, message):
    photo, _ = _inputs()
    response = client.post("/api/photos", files={"photo": ("p.png", photo), "depth": ("d", depth)})
    assert response.status_code == status and message in response.json()["detail"], response.text
    assert not any((settings.data_dir / "uploads").iterdir())


def test_photo_bombs_are_refused_from_the_header(client):
    response = client.post("/api/photos", files={"photo": ("p.png", _png_header(24_000, 13_500))})
    assert response.status_code == 413
    assert response.json()["detail"].startswith("p.png: the photo is 324 MP, over stillcam's input budget")
    side = int(input_pixel_budget() ** 0.5) + 16  # over the budget, under twice Pillow's own limit
    response = client.post("/api/photos", files={"photo": ("p.png", _png_header(side, side))})
    assert response.status_code == 413 and f"{side}x{side}" in response.json()["detail"]


def test_depth_headers_give_the_size_of_every_kind(tmp_path):
    import cv2
    import OpenEXR

    z = np.ones((36, 64), np.float32)
    assert sniff_depth(cv2.imencode(".png", (z * 1000).astype(np.uint16))[1].tobytes()) == (".png", (64, 36))
    assert sniff_depth(cv2.imencode(".tif", z)[1].tobytes()) == (".tif", (64, 36))
    buffer = io.BytesIO()
    np.save(buffer, z)
    assert sniff_depth(buffer.getvalue()) == (".npy", (64, 36))
    exr = tmp_path / "d.exr"
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, {"Z": z}) as f:
        f.write(str(exr))
    assert sniff_depth(exr.read_bytes()) == (".exr", (64, 36))
    with pytest.raises(RequestError) as error:
        sniff_depth(exr.read_bytes()[:40])
    assert error.value.status == 415


# ---------------------------------------------------------------- bodies counted while they stream


def _asgi_post(app, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    """POST ``chunks`` to ``app`` as a chunked body (no Content-Length); returns (status, body,
    bytes the app pulled)."""
    pulled = [0]
    messages = iter(chunks)
    sent: list[dict] = []

    async def receive():
        chunk = next(messages, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled[0] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"transfer-encoding", b"chunked"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled[0]


def test_a_chunked_upload_stops_at_the_limit(settings):
    app = create_app(settings)  # --max-upload-mb 2
    boundary = b"x" * 16
    head = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n\r\n'
    chunks = [head] + [b"\xff" * 2**16] * (300 * 16)  # 300 MB offered
    content_type = (b"content-type", b"multipart/form-data; boundary=" + boundary)
    status, body, pulled = _asgi_post(app, "/api/photos", [content_type], chunks)
    assert status == 413 and "2 MB limit" in body["detail"]
    assert pulled <= (2 + 1) * 2**20 + 2 * 2**16  # read up to the limit, not 300 MB


def test_a_chunked_json_body_stops_at_its_limit(settings):
    app = create_app(settings)
    chunks = [b'{"photo": "'] + [b"a" * 2**16] * 1000
    content_type = (b"content-type", b"application/json")
    status, body, pulled = _asgi_post(app, "/api/preview", [content_type], chunks)
    assert status == 413 and "1024 kB" in body["detail"] and pulled <= 2**20 + 2**17


def test_the_guard_answers_413_even_when_the_app_catches_the_cut():
    async def app(scope, receive, send):
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:
            pass  # an app that swallows the error and answers something else
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    guard = Guard(app, token=None, limit=lambda path: 1000, too_large=lambda path: "too large")
    status, body, pulled = _asgi_post(guard, "/api/x", [], [b"a" * 100] * 100)
    assert (status, body["detail"]) == (413, "too large") and pulled == 1100


# ---------------------------------------------------------------- the token


def test_the_token_guards_the_docs_and_the_schema(tmp_path):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path, token="s3cret"))) as client:
        for path in ("/docs", "/openapi.json", "/redoc", "/api/renders", "/api/nowhere"):
            assert client.get(path).status_code == 401, path
        assert client.get("/openapi.json?token=s3cret").json()["info"]["title"] == "stillcam"
        docs = client.get("/docs?token=s3cret")
        assert docs.status_code == 200 and "/openapi.json?token=s3cret" in docs.text
        assert client.get("/").status_code == 200 and client.get("/static/app.js").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer s3crét".encode()},
        {"Authorization": b"Bearer \xff\xfe"},
        {"Authorization": "Bearer s3cret\u00a0".encode("latin-1")},
        {"Authorization": b"Bearer"},
    ],
)
def test_a_non_ascii_token_is_just_wrong(tmp_path, headers):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path, token="s3cret"))) as client:
        assert client.get("/api/info", headers=headers).status_code == 401
        assert client.get("/api/info?token=s3cr%C3%A9t").status_code == 401
        assert client.get("/api/info?token=%FF").status_code == 401
        assert client.get("/api/info", headers={"Authorization": "bearer s3cret"}).status_code == 200


def test_without_a_token_the_docs_are_open(client):
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").status_code == 200


# ---------------------------------------------------------------- preview budgets


def test_a_long_shot_is_refused_before_any_camera_is_planned(client, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("planned the cameras of a shot over the preview's frame budget")

    monkeypatch.setattr(server, "plan_cameras", never)
    photo = _upload(client)
    response = client.post("/api/preview", json={"photo": photo, "options": {**OPTIONS, "duration": 300}})
    assert response.status_code == 422
    assert "at most 4800 frames and this shot has 7200" in response.json()["detail"]


def test_a_slow_preview_answers_429_and_is_ready_when_asked_again(tmp_path, monkeypatch):
    release, calls = threading.Event(), []
    real = server.plan_cameras

    def slow(*args, **kwargs):
        calls.append(1)
        release.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(server, "plan_cameras", slow)
    app = create_app(ServeSettings(data_dir=tmp_path, preview_seconds=0.01))
    with TestClient(app) as client:
        photo = _upload(client)
        response = client.post("/api/preview", json={"photo": photo, "options": OPTIONS})
        assert response.status_code == 429 and "budget" in response.json()["detail"]
        release.set()
        app.state.api.budget.seconds = 600.0  # the retry waits for the slot the first one holds
        response = client.post("/api/preview", json={"photo": photo, "options": OPTIONS})
        assert response.status_code == 200 and len(response.json()["cameras"]) == 12
    assert len(calls) == 1  # the retry took what the first one made


# ---------------------------------------------------------------- the render queue


def test_admission_is_atomic(tmp_path):
    store = JobStore(tmp_path, workers=1, max_queued=8)
    release, start = threading.Event(), threading.Barrier(20)
    accepted, refused = [], []

    def submit() -> None:
        start.wait()
        try:
            accepted.append(store.submit({}, "cmd", lambda folder, on_frame: release.wait()))
        except RequestError as exc:
            refused.append(exc.status)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    release.set()
    store.shutdown()
    assert len(accepted) == 9 and refused == [429] * 11  # one running, eight waiting
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(j.id for j in accepted)


def test_a_failed_render_does_not_show_server_folders(client, settings, monkeypatch):
    def render(photo, depth, output, options, *, exports, on_frame):
        raise InputError(f"{photo}: cannot be decoded")

    monkeypatch.setattr(server, "render", render)
    job = client.post("/api/renders", json={"photo": _upload(client), "options": OPTIONS}).json()
    client.app.state.jobs.shutdown()  # waits for it
    job = client.get(f"/api/renders/{job['id']}").json()
    assert job["state"] == "failed" and job["error"] == "photo.png: cannot be decoded"
    assert str(settings.data_dir) not in client.get("/api/renders").text


def test_renders_are_checked_when_submitted(client, fast_render):
    photo = _upload(client)
    response = client.post("/api/renders", json={"photo": photo, "options": {**OPTIONS, "frames": "1-5"}})
    assert response.status_code == 422 and "--frames" in response.json()["detail"]
    response = client.post("/api/renders", json={"photo": "0" * 32, "options": OPTIONS})
    assert response.status_code == 404
    assert client.get("/api/renders").json() == []


# ---------------------------------------------------------------- retention and restart clean-up


def _wait_done(client, job_id: str) -> dict:
    store = client.app.state.jobs
    store.shutdown()  # waits for the queued renders; the pool takes no more after this
    return client.get(f"/api/renders/{job_id}").json()


def test_only_the_newest_uploads_and_renders_are_kept(tmp_path, fast_render):
    settings = ServeSettings(data_dir=tmp_path, keep_uploads=2, keep_renders=1, workers=1)
    with TestClient(create_app(settings)) as client:
        first, second, third = (_upload(client) for _ in range(3))
        assert client.post("/api/preview", json={"photo": first, "options": OPTIONS}).status_code == 404
        assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == sorted([second, third])
        jobs = [
            client.post("/api/renders", json={"photo": third, "options": OPTIONS}).json() for _ in range(2)
        ]
        _wait_done(client, jobs[1]["id"])
        kept = [j["id"] for j in client.get("/api/renders").json()]
        assert len(kept) == 1 and [p.name for p in (tmp_path / "jobs").iterdir()] == kept
        gone = jobs[0]["id"] if kept == [jobs[1]["id"]] else jobs[1]["id"]
        assert client.get(f"/api/renders/{gone}/files/shot.mp4").status_code == 404


def test_uploads_that_queued_renders_need_are_kept(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(server, "render", lambda *args, **kwargs: release.wait())
    with TestClient(create_app(ServeSettings(data_dir=tmp_path, keep_uploads=1))) as client:
        needed = _upload(client)
        client.post("/api/renders", json={"photo": needed, "options": OPTIONS}).raise_for_status()
        newest = _upload(client)
        assert {p.name for p in (tmp_path / "uploads").iterdir()} == {needed, newest}
        release.set()


def test_a_restart_removes_what_interrupted_jobs_and_uploads_left(tmp_path, fast_render):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path))) as client:
        photo = _upload(client)
        done = client.post("/api/renders", json={"photo": photo, "options": OPTIONS}).json()
        done = _wait_done(client, done["id"])
    jobs = tmp_path / "jobs"
    (jobs / done["id"] / ".shot.mp4.partial-abc").write_bytes(b"x")
    interrupted = jobs / ("e" * 32)
    (interrupted / ".shot.0001.png.partial-1").mkdir(parents=True)
    (interrupted / "shot.mp4").write_bytes(b"half")
    (interrupted / "job.json").write_text(
        json.dumps({**done, "id": "e" * 32, "state": "running", "files": []})
    )
    (jobs / ("d" * 32)).mkdir()  # made as the server stopped, before its job.json
    (tmp_path / "uploads" / ("c" * 32)).mkdir()  # an upload cut short
    with TestClient(create_app(ServeSettings(data_dir=tmp_path))) as client:
        states = {j["id"]: j["state"] for j in client.get("/api/renders").json()}
    assert states == {done["id"]: "done", "e" * 32: "failed"}
    assert [p.name for p in interrupted.iterdir()] == ["job.json"]
    assert sorted(p.name for p in (jobs / done["id"]).iterdir()) == sorted([*done["files"], "job.json"])
    assert not (jobs / ("d" * 32)).exists() and not (tmp_path / "uploads" / ("c" * 32)).exists()
