"""The baked project's own page works in a real browser, through a server restart.

tests/test_live.py proves the protocol with a scripted client; this stage proves that
the page the project serves, run by Chromium, does what its protocol reference ("The
browser client") promises. For each combination of ``COVERING`` (every auth option with
every server, both channel layers) one Chromium, driven by Playwright, opens two browser
contexts (two separate users) on the live deployment, through nginx over HTTPS:

- alice and bob each sign in as their auth option says (``session``: Django's login
  page, reached by the redirect from the room; ``token``: the sign-in form on the room
  page) and open the same fresh room at ``/chat/<room>/``;
- both pages show "connected" and both users in the members list;
- while alice types, bob's page says she is typing; her message, then bob's reply, each
  show exactly once on both pages, with sender and text (the ``<b>`` in the text shows
  as text);
- every server is stopped (SIGTERM, as a deploy does). Both pages notice; alice sends a
  message while the site is down and her page shows it as pending. The servers start
  again, and both pages reconnect on their own, within the client's longest backoff.
  The message sent while down shows exactly once on both pages, nothing stays pending,
  both users are listed again, the site answers new requests and sockets through nginx,
  and a fresh connection's history holds every message exactly once, with the ids the
  pages show. A reload of alice's page shows the same and has nothing left to send;
- neither page has an uncaught exception, and the console's only errors are the failed
  handshakes of the pages' own reconnects while the servers were down.

The deployment is shared with the other live tests of the combination: every stopped
server is started again, whatever happens. On failure the report has a "browser"
section: what each page saw (status changes, sockets, welcome and presence frames,
console errors).
"""

import asyncio
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.options import COVERING
from tests.test_live import join, room_name

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # reported by the ``chromium`` fixture, as a failure
    PLAYWRIGHT_IMPORT_ERROR = error
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

# What the users say, typed key by key. The markup must show as text.
FIRST = "Hi Bob, <b>bold</b> & żółw 🐢"
REPLY = "Hello Alice!"
WHILE_DOWN = "Sent while the site was down"

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
    (script,) = live.project.glob("*/chat/static/chat/chat.js")
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

    def sign_in(self, live, room):
        """Open the room as ``self.user``, signing in the way the auth option says;
        return once the page is connected."""
        path = f"/chat/{room}/"
        self.page.goto(path)
        if live.auth == "session":
            # The room needs a signed-in user: Django's login page, then back.
            expect(self.page).to_have_url(
                re.compile(r"/accounts/login/\?next="), timeout=PAGE_TIMEOUT
            )
            self.locator("#id_username").fill(self.user)
            self.locator("#id_password").fill(live.password)
            self.locator("form button[type=submit]").click()
            expect(self.page).to_have_url(f"{live.origin}{path}", timeout=PAGE_TIMEOUT)
        else:
            # The room page is public; its own form gets a token.
            form = self.locator("#sign-in-form")
            expect(form).to_be_visible(timeout=PAGE_TIMEOUT)
            form.locator("#username").fill(self.user)
            form.locator("#password").fill(live.password)
            form.locator("button[type=submit]").click()
            expect(form).to_be_hidden(timeout=PAGE_TIMEOUT)
        expect(self.locator("#signed-in")).to_contain_text(
            self.user, timeout=FRAME_TIMEOUT
        )
        self.expect_connected(FRAME_TIMEOUT)
        self.page.evaluate(WATCH_STATUS)
        self.watching = True

    def expect_connected(self, timeout):
        expect(self.locator("#status")).to_have_text("connected", timeout=timeout)

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
        times = [
            at for at, seen in self.status_changes if seen == state and at >= after
        ]
        assert times, f"{self.user}: #status never became {state!r}"
        return times[0]

    def unexpected_errors(self, live, room, outage):
        """Uncaught exceptions, and the console errors not tolerated (see
        SOCKET_FAILED), with ``outage`` this page's (start, end) in ms since the epoch.
        Returns (the unexpected ones, how many failed handshakes were tolerated)."""
        reconnect = re.compile(
            SOCKET_FAILED.format(port=live.https_port, room=re.escape(room))
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
        lines += [
            f"console error at {at:.0f}: {text}" for at, text, _ in self.console_errors
        ]
        lines += [f"uncaught {error!r}" for error in self.page_errors]
        return re.sub(r"token=[0-9a-f]+", "token=...", "\n".join(lines))


def stored_messages(live, room):
    """The room's history as a fresh WebSocket connection of alice's gets it, through
    nginx. The pages are connected, so the members are alice and bob.

    Runs in a thread of its own: Playwright's sync API marks its event loop as running
    in this one, so ``asyncio.run`` (and ``live.run``) cannot run here.
    """

    async def read():
        async with live.websocket(f"/ws/chat/{room}/", user="alice") as ws:
            history = await join(ws, room, "alice", ["alice", "bob"])
        assert history["truncated"] is False, history
        return history["messages"]

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


@pytest.mark.stage("browser")
@pytest.mark.combinations(*COVERING)
def test_two_users_chat_in_the_browser_through_a_restart(chromium, live):
    room = room_name("browser")
    tabs = []
    with live.reporting():
        try:
            with (
                sync_playwright() as playwright,
                playwright.chromium.launch(
                    executable_path=chromium, headless=True, args=CHROMIUM_ARGS
                ) as browser,
                browser.new_context(
                    base_url=live.origin, ignore_https_errors=True
                ) as alice_context,
                browser.new_context(
                    base_url=live.origin, ignore_https_errors=True
                ) as bob_context,
            ):
                tabs += [Tab(alice_context, "alice"), Tab(bob_context, "bob")]
                try:
                    chat_through_a_restart(live, room, *tabs)
                except BaseException:
                    report = "\n".join(tab.report() for tab in tabs)
                    live.node.add_report_section("call", "browser", report)
                    raise
        finally:
            live.restart_stopped_servers()


def chat_through_a_restart(live, room, alice, bob):
    # Two users, each in a browser of their own, in one room.
    alice.sign_in(live, room)
    bob.sign_in(live, room)
    for tab in (alice, bob):
        tab.expect_members(["alice", "bob"])

    # Typing, a message, a reply: each shown once, on both pages.
    alice.type(FIRST[:5])
    expect(bob.locator("#typing")).to_contain_text("alice", timeout=FRAME_TIMEOUT)
    expect(alice.locator("#typing")).to_have_text("", timeout=FRAME_TIMEOUT)
    alice.type(FIRST[5:])
    alice.send()
    said = [("alice", FIRST)]
    for tab in (alice, bob):
        tab.expect_conversation(said)
    bob.type(REPLY)
    bob.send()
    said.append(("bob", REPLY))
    for tab in (alice, bob):
        tab.expect_conversation(said)
    for tab in (alice, bob):  # no outage yet: nothing tolerated
        assert tab.unexpected_errors(live, room, (0, 0)) == ([], 0)

    # Every server stops, as in a deploy; alice writes while the site is down. While
    # the first server stops a page may move to the next one: its outage ends with its
    # first connection after every server is down.
    outage_started = now_ms()
    started = time.monotonic()
    for index in range(len(live.servers)):
        live.stop_server(index)
    stopped = time.monotonic()
    all_down = now_ms()
    for tab in (alice, bob):
        expect(tab.locator("#status")).to_have_attribute(
            "data-state", "reconnecting", timeout=OUTAGE_NOTICED_TIMEOUT
        )
    alice.type(WHILE_DOWN)
    alice.send()
    expect(alice.locator("#pending li .text")).to_have_text(
        [WHILE_DOWN], timeout=FRAME_TIMEOUT
    )
    expect(alice.locator("#messages li.message")).to_have_count(
        len(said), timeout=FRAME_TIMEOUT
    )

    # The servers come back; the pages reconnect on their own.
    back = []  # when each server answered /healthz again, ms since the epoch
    for index in range(len(live.servers)):
        live.restart_server(index)
        back.append(now_ms())
    restarted = time.monotonic()
    reconnect_timeout = backoff_cap(live) + RECONNECT_SLACK
    for tab in (alice, bob):
        tab.expect_connected(reconnect_timeout)
    said.append(("alice", WHILE_DOWN))
    for tab in (alice, bob):
        tab.expect_conversation(said)
        tab.expect_members(["alice", "bob"])

    # The site is back for everyone, not only for the pages' sockets: a request and a
    # new WebSocket through nginx get through. Each message is stored once, and both
    # pages show it once, with its stored id.
    health = live.http("GET", "/healthz")
    assert health.status == 200, f"GET /healthz through nginx, servers back: {health!r}"
    stored = stored_messages(live, room)
    assert [(m["user"], m["text"]) for m in stored] == said, stored
    expected = [{"id": m["id"], "user": m["user"], "text": m["text"]} for m in stored]
    assert alice.messages() == expected
    assert bob.messages() == expected

    # Timings, by the pages' own clocks.
    observed = {
        "stop_s": round(stopped - started, 2),
        "down_s": round(restarted - started, 2),
        "messages_stored": len(stored),
    }
    reconnected = {}
    for tab in (alice, bob):
        tab.keep_status_changes()
        noticed = tab.first_change("reconnecting", outage_started)
        reconnected[tab.user] = tab.first_change("connected", all_down)
        observed[tab.user] = {
            "noticed_s": seconds(noticed - outage_started),
            # From "reconnecting" to "connected" again, as the user saw it.
            "offline_s": seconds(reconnected[tab.user] - noticed),
            # Negative when the page found the first server back before the last.
            "reconnected_after_all_back_s": seconds(reconnected[tab.user] - back[-1]),
            "reconnect_attempts": sum("?since=" in url for url in tab.sockets),
            "messages_shown": len(expected),
        }

    # A reload starts from a fresh history and finds nothing left to send.
    alice.reload()
    alice.expect_connected(FRAME_TIMEOUT)
    alice.expect_conversation(said)
    assert alice.messages() == expected
    assert bob.messages() == expected
    key = f"chat.pending.alice.{room}"
    pending = alice.page.evaluate("key => sessionStorage.getItem(key)", key)
    assert pending is None, pending

    # No uncaught exception; no console error but the outage's failed reconnects.
    unexpected = []
    for tab in (alice, bob):
        outage = (outage_started, reconnected[tab.user])
        errors, tolerated = tab.unexpected_errors(live, room, outage)
        unexpected += errors
        observed[tab.user]["failed_handshakes_logged"] = tolerated
    live.record("browser", observed)
    assert not unexpected, "\n".join(unexpected)
