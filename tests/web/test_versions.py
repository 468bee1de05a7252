"""The session's versions with FastAPI's test client: two renders are two versions with their
changes in units, notes (round trip, limits, atomic in job.json, kept over a restart),
approval (a full-quality render with the documented options, itself a version), the frame
endpoint (the decoded frame of the output file), and the errors."""

import io
import json
import time
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from stillcam.example.procedural import example_inputs

pytest.importorskip("fastapi", reason="extra 'web' not installed")
pytest.importorskip("httpx", reason="the test client needs httpx")
from fastapi.testclient import TestClient

from stillcam.web.jobs import MAX_NOTE
from stillcam.web.server import ServeSettings, create_app
from stillcam.web.versions import approval_options, summary

BASE = {"duration": 0.5, "fps": "12", "size": "64x36"}


def _upload(client) -> str:
    picture, depth = example_inputs(128, 72)
    photo, depth_file = io.BytesIO(), io.BytesIO()
    Image.fromarray(np.rint(picture.pixels * 255).astype(np.uint8)).save(photo, "PNG")
    np.save(depth_file, depth.z)
    files = {"photo": ("p.png", photo.getvalue()), "depth": ("d.npy", depth_file.getvalue())}
    response = client.post("/api/photos", files=files)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _wait(client, job_id: str) -> dict:
    for _ in range(1200):
        job = client.get(f"/api/renders/{job_id}").json()
        if job["state"] in ("done", "failed"):
            assert job["state"] == "done", job["error"]
            return job
        time.sleep(0.05)
    raise AssertionError("render did not finish")


def _render(client, photo: str, **options) -> dict:
    response = client.post("/api/renders", json={"photo": photo, "options": {**BASE, **options}})
    assert response.status_code == 200, response.text
    return _wait(client, response.json()["id"])


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A server with two versions: orbit 8 degrees, then 12."""
    folder = tmp_path_factory.mktemp("versions")
    with TestClient(create_app(ServeSettings(data_dir=folder))) as client:
        photo = _upload(client)
        first = _render(client, photo, move="orbit(degrees=8)")
        second = _render(client, photo, move="orbit(degrees=12)")
        yield client, folder, photo, first, second


def test_two_renders_are_two_versions_with_their_changes(session):
    client, _, _, first, second = session
    versions = client.get("/api/versions").json()
    one, two = versions[:2]
    assert (one["version"], one["job"], two["version"], two["job"]) == (1, first["id"], 2, second["id"])
    assert first["version"] == 1 and second["version"] == 2  # the job records carry the number
    assert one["previous"] is None and one["changes"] == [] and one["error"] == ""
    assert two["previous"] == 1
    lines = [c["line"] for c in two["changes"]]
    # The move, then the motion-safety guard's findings of the wider orbit.
    assert lines[0] == "orbit.degrees 8 deg -> 12 deg", lines
    assert all(line.startswith("safety.") for line in lines[1:]), lines
    assert two["changes"][0] == {
        "path": "orbit.degrees",
        "old": 8,
        "new": 12,
        "unit": "deg",
        "line": "orbit.degrees 8 deg -> 12 deg",
    }
    assert (two["frames"], two["width"], two["height"], two["fps"]) == (6, 64, 36, "12/1")
    assert two["summary"] == "move=orbit(degrees=12) duration=0.5 fps=12 size=64x36"
    assert two["output"] == "shot.mp4" and two["note"] == "" and two["approves"] is None
    assert client.get("/api/versions/2").json() == two


def test_note_round_trip_limits_and_restart(session):
    client, folder, _, first, _ = session
    text = "warmer grade; the orbit's end is too fast — try 10°\nsecond line"
    response = client.put("/api/versions/1/note", json={"note": text})
    assert response.status_code == 200 and response.json()["note"] == text
    assert client.get("/api/versions/1/note").json() == {"version": 1, "note": text}
    assert json.loads((folder / "jobs" / first["id"] / "job.json").read_text())["note"] == text
    assert not list((folder / "jobs" / first["id"]).glob(".*"))  # no temporary file left
    assert client.put("/api/versions/1/note", json={"note": "x" * MAX_NOTE}).status_code == 200
    too_long = client.put("/api/versions/1/note", json={"note": "x" * (MAX_NOTE + 1)})
    assert too_long.status_code == 422 and too_long.json()["detail"].startswith("note:")
    for bad in ({"note": 3}, {}, {"note": "a", "extra": 1}):
        assert client.put("/api/versions/1/note", json=bad).status_code == 422, bad
    assert client.get("/api/versions/1").json()["note"] == "x" * MAX_NOTE  # unchanged by the refusals
    assert client.put("/api/versions/1/note", json={"note": text}).status_code == 200
    # A restart reads the numbers and the notes back from the job folders.
    with TestClient(create_app(ServeSettings(data_dir=folder))) as again:
        versions = again.get("/api/versions").json()
        assert [v["version"] for v in versions[:2]] == [1, 2] and versions[0]["note"] == text
        assert versions[1]["changes"][0]["line"] == "orbit.degrees 8 deg -> 12 deg"


def test_frame_endpoint_is_the_decoded_output(session):
    client, folder, _, _, second = session
    with av.open(str(folder / "jobs" / second["id"] / "shot.mp4")) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 6
    for index in (3, 0, 5, 3):  # forwards, back, cached
        response = client.get(f"/api/versions/2/frames/{index}")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        frame = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
        assert np.array_equal(frame, decoded[index]), index
    assert not np.array_equal(decoded[0], decoded[5])  # the camera moved
    past = client.get("/api/versions/2/frames/6")
    assert past.status_code == 422 and "0..5" in past.json()["detail"]
    assert client.get("/api/versions/2/frames/-1").status_code == 422
    assert client.get("/api/versions/2/frames/x").status_code == 422
    assert client.get("/api/versions/99/frames/0").status_code == 404


def test_approve_queues_the_full_quality_render(session):
    client, _, photo, _, second = session
    response = client.post("/api/versions/2/approve", json={})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["approves"] == 2 and job["state"] in ("queued", "running")
    assert job["request"] == {"photo": photo, "options": {**second["request"]["options"], "supersample": 2}}
    assert "--supersample 2" in job["command"]
    again = client.post("/api/versions/2/approve")
    assert again.status_code == 409 and "already" in again.json()["detail"]
    listed = client.get("/api/versions/2").json()["approvals"]
    assert listed[0]["job"] == job["id"] and listed[0]["version"] is None
    done = _wait(client, job["id"])
    versions = {v["version"]: v for v in client.get("/api/versions").json()}
    approved = versions[done["version"]]
    assert done["version"] == 3 and approved["approves"] == 2 and approved["previous"] == 2
    assert [c["line"] for c in approved["changes"]] == ["render.supersample 1x -> 2x"]
    assert [c["line"] for c in approved["approved_changes"]] == ["render.supersample 1x -> 2x"]
    assert versions[2]["approved_changes"] is None
    assert versions[2]["approvals"] == [{"job": job["id"], "state": "done", "version": 3}]
    # An approval is not approved again; a bad size or body is refused before any work.
    assert client.post("/api/versions/3/approve").status_code == 409
    for body, status in (({"size": "12x"}, 422), ({"size": 5}, 422), ({"fps": 3}, 422)):
        response = client.post("/api/versions/1/approve", json=body)
        assert response.status_code == status, (body, response.text)
    assert client.post("/api/versions/42/approve").status_code == 404
    # With a size: the version's options at that size, supersampled.
    sized = client.post("/api/versions/1/approve", json={"size": "96x54"}).json()
    assert sized["request"]["options"]["size"] == "96x54" and sized["request"]["options"]["supersample"] == 2
    sized = _wait(client, sized["id"])
    record = client.get(f"/api/versions/{sized['version']}").json()
    assert (record["approves"], record["previous"], record["width"]) == (1, 3, 96)
    # Its changes from v3 (the one before) and from v1 (the one it approves) differ.
    lines = [c["line"] for c in record["approved_changes"]]
    assert lines[:2] == ["shot.size 64x36 -> 96x54", "render.supersample 1x -> 2x"], lines


def test_errors(session):
    client, *_ = session
    for path in ("/api/versions/0", "/api/versions/-2", "/api/versions/two", "/api/versions/2.5"):
        assert client.get(path).status_code == 422, path
    missing = client.get("/api/versions/77")
    assert missing.status_code == 404 and "the session has versions 1, 2" in missing.json()["detail"]
    assert client.put("/api/versions/77/note", json={"note": "a"}).status_code == 404
    assert client.get("/api/versions/77/note").status_code == 404


def test_an_empty_session(tmp_path: Path):
    with TestClient(create_app(ServeSettings(data_dir=tmp_path))) as client:
        assert client.get("/api/versions").json() == []
        response = client.get("/api/versions/1")
        assert response.status_code == 404 and "no render is done yet" in response.json()["detail"]


def test_approval_options_and_summary():
    assert approval_options({"move": "pan"}, None) == {"move": "pan", "supersample": 2}
    assert approval_options({"supersample": 4}, "UHD") == {"supersample": 4, "size": "UHD"}
    assert summary({}) == "defaults"
    assert summary({"move": "pan", "allow_noncommercial": True, "passes": ["depth"]}) == (
        "move=pan allow_noncommercial=on passes=depth"
    )


def test_numbers_pruning_old_jobs_and_a_deleted_photo(tmp_path: Path):
    settings = ServeSettings(data_dir=tmp_path, keep_renders=2, keep_uploads=1)
    with TestClient(create_app(settings)) as client:
        photo = _upload(client)
        first = _render(client, photo, move="pan")
        _render(client, photo, move="pan(degrees=5)")
        third = _render(client, photo, move="pan(degrees=6)")
        versions = client.get("/api/versions").json()
        # v1 was deleted with its folder (two renders kept); its number is not given again.
        assert [v["version"] for v in versions] == [2, 3] and versions[0]["previous"] is None
        assert not (tmp_path / "jobs" / first["id"]).exists()
        assert client.get("/api/versions/1").status_code == 404
        assert client.get("/api/versions/3/frames/0").status_code == 200
        _upload(client)  # the one upload kept: the first photo is deleted
        gone = client.post("/api/versions/3/approve")
        assert gone.status_code == 409 and "upload it again" in gone.json()["detail"]
    # A done job of an older job.json (no number) is numbered at start-up, after the others.
    state = tmp_path / "jobs" / third["id"] / "job.json"
    record = json.loads(state.read_text())
    for key in ("version", "approves", "note", "output"):
        del record[key]
    state.write_text(json.dumps(record))
    with TestClient(create_app(settings)) as client:
        versions = client.get("/api/versions").json()
        # The number is one more than the highest kept (2), and the diff still runs.
        assert [(v["version"], v["job"]) for v in versions] == [(2, versions[0]["job"]), (3, third["id"])]
        assert versions[1]["output"] == "shot.mp4"
        assert versions[1]["changes"][0]["line"] == "pan.degrees 5 deg -> 6 deg"


def test_the_frame_cache_is_bounded(session):
    from stillcam.web.versions import FrameCache

    _, folder, _, _, second = session
    video = folder / "jobs" / second["id"] / "shot.mp4"
    whole = FrameCache()
    frames = [whole.frame("v", video, i) for i in range(6)]
    small = FrameCache(max_bytes=2 * max(len(f) for f in frames))
    for index in (5, 0, 4, 5, 2):
        assert small.frame("v", video, index) == frames[index]  # the same PNG, decoded again or not
        assert small._bytes <= small.max_bytes and len(small._frames) <= 2
    small.forget(set())
    assert small._bytes == 0 and not small._frames
