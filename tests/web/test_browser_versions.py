"""Versions and the A/B compare in a real browser (Debian's chromium driven by Playwright, as in
test_browser.py, whose skips this follows): render two versions from the page, see their
changes, save a note, pick the two in the compare, scrub to frame k, and read the canvases:
side by side each shows its version's frame k as the server's frame endpoint gives it, and the
split view shows A left of the divider and B right of it, within test_browser.py's tolerances.
Then approve a version from its Approve button."""

import base64
import io
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from web_browser import CHROMIUM, FLAGS, example_files, live_server

pytest.importorskip("fastapi", reason="extra 'web' not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium (.ci/run installs it)"),
]

W, H = 160, 90
FRAME = 3  # of 6 (0.5 s at 12 fps)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-versions")
    for url in live_server(folder):
        yield url, folder


def _inputs(folder: Path) -> tuple[Path, Path]:
    return example_files(folder, W, H)


def _canvas_pixels(page, selector: str) -> np.ndarray:
    """The canvas's own pixels (its backing store, not the scaled screen)."""
    url = page.eval_on_selector(selector, "c => c.toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(float)


def _server_frame(url: str, version: int, index: int) -> np.ndarray:
    with urllib.request.urlopen(f"{url}api/versions/{version}/frames/{index}") as response:
        assert response.headers["content-type"] == "image/png"
        return np.asarray(Image.open(io.BytesIO(response.read())).convert("RGB")).astype(float)


def _close(shown: np.ndarray, ours: np.ndarray) -> tuple[float, float]:
    """test_browser.py's measures: mean absolute difference (0-255 levels) and correlation."""
    assert shown.shape == ours.shape, (shown.shape, ours.shape)
    difference = float(np.abs(shown - ours).mean())
    correlation = float(np.corrcoef(shown.ravel(), ours.ravel())[0, 1])
    assert difference < 2.5 and correlation > 0.97, (difference, correlation)
    return difference, correlation


def _render(page, count: int) -> None:
    page.click("#render")
    page.wait_for_selector(f"#versions[data-count='{count}']", state="attached", timeout=300_000)


def test_versions_compare_note_approve(server, tmp_path: Path):
    url, folder = server
    photo, depth = _inputs(folder)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("#move option[value=orbit]", state="attached")
        page.select_option("#size", "source")
        page.select_option("#move", "orbit")
        page.fill("#duration", "0.5")
        page.fill("#fps", "12")
        page.fill("#params input[data-param=degrees]", "8")
        page.set_input_files("#depth", str(depth))
        page.set_input_files("#photo", str(photo))
        page.wait_for_selector("#view[data-ready='1']", timeout=60_000)
        page.wait_for_function("document.querySelector('#command').textContent.includes('degrees=8')")
        _render(page, 1)
        page.fill("#params input[data-param=degrees]", "12")
        page.dispatch_event("#params input[data-param=degrees]", "input")
        page.wait_for_function("document.querySelector('#command').textContent.includes('degrees=12')")
        _render(page, 2)

        # The versions panel: v2's changes from v1, in units.
        second = page.locator("#versions > li[data-version='2']")
        assert "orbit.degrees 8 deg -> 12 deg" in second.locator(".changes").inner_text()
        assert "(first version)" in page.locator("#versions > li[data-version='1'] .changes").inner_text()
        # A note, saved and read back from the server.
        second.locator("textarea").fill("the wider orbit reads better")
        second.locator("button.save_note").click()
        page.wait_for_function(
            "document.querySelector(\"#versions > li[data-version='2']\").textContent.includes('saved')"
        )
        with urllib.request.urlopen(f"{url}api/versions/2/note") as response:
            assert b"the wider orbit reads better" in response.read()

        # A/B: pick v1 and v2, side by side, scrub to frame k.
        page.select_option("#ab_a", "1")
        page.select_option("#ab_b", "2")
        page.select_option("#ab_mode", "side")
        assert page.get_attribute("#ab_frame", "max") == "5"
        page.eval_on_selector(
            "#ab_frame", "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", str(FRAME)
        )
        page.wait_for_selector(f"#compare[data-frame='{FRAME}'][data-a='1'][data-b='2']", state="attached")
        assert page.is_visible("#ab_canvas_a") and page.is_visible("#ab_canvas_b")
        a, b = _server_frame(url, 1, FRAME), _server_frame(url, 2, FRAME)
        assert a.shape == (H, W, 3) and a.std() > 20
        assert np.abs(a - b).mean() > 3  # the two versions differ at frame k
        shown_a, shown_b = _canvas_pixels(page, "#ab_canvas_a"), _canvas_pixels(page, "#ab_canvas_b")
        _close(shown_a, a)
        _close(shown_b, b)
        assert np.abs(shown_a - b).mean() > 3  # A is not B
        assert np.abs(shown_a - _server_frame(url, 1, 0)).mean() > 1  # frame k, not the first

        # The split view: A left of the divider, B right of it (same frame index).
        page.select_option("#ab_mode", "split")
        page.eval_on_selector(
            "#ab_divider", "el => { el.value = 0.5; el.dispatchEvent(new Event('input')); }"
        )
        page.wait_for_selector(f"#compare[data-frame='{FRAME}']", state="attached")
        assert page.is_visible("#ab_split") and page.is_hidden("#ab_canvas_a")
        page.screenshot(path=str(folder / "versions-page.png"), full_page=True)
        split = _canvas_pixels(page, "#ab_split")
        x = int(page.get_attribute("#ab_split", "data-divider"))
        assert x == W // 2
        _close(split[:, :x], a[:, :x])
        _close(split[:, x:], b[:, x:])

        # Approve v2: its full-quality render is queued and becomes v3, the approval of v2.
        page.click("#versions > li[data-version='2'] button.approve")
        page.wait_for_selector("#versions[data-count='3']", state="attached", timeout=300_000)
        third = page.locator("#versions > li[data-version='3']")
        assert "approved render of v2" in third.inner_text()
        assert "render.supersample 1x -> 2x" in third.locator(".changes").inner_text()
        assert not errors, errors
        browser.close()
