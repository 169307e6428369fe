"""The web page in a real browser: headless Chromium (the system's, driven by Playwright)
against a live `openreel serve` on tiny models. A tester signs in, creates a video and
watches its progress reach 100 %, plays it, remixes, extends, reports and verifies it; a
newcomer asks for access, an operator approves, and the invitation is redeemed.

Without Chromium or Playwright these tests skip; CI sets OPENREEL_REQUIRE_BROWSER=1, which
makes that a failure. Screenshots of each screen go to $OPENREEL_SCREENSHOTS_DIR (else the
test's temporary folder); the README's come from there."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import httpx
import pytest

from tests.service.e2e.conftest import Server, make_key, new_data_dir

REQUIRE_BROWSER = os.environ.get("OPENREEL_REQUIRE_BROWSER") == "1"
CHROMIUM = (
    os.environ.get("OPENREEL_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
HOSTILE_PROMPT = (
    '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> a red kite'
)


def _unavailable(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"browser tests are required (OPENREEL_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"{reason}; CI installs chromium and sets OPENREEL_REQUIRE_BROWSER=1")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not CHROMIUM:
        _unavailable("no chromium on PATH (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = new_data_dir(tmp_path_factory.mktemp("page") / "data")
    live = Server(data, data / "e2e.yaml")
    yield live
    live.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("OPENREEL_SCREENSHOTS_DIR") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    """A browser tab of its own (own session storage), with the page's console errors."""

    def __init__(self, browser, server, shots: Path, *, width: int = 1100, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.server, self.shots = server, shots
        self.page.goto(server.url + "/")

    def sign_in(self, key: str) -> None:
        self.page.get_by_label("API key", exact=True).fill(key)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.page.get_by_role("heading", name="Create a video", exact=True).wait_for()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def wait_completed(self) -> str:
        """The id of the video this screen shows, once it shows it completed (the screen
        left behind may still show another video's)."""
        video_id = self.page.url.rsplit("/", 1)[-1]
        self.page.locator(
            f"[data-testid=status][data-video-id='{video_id}'] .badge.completed"
        ).wait_for(timeout=180_000)
        return video_id

    def wait_true(self, expression: str, timeout: float = 60.0) -> None:
        """Poll `expression` (wait_for_function would eval, which the page's CSP forbids)."""
        for _ in range(int(timeout * 10)):
            if self.page.evaluate(expression):
                return
            self.page.wait_for_timeout(100)
        shown = self.page.locator("main").inner_html()
        raise AssertionError(f"never true: {expression}\n{shown}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, server, shots):
    opened: list[Tab] = []

    def open_tab(**size) -> Tab:
        opened.append(Tab(browser, server, shots, **size))
        return opened[-1]

    yield open_tab
    for each in opened:
        each.close()


def test_a_tester_creates_watches_plays_remixes_extends_reports_and_verifies(tab, server, tmp_path):
    key = make_key(server.data_dir, "painter", "red_teamer")
    me = tab()
    me.page.get_by_role("heading", name="Sign in", exact=True).wait_for()
    me.shot("sign-in")
    me.sign_in(key)
    assert me.page.evaluate("sessionStorage.getItem('openreel.key')") == key
    assert me.page.evaluate("localStorage.length") == 0 and me.context.cookies() == []

    # Create: the model, seconds and size offered are those of GET /v1/models
    me.page.get_by_label("Prompt", exact=True).fill(HOSTILE_PROMPT)
    me.page.get_by_label("Model", exact=True).select_option("tiny-wan-i2v")
    me.page.get_by_label("Size", exact=True).select_option("64x64")
    me.page.get_by_label("Seconds", exact=True).fill("1")
    me.shot("create")
    me.page.get_by_role("button", name="Create", exact=True).click()

    # Live progress over SSE, up to 100 %
    progress = me.page.locator("[data-testid=progress] progress")
    progress.wait_for()
    seen = set()
    for _ in range(600):
        seen.add(int(progress.get_attribute("value")))
        if me.page.locator("[data-testid=status] .badge.completed").count():
            break
        if len(seen) == 2:
            me.shot("progress")
        me.page.wait_for_timeout(100)
    video_id = me.wait_completed()
    assert progress.get_attribute("value") == "100" and len(seen) > 1, seen
    assert me.page.get_by_test_id("prompt").text_content() == HOSTILE_PROMPT  # shown as typed
    assert me.page.evaluate("window.pwned") is None
    assert me.page.get_by_test_id("revised-prompt").text_content()

    # Play
    player = me.page.get_by_test_id("player")
    player.wait_for()
    me.wait_true("document.querySelector('[data-testid=player]').readyState >= 1")
    assert me.page.evaluate("document.querySelector('[data-testid=player]').duration") > 0.5
    me.shot("video")

    # Report
    me.page.get_by_label("What you found", exact=True).fill(
        "The kite's string vanishes in the last frames."
    )
    me.page.get_by_role("button", name="File report", exact=True).click()
    me.page.get_by_test_id("report-filed").wait_for()

    # Remix
    me.page.get_by_label("New prompt", exact=True).fill("a blue kite over a green hill")
    me.page.get_by_role("button", name="Remix", exact=True).click()
    me.page.wait_for_url(lambda url: not url.endswith(video_id))
    me.wait_completed()

    # Extend the first one
    me.page.goto(f"{server.url}/#/video/{video_id}")
    me.page.get_by_label("What happens next", exact=True).fill("the kite climbs higher")
    me.page.get_by_label("Seconds to add", exact=True).fill("1")
    me.page.get_by_role("button", name="Extend", exact=True).click()
    me.page.wait_for_url(lambda url: not url.endswith(video_id))
    extension_id = me.wait_completed()

    # Delete, in two presses; the video is gone from the API too
    me.page.get_by_role("button", name="Delete", exact=True).click()
    me.page.get_by_role("button", name="Press again to delete for good", exact=True).click()
    me.page.get_by_role("heading", name="Videos", exact=True).wait_for()
    gone = httpx.get(
        f"{server.url}/v1/videos/{extension_id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert gone.status_code == 404

    # The gallery of the tester's videos
    assert me.page.locator(".gallery li").count() == 2
    me.wait_true(
        "[...document.querySelectorAll('.gallery img')]"
        ".filter(i => i.complete && i.naturalWidth).length === 2"
    )
    me.shot("gallery")

    # Verify the first clip, downloaded as a tester would
    clip = tmp_path / "kite.mp4"
    clip.write_bytes(
        httpx.get(
            f"{server.url}/v1/videos/{video_id}/content",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ).content
    )
    me.page.get_by_role("link", name="Verify", exact=True).click()
    me.page.get_by_label("Clip or image", exact=True).set_input_files(str(clip))
    me.page.get_by_role("button", name="Verify", exact=True).click()
    me.page.get_by_role("heading", name="Made by OpenReel", exact=True).wait_for()
    assert video_id in me.page.get_by_test_id("verdict-summary").text_content()
    me.shot("verify")
    assert me.errors == []


def test_access_is_requested_approved_and_redeemed(tab, server):
    newcomer = tab()
    newcomer.page.get_by_role("link", name="Request access", exact=True).first.click()
    newcomer.page.get_by_label("Name", exact=True).fill("Grace <b>Hopper</b>")
    newcomer.page.get_by_label("Email", exact=True).fill("grace@example.com")
    newcomer.page.get_by_label("Role you ask for", exact=True).select_option("filmmaker")
    newcomer.page.get_by_label("Why you want to test OpenReel", exact=True).fill(
        "Short films about compilers."
    )
    newcomer.shot("request-access")
    newcomer.page.get_by_role("button", name="Send request", exact=True).click()
    newcomer.page.get_by_text("an operator will send you an invitation code").wait_for()

    operator = tab()
    operator.sign_in(make_key(server.data_dir, "boss", "operator"))
    operator.page.get_by_role("link", name="Operator", exact=True).click()
    operator.page.get_by_role("heading", name="Access requests", exact=True).wait_for()
    assert operator.page.get_by_text("Grace <b>Hopper</b>", exact=True).count() == 1  # as typed
    operator.shot("operator")
    operator.page.get_by_role("button", name="Approve Grace <b>Hopper</b>", exact=True).click()
    code = operator.page.get_by_test_id("invitation-code").text_content()

    newcomer.page.goto(server.url + "/#/signin")
    newcomer.page.get_by_label("Invitation code", exact=True).fill(code)
    newcomer.page.get_by_label("User name (one word)", exact=True).fill("grace")
    newcomer.page.get_by_role("button", name="Redeem and sign in", exact=True).click()
    assert newcomer.page.get_by_test_id("new-key").text_content().startswith("ork_")
    assert newcomer.page.get_by_text("grace (filmmaker)").count() == 1
    assert newcomer.errors == [] and operator.errors == []


def test_usable_at_phone_width_and_by_keyboard(tab, server):
    phone = tab(width=390, height=844)
    phone.sign_in(make_key(server.data_dir, "walker", "artist"))
    assert phone.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.shot("phone")
    # every form field has a label; the page moves focus to the content on each screen
    unlabelled = phone.page.evaluate(
        "[...document.querySelectorAll('main input, main select, main textarea')]"
        ".filter(e => !e.labels || !e.labels.length).length"
    )
    assert unlabelled == 0
    assert phone.page.evaluate("document.activeElement.id") == "main"
    phone.page.keyboard.press("Tab")
    assert phone.page.evaluate("document.activeElement.tagName") in (
        "TEXTAREA",
        "A",
        "INPUT",
        "SELECT",
        "BUTTON",
    )


def test_the_page_is_served_with_a_strict_policy(server):
    answer = httpx.get(server.url + "/")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert httpx.get(server.url + "/ui").headers.get("location") == "/"
    assert 'src="/static/app.js"' in answer.text and "<script>" not in answer.text
