"""Browser tests: Debian's headless Chromium (never a downloaded browser), driven by
Playwright, against a live `daphne` subprocess with its own SQLite database, media folder
and embedded engine worker (Piper only, so cloned voices wait as `pending_engine`).

Every test gets a fresh page; a screenshot of each page visited is saved under
`artifacts/screenshots/`, and one more when a test fails. The microphone is Chromium's
fake capture device playing a sentence spoken by Piper, so a recording holds speech."""

from __future__ import annotations

import json
import re
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.live import ROOT, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "correct-horse-battery-42"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About five seconds of real speech from Piper: an upload, and the fake microphone."""
    from speech.audio import encode
    from speech.engines.piper_engine import PiperEngine

    engine = PiperEngine()
    engine.load()
    pcm = engine.synthesize_all(
        "This is my voice, recorded for cloning. I read a few calm sentences, so that the model can hear me.",
        language="en",
    )
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    path.write_bytes(encode(pcm, engine.sample_rate, "wav"))
    return path


@pytest.fixture(scope="session")
def speaker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live")
    env = {"RATE_LIMIT_REQUESTS": "1000", "QUOTA_MAX_ACTIVE_JOBS": "50", "PYTHONFAULTHANDLER": "1"}
    # The package's users sign up once, at its start; their keys are made much later. The
    # re-authentication before a new key is tested in tests/accounts/test_reauthentication.py.
    env["REAUTHENTICATION_SECONDS"] = "86400"
    # An XTTS mirror nobody answers (the discard port): what the Engines page shows when an
    # install cannot download; the checkpoint folder is the test's, never the repository's.
    manifest = workdir / "xtts-mirror.manifest.json"
    files = ("config.json", "model.pth", "speakers_xtts.pth", "vocab.json")
    manifest.write_text(json.dumps({"files": [{"name": name, "size": 4, "sha256": "0" * 64} for name in files]}))
    env.update(
        {
            "XTTS_MODEL_URL": "http://127.0.0.1:9/xtts/",
            "XTTS_MODEL_MANIFEST": str(manifest),
            "XTTS_MODEL_DIR": str(workdir / "xtts_v2"),
        }
    )
    server = LiveServer(workdir=workdir, extra_env=env)
    server.start()
    yield server
    server.stop()


# Package scope: the cloning and blending tests share it (one tiny checkpoint, one worker).
@pytest.fixture(scope="package")
def xtts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    pytest.importorskip("TTS", reason="coqui-tts is not installed")
    from tests.tiny_xtts import build_tiny_xtts

    checkpoint = build_tiny_xtts(tmp_path_factory.mktemp("tiny-xtts"))
    server = LiveServer(
        workdir=tmp_path_factory.mktemp("live-xtts"),
        extra_env={
            "TTS_ENGINES": "piper,xtts",
            "XTTS_MODEL_DIR": str(checkpoint),
            "XTTS_DEVICE": "cpu",
            "RATE_LIMIT_REQUESTS": "1000",
            "PYTHONFAULTHANDLER": "1",
        },
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def xtts_page(browser: Any, xtts_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=xtts_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    yield page
    if request.node.stash.get(FAILED, False):
        shoot(page, f"FAILED-{request.node.name}")
        # A hang is easier to read with every thread's stack (faulthandler, in daphne.log).
        xtts_server.processes[0].send_signal(signal.SIGABRT)
        time.sleep(2)
    context.close()
    assert not problems, problems


# Package scope, not session: Playwright's sync API keeps an event loop running in the
# main thread while it lives, and asyncio tests in other folders cannot start under it.
@pytest.fixture(scope="package")
def browser(speech_wav: Path) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (make browser-deps, or apt-get install chromium chromium-driver)"
        )
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={speech_wav}"],
    )
    yield browser
    browser.close()
    playwright.stop()


@dataclass
class Session:
    """A browser context signed in as one user, with helpers for the tests."""

    server: LiveServer
    context: Any
    username: str
    problems: list[str] = field(default_factory=list)
    shots: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def new_page(self) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

        def on_console(message: Any) -> None:
            if message.type == "error" and "Content Security Policy" in message.text:
                self.problems.append(f"CSP: {message.text}")

        def on_response(response: Any) -> None:
            if response.status >= 500:
                self.problems.append(f"server error {response.status} on {response.request.method} {response.url}")

        page.on("console", on_console)
        page.on("response", on_response)
        return page

    def api(self, page: Any, method: str, path: str, **kwargs: Any) -> Any:
        """Call the JSON API as the page's signed-in user (session cookie + CSRF)."""
        cookies = {c["name"]: c["value"] for c in self.context.cookies()}
        headers = {"X-CSRFToken": cookies.get("csrftoken", ""), **kwargs.pop("headers", {})}
        return page.request.fetch(f"{self.url}{path}", method=method, headers=headers, **kwargs)

    def make_job(self, page: Any, text: str, *, wait: bool = True, **body: Any) -> dict[str, Any]:
        """Queue a job with the built-in voice through the API; wait for it to finish."""
        response = self.api(page, "POST", "/api/v1/synthesis", data={"text": text, "voice": "joe", **body})
        assert response.status == 202, response.text()
        job = response.json()
        deadline = time.monotonic() + 60
        while wait and job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = self.api(page, "GET", f"/api/v1/synthesis/{job['id']}").json()
        return job


def shoot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar would land mid-page
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_up(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email address").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base_url}/")


def signed_up_state(browser: Any, server: LiveServer, prefix: str, *, staff: bool = False) -> dict[str, Any]:
    """A user signed up through the real form (then made staff when `staff`): the browser
    state to start signed-in contexts from, and the username."""
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    username = f"{prefix}{uuid.uuid4().hex[:6]}"
    sign_up(page, server.url, username)
    if staff:
        server._query("UPDATE accounts_user SET is_staff = 1 WHERE username = ?", [username])
    state = context.storage_state()
    context.close()
    return {"state": state, "username": username}


def shoot_on_failure(context: Any, request: pytest.FixtureRequest) -> None:
    """Screenshots of every page of a failed test's context, then the context closed."""
    if request.node.stash.get(FAILED, False):
        for index, page in enumerate(context.pages):
            try:
                shoot(page, f"FAILED-{request.node.name}-{index}")
            except Exception:  # a crashed page must not hide the test's own failure
                pass
    context.close()


@pytest.fixture(scope="package")
def signed_in_state(
    browser: Any, speaker_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One user for most tests, signed up once through the real form."""
    return signed_up_state(browser, speaker_server, "tester")


@pytest.fixture
def session(
    browser: Any, speaker_server: LiveServer, signed_in_state: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Session]:
    context = browser.new_context(
        base_url=speaker_server.url,
        storage_state=signed_in_state["state"],
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
        timezone_id="UTC",
    )
    context.grant_permissions(["microphone", "clipboard-read", "clipboard-write"], origin=speaker_server.url)
    current = Session(speaker_server, context, signed_in_state["username"])
    yield current
    shoot_on_failure(context, request)
    assert not current.problems, "\n".join(current.problems)


@pytest.fixture
def new_visitor(browser: Any, speaker_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh, signed-out browser context."""
    context = browser.new_context(base_url=speaker_server.url, viewport={"width": 1280, "height": 900})
    yield context
    shoot_on_failure(context, request)


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    return shoot


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts() -> None:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="package")
def staff_state(browser: Any, speaker_server: LiveServer) -> dict[str, Any]:
    """A staff member (an operator), signed up through the real form, then made staff."""
    return signed_up_state(browser, speaker_server, "operator", staff=True)


@pytest.fixture
def staff_session(
    browser: Any, speaker_server: LiveServer, staff_state: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Session]:
    context = browser.new_context(
        base_url=speaker_server.url, storage_state=staff_state["state"], viewport={"width": 1280, "height": 900}
    )
    current = Session(speaker_server, context, staff_state["username"])
    yield current
    shoot_on_failure(context, request)
    assert not current.problems, "\n".join(current.problems)


def clone_voice(session: Session, page: Any, wav: Path, name: str) -> dict[str, Any]:
    """A cloned voice made through the API (it waits as pending_engine: no XTTS here)."""
    response = session.api(
        page,
        "POST",
        "/api/v1/voices",
        multipart={
            "name": name,
            "language": "en",
            "consent": "true",
            "samples": {"name": "speech.wav", "mimeType": "audio/wav", "buffer": wav.read_bytes()},
        },
    )
    assert response.status == 201, response.text()
    return response.json()
