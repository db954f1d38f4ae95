"""A real browser on a live deployment: Debian's Chromium, driven by Playwright.

Playwright's own browser download is never used. :class:`Tab` is one user's page in a
browser context of its own, with what it reported (console errors, sockets, frames,
changes of its connection status) kept for a failure report.
"""

import asyncio
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.websocket import join

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # reported by the ``chromium`` fixture, as a failure
    PLAYWRIGHT_IMPORT_ERROR = error
    PlaywrightError = expect = sync_playwright = None
else:
    PLAYWRIGHT_IMPORT_ERROR = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "The browser stage drives Debian's Chromium with Playwright (Playwright's own "
    "browser download is not used). Install both: `apt-get install chromium` and "
    "`pip install playwright==1.65.2`, or run `make test`."
)

# Bounds, not delays, in milliseconds as Playwright counts.
PAGE_TIMEOUT = 30_000  # a navigation, a sign-in (a login hashes a password), any action
FRAME_TIMEOUT = 15_000  # what the server sent to show on a page
OUTAGE_NOTICED_TIMEOUT = 15_000  # a page to notice that its server is gone
# A page waits a random time below a ceiling that doubles with each failed attempt, up
# to chat.js's BACKOFF_CAP_MS (read from the deployed file): whenever the servers come
# back, the attempt a page waits for is at most that far away. On top: the handshake,
# and with nginx's default max_fails, up to its fail_timeout (10 s) when it has marked
# every upstream server failed.
RECONNECT_SLACK = 15_000

# The one console error the stage tolerates: the failed handshake (nginx answers 502
# while the servers are down) of a reconnect (?since=) to the page's own room, during
# that page's outage.
SOCKET_FAILED = (
    "WebSocket connection to 'wss://localhost:{port}/ws/chat/{room}/"
    r"\?since=\d+(&token=[0-9a-f]+)?' failed: "
)

# The #messages items as plain data: one {id, user, text} per item, in page order.
MESSAGES = """items => items.map(item => ({
    id: Number(item.dataset.id),
    user: item.querySelector(".user").textContent,
    text: item.querySelector(".text").textContent,
}))"""

# Keep every change of #status's state with the page's clock (ms since the epoch, as
# console messages are stamped), so that timings do not depend on when Python looks.
WATCH_STATUS = """() => {
    const status = document.getElementById("status");
    window.statusChanges = [];
    new MutationObserver(() => {
        window.statusChanges.push([Date.now(), status.dataset.state]);
    }).observe(status, { attributes: true, attributeFilter: ["data-state"] });
}"""


@pytest.fixture
def chromium():
    """The browser's path. Fails (never skips) when the stage cannot run here; asked
    for before ``live``, so that a missing browser does not wait for a deployment."""
    missing = []
    if PLAYWRIGHT_IMPORT_ERROR is not None:
        missing.append(f"the playwright package ({PLAYWRIGHT_IMPORT_ERROR})")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(str(CHROMIUM))
    if missing:
        pytest.fail(f"missing: {', '.join(missing)}. {INSTALL_HINT}", pytrace=False)
    return str(CHROMIUM)


def now_ms():
    """The wall clock in ms since the epoch, as the pages' Date.now()."""
    return time.time() * 1000


def seconds(ms):
    return round(ms / 1000, 2)


def backoff_cap(live):
    """chat.js's BACKOFF_CAP_MS, from the deployed project's own file."""
    (script,) = live.project.path.glob("*/chat/static/chat/chat.js")
    found = re.search(r"\bconst BACKOFF_CAP_MS = (\d+);", script.read_text())
    assert found, f"{script} no longer sets BACKOFF_CAP_MS"
    return int(found.group(1))


class Tab:
    """One user's page, in a browser context of its own, and what it reported."""

    def __init__(self, context, user):
        context.set_default_timeout(PAGE_TIMEOUT)
        self.user = user
        self.page = context.new_page()
        self.page_errors = []  # uncaught exceptions: none is tolerated
        self.console_errors = []  # (ms since the epoch, text, URL of the source)
        self.sockets = []  # the URL of every WebSocket the page opened
        self.frames = []  # (socket number, payload) of every welcome and presence
        self.status_changes = []  # [(ms since the epoch, state)], kept by the page
        self.watching = False  # the page keeps window.statusChanges
        self.page.on("pageerror", lambda error: self.page_errors.append(error))
        self.page.on("console", self.on_console)
        self.page.on("websocket", self.on_socket)

    def on_console(self, message):
        if message.type == "error":
            where = message.location["url"]
            self.console_errors.append((message.timestamp, message.text, where))

    def on_socket(self, socket):
        self.sockets.append(socket.url)
        number = len(self.sockets)

        def received(payload):
            if '"type":"welcome"' in payload or '"type":"presence"' in payload:
                self.frames.append((number, payload))

        socket.on("framereceived", received)

    def locator(self, selector):
        return self.page.locator(selector)

    def sign_in(self, live, room=None):
        """Open the room (the room list without one) as ``self.user``, signing in the
        way the auth option says; return once the page is connected (shows its rooms)."""
        path = f"/chat/{room}/" if room else "/"
        self.page.goto(path)
        if live.auth == "session":
            # The room needs a signed-in user: Django's login page, then back.
            expect(self.page).to_have_url(
                re.compile(r"/accounts/login/\?next="), timeout=PAGE_TIMEOUT
            )
            self.locator("#id_username").fill(self.user)
            self.locator("#id_password").fill(live.password)
            self.locator("form button[type=submit]").click()
            expect(self.page).to_have_url(f"{live.proxy.origin}{path}", timeout=PAGE_TIMEOUT)
        else:
            # The room page is public; its own form gets a token.
            form = self.locator("#sign-in-form")
            expect(form).to_be_visible(timeout=PAGE_TIMEOUT)
            form.locator("#username").fill(self.user)
            form.locator("#password").fill(live.password)
            form.locator("button[type=submit]").click()
            expect(form).to_be_hidden(timeout=PAGE_TIMEOUT)
        expect(self.locator("#signed-in")).to_contain_text(self.user, timeout=FRAME_TIMEOUT)
        if room is None:
            expect(self.locator("#lobby")).to_have_attribute("data-loaded", "true")
            return
        self.expect_connected(FRAME_TIMEOUT)
        self.page.evaluate(WATCH_STATUS)
        self.watching = True

    def expect_connected(self, timeout):
        expect(self.locator("#status")).to_have_attribute(
            "data-state", "connected", timeout=timeout
        )

    def expect_members(self, members):
        expect(self.locator("#members li")).to_have_text(members, timeout=FRAME_TIMEOUT)

    def type(self, text):
        """Type ``text`` key by key, as a user does."""
        self.locator("#message-input").press_sequentially(text)

    def send(self):
        self.locator("#message-input").press("Enter")

    def expect_conversation(self, said):
        """#messages shows exactly ``said``, [(user, text)], in order; none pending."""
        items = self.locator("#messages li.message")
        users = [user for user, _ in said]
        texts = [text for _, text in said]
        expect(items.locator(".user")).to_have_text(users, timeout=FRAME_TIMEOUT)
        expect(items.locator(".text")).to_have_text(texts, timeout=FRAME_TIMEOUT)
        expect(self.locator("#pending li")).to_have_count(0, timeout=FRAME_TIMEOUT)

    def messages(self):
        """The messages the page shows now: [{id, user, text}]."""
        return self.locator("#messages li.message").evaluate_all(MESSAGES)

    def keep_status_changes(self):
        """Copy the page's record of #status changes."""
        if self.watching:
            changes = self.page.evaluate("window.statusChanges")
            self.status_changes = [tuple(change) for change in changes]

    def reload(self):
        """Reload the page, keeping what it recorded so far (a reload forgets it)."""
        self.keep_status_changes()
        self.watching = False
        self.page.reload()

    def first_change(self, state, after):
        """When #status first became ``state`` after ``after`` (ms since the epoch)."""
        times = [at for at, seen in self.status_changes if seen == state and at >= after]
        assert times, f"{self.user}: #status never became {state!r}"
        return times[0]

    def unexpected_errors(self, live, room, outage):
        """Uncaught exceptions, and the console errors not tolerated (see
        SOCKET_FAILED), with ``outage`` this page's (start, end) in ms since the epoch.
        Returns (the unexpected ones, how many failed handshakes were tolerated)."""
        reconnect = re.compile(
            SOCKET_FAILED.format(port=live.proxy.https_port, room=re.escape(room))
        )
        start, end = outage
        unexpected = [f"{self.user}: uncaught {error!r}" for error in self.page_errors]
        tolerated = 0
        for at, text, _ in self.console_errors:
            if reconnect.match(text) and start <= at <= end:
                tolerated += 1
            else:
                unexpected.append(f"{self.user}: console error at {at:.0f}: {text}")
        return unexpected, tolerated

    def report(self):
        """What the page saw, for a failure report; tokens left out."""
        lines = [f"--- {self.user} ---"]
        try:
            self.keep_status_changes()
        except PlaywrightError as error:  # a crashed page, say: report the rest
            lines.append(f"#status changes since the last look: unreadable, {error}")
        lines.append(f"#status changes: {self.status_changes}")
        lines += [f"socket {n}: {url}" for n, url in enumerate(self.sockets, 1)]
        lines += [f"socket {n} received {payload}" for n, payload in self.frames]
        lines += [f"console error at {at:.0f}: {text}" for at, text, _ in self.console_errors]
        lines += [f"uncaught {error!r}" for error in self.page_errors]
        return re.sub(r"token=[0-9a-f]+", "token=...", "\n".join(lines))


# A phone's screen, for the narrow layout.
PHONE = {"viewport": {"width": 390, "height": 760}, "device_scale_factor": 2, "is_mobile": True}


@contextmanager
def browser_tabs(live, chromium, *users, **options):
    """One :class:`Tab` per user, each in a browser context of its own, on the live
    deployment's origin, with Playwright's context ``options`` (``color_scheme``, a
    viewport, ...); on failure the report gets a "browser" section."""
    with (
        sync_playwright() as playwright,
        playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        ) as browser,
    ):
        contexts = [
            browser.new_context(base_url=live.proxy.origin, ignore_https_errors=True, **options)
            for _ in users
        ]
        tabs = [Tab(context, user) for context, user in zip(contexts, users, strict=True)]
        try:
            yield tabs
        except BaseException:
            live.node.add_report_section("call", "browser", "\n".join(t.report() for t in tabs))
            raise
        finally:
            for context in contexts:
                context.close()


class Screenshots:
    """Pictures of the pages, into the test's folder; for the default combination also
    into ``published`` when given (``make screenshots`` passes the documentation's
    images folder, ``--screenshots docs/images``)."""

    def __init__(self, folder, combination_id, default_id, published=None):
        self.folders = [folder]
        if published and combination_id == default_id:
            self.folders.append(Path(published))

    def take(self, tab, name):
        for folder in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            tab.page.screenshot(path=folder / f"{name}.png")


def stored_messages(live, room, members):
    """The room's history as a fresh WebSocket connection of alice's gets it, through
    nginx, with ``members`` in the room.

    Runs in a thread of its own: Playwright's sync API marks its event loop as running
    in this one, so ``asyncio.run`` (and ``live.run``) cannot run here.
    """

    async def read():
        async with live.websocket(f"/ws/chat/{room}/", user="alice") as ws:
            history = await join(ws, room, "alice", members)
        assert history["truncated"] is False, history
        return history["messages"]

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()
