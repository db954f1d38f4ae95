"""The baked project's own page works in a real browser, through a server restart.

tests/test_live.py proves the protocol with a scripted client; this stage proves that
the page the project serves, run by Chromium (tests/support/browser.py), does what its
protocol reference ("The browser client") promises. On each combination of the covering
set, two users in two browser contexts of their own, on the live deployment, through
nginx over HTTPS:

- alice and bob sign in as their auth option says (``session``: Django's login page,
  reached by the redirect from the room; ``token``: the sign-in form on the room page)
  and open the same fresh room; both pages show "connected" and both users as members;
- while alice types, bob's page says she is typing; her message, then bob's reply, each
  show exactly once on both pages, with sender and text (the ``<b>`` shows as text);
- every server stops (SIGTERM, as a deploy does); both pages notice; alice sends a
  message while the site is down and her page shows it as pending;
- the servers start again and both pages reconnect on their own, within the client's
  longest backoff; the message sent while down shows exactly once on both pages, both
  users are listed again, and a fresh connection's history holds every message exactly
  once, with the ids the pages show; a reload shows the same with nothing left to send;
- no page has an uncaught exception, and the console's only errors are the failed
  handshakes of the pages' own reconnects while the servers were down.

The deployment is shared with the other live tests of the combination: every stopped
server is started again, whatever happens.
"""

import time

import pytest

from tests.support.browser import (
    FRAME_TIMEOUT,
    OUTAGE_NOTICED_TIMEOUT,
    PHONE,
    RECONNECT_SLACK,
    Screenshots,
    backoff_cap,
    browser_tabs,
    expect,
    now_ms,
    seconds,
    stored_messages,
)
from tests.support.options import COMBINATION_IDS
from tests.support.websocket import room_name

# What the users say, typed key by key. The markup must show as text.
FIRST = "Hi Bob, <b>bold</b> & żółw 🐢"
REPLY = "Hello Alice!"
WHILE_DOWN = "Sent while the site was down"
USERS = ["alice", "bob"]
RAPID = 40  # messages typed as fast as Playwright types: twice the server's burst
# How long the room list may take to show a change: its refresh interval, and some.
ROOM_LIST_TIMEOUT = 15_000

pytestmark = pytest.mark.stage("browser")


@pytest.fixture
def screenshots(live, tmp_path, request):
    published = request.config.getoption("screenshots")
    return Screenshots(tmp_path / "screenshots", live.id, COMBINATION_IDS[0], published)


def two_users_in_one_room(live, room, tabs):
    for tab in tabs:
        tab.sign_in(live, room)
    for tab in tabs:
        tab.expect_members(USERS)


def typing_then_a_message_and_a_reply(alice, bob):
    """Each is shown once, on both pages; returns what was said, [(user, text)]."""
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
    return said


def every_server_stops(live, tabs, observed):
    """As in a deploy; both pages notice. Returns when every server was down (ms)."""
    started = time.monotonic()
    for index in range(len(live.servers)):
        live.servers.stop(index)
    observed["stop_s"] = round(time.monotonic() - started, 2)
    all_down = now_ms()
    for tab in tabs:
        expect(tab.locator("#status")).to_have_attribute(
            "data-state", "reconnecting", timeout=OUTAGE_NOTICED_TIMEOUT
        )
    return all_down


def a_message_sent_while_down_is_pending(alice, said):
    alice.type(WHILE_DOWN)
    alice.send()
    expect(alice.locator("#pending li .text")).to_have_text([WHILE_DOWN], timeout=FRAME_TIMEOUT)
    expect(alice.locator("#messages li.message")).to_have_count(len(said), timeout=FRAME_TIMEOUT)


def servers_come_back_and_pages_reconnect(live, tabs, said):
    """Returns when the last server answered /healthz again (ms since the epoch)."""
    for index in range(len(live.servers)):
        live.servers.restart(index)
    back = now_ms()
    for tab in tabs:
        tab.expect_connected(backoff_cap(live) + RECONNECT_SLACK)
    for tab in tabs:
        tab.expect_conversation(said)
        tab.expect_members(USERS)
    return back


def each_message_is_stored_and_shown_once(live, room, tabs, said):
    """The site is back for everyone, not only for the pages' sockets: a request and a
    new WebSocket through nginx get through. Returns the messages as the pages show
    them, with their stored ids."""
    health = live.http("GET", "/healthz")
    assert health.status == 200, f"GET /healthz through nginx, servers back: {health!r}"
    stored = stored_messages(live, room, USERS)
    assert [(m["user"], m["text"]) for m in stored] == said, stored
    shown = [{"id": m["id"], "user": m["user"], "text": m["text"]} for m in stored]
    for tab in tabs:
        assert tab.messages() == shown
    return shown


def a_reload_finds_nothing_left_to_send(alice, room, said, shown):
    alice.reload()
    alice.expect_connected(FRAME_TIMEOUT)
    alice.expect_conversation(said)
    assert alice.messages() == shown
    key = f"chat.pending.alice.{room}"
    assert alice.page.evaluate("key => sessionStorage.getItem(key)", key) is None


def outage_as_each_page_saw_it(tab, outage_started, all_down, back, observed):
    """Timings by the page's own clock; returns when the page reconnected."""
    tab.keep_status_changes()
    noticed = tab.first_change("reconnecting", outage_started)
    reconnected = tab.first_change("connected", all_down)
    observed[tab.user] = {
        "noticed_s": seconds(noticed - outage_started),
        "offline_s": seconds(reconnected - noticed),  # "reconnecting" to "connected"
        # Negative when the page found the first server back before the last.
        "reconnected_after_all_back_s": seconds(reconnected - back),
        "reconnect_attempts": sum("?since=" in url for url in tab.sockets),
    }
    return reconnected


def test_two_users_chat_in_the_browser_through_a_restart(chromium, live, screenshots):
    room, observed = room_name("browser"), {}
    with live.reporting(), browser_tabs(live, chromium, *USERS) as tabs:
        alice, bob = tabs
        try:
            two_users_in_one_room(live, room, tabs)
            said = typing_then_a_message_and_a_reply(alice, bob)
            screenshots.take(alice, "room")
            for tab in tabs:  # no outage yet: no console error is tolerated
                assert tab.unexpected_errors(live, room, (0, 0)) == ([], 0)
            outage_started = now_ms()
            all_down = every_server_stops(live, tabs, observed)
            a_message_sent_while_down_is_pending(alice, said)
            said.append(("alice", WHILE_DOWN))
            back = servers_come_back_and_pages_reconnect(live, tabs, said)
            shown = each_message_is_stored_and_shown_once(live, room, tabs, said)
            reconnected = {
                tab.user: outage_as_each_page_saw_it(tab, outage_started, all_down, back, observed)
                for tab in tabs
            }
            a_reload_finds_nothing_left_to_send(alice, room, said, shown)
            assert bob.messages() == shown
        finally:
            live.servers.restart_stopped()
        unexpected = []
        for tab in tabs:
            errors, tolerated = tab.unexpected_errors(
                live, room, (outage_started, reconnected[tab.user])
            )
            unexpected += errors
            observed[tab.user]["failed_handshakes_logged"] = tolerated
        live.record("browser", observed)
        assert not unexpected, "\n".join(unexpected)


def test_the_room_list_shows_who_is_in_each_room(chromium, live, screenshots):
    """bob's room list shows the room alice is in, with her in it; once she leaves, the
    list says so by itself (it keeps current), and her message is its last activity."""
    room = room_name("list")
    with live.reporting(), browser_tabs(live, chromium, *USERS) as (alice, bob):
        alice.sign_in(live, room)
        alice.type("Anyone here?")
        alice.send()
        alice.expect_conversation([("alice", "Anyone here?")])
        bob.sign_in(live)
        entry = bob.locator(f'#rooms li[data-room="{room}"]')
        expect(entry.locator(".count")).to_have_text("1 here", timeout=ROOM_LIST_TIMEOUT)
        expect(entry.locator(".activity")).to_have_text("active just now")
        screenshots.take(bob, "room-list")
        alice.page.close()
        expect(entry.locator(".count")).to_have_text("nobody here", timeout=ROOM_LIST_TIMEOUT)


def test_messages_typed_fast_arrive_once_each_without_tripping_the_limit(chromium, live):
    """40 messages, typed and sent as fast as Playwright can, twice the server's burst:
    the page paces them below the rate limit, so every one arrives exactly once, in
    order, on one connection that is never closed (no 4008) and never reconnects."""
    room = room_name("rapid")
    texts = [f"rapid {number}" for number in range(1, RAPID + 1)]
    with live.reporting(), browser_tabs(live, chromium, "alice") as (alice,):
        alice.sign_in(live, room)
        started = now_ms()
        for text in texts:
            alice.type(text)
            alice.send()
        alice.expect_conversation([("alice", text) for text in texts])
        stored = stored_messages(live, room, ["alice"])
        assert [m["text"] for m in stored] == texts
        alice.keep_status_changes()
        assert [state for _, state in alice.status_changes] == [], alice.status_changes
        assert len(alice.sockets) == 1, alice.sockets
        assert alice.unexpected_errors(live, room, (0, 0)) == ([], 0)
        live.record("rapid", {"messages": RAPID, "all_shown_s": seconds(now_ms() - started)})


def test_the_pages_on_a_phone_and_in_the_dark(chromium, live, screenshots):
    """The narrow layout and the dark theme: signed in, the room and its members show,
    and the composer works."""
    room, said = room_name("looks"), []
    for name, options in (("phone", PHONE), ("dark", {"color_scheme": "dark"})):
        with live.reporting(), browser_tabs(live, chromium, "alice", **options) as (alice,):
            if name == "phone":
                alice.page.goto(f"/chat/{room}/")
                screenshots.take(alice, "sign-in")
            alice.sign_in(live, room)
            alice.type(f"Hello from the {name}")
            alice.send()
            said.append(("alice", f"Hello from the {name}"))
            alice.expect_conversation(said)
            alice.expect_members(["alice"])
            screenshots.take(alice, name)
