"""The scenarios. Each one is bounded in count and in time, and returns a result: a dict
with ``figures``, ``latency_ms`` (p50/p90/p99/max) and a per-second ``series``."""

import asyncio
import json
import os
import secrets
import time
from collections import Counter
from contextlib import suppress

from websockets.exceptions import ConnectionClosed

from {{ cookiecutter.project_slug }}.loadtest.measure import Recorder, summary_ms
from {{ cookiecutter.project_slug }}.loadtest.sockets import close_all

DRAIN_TIMEOUT = 10  # seconds to wait for the last deliveries once sending has stopped
OPEN_CONCURRENCY = 50  # handshakes in flight while a scenario opens its sockets
TICK = 0.25  # seconds between two redraws of the progress line


def fresh_room(label):
    """A room of this run alone: rooms and their history outlive a run."""
    return f"load-{label}-{secrets.token_hex(3)}"


def result(scenario, description, unit, recorder, figures, trouble, **extra):
    figures = {**figures, **trouble.figures()}
    return {
        "scenario": scenario,
        "description": description,
        "unit": unit,
        "figures": figures,
        "latency_ms": summary_ms(recorder.latencies),
        "series": recorder.series(),
        **extra,
    }


class Trouble:
    """What went wrong during a run: error frames by code, sockets the server closed."""

    def __init__(self):
        self.errors = Counter()
        self.closes = Counter()

    def frame(self, frame):
        if frame.get("type") == "error":
            self.errors[frame.get("code", "?")] += 1

    def closed(self, closed):
        self.closes[closed.rcvd.code if closed.rcvd else 1006] += 1

    def figures(self):
        figures = {f"error frames {code}": count for code, count in self.errors.items()}
        figures |= {f"closed by server {code}": count for code, count in self.closes.items()}
        return figures


async def read_frames(socket, on_frame, trouble):
    """Hand every frame of ``socket`` to ``on_frame`` until the socket closes."""
    try:
        async for text in socket:
            frame = json.loads(text)
            on_frame(frame)
            trouble.frame(frame)
    except ConnectionClosed as closed:
        trouble.closed(closed)


class Room:
    """Receivers in one room and the senders that talk to them: message frames whose
    ``client_id`` the room knows the sending time of, so every delivery has a latency."""

    def __init__(self, run, name):
        self.run = run
        self.name = name
        self.receivers = []
        self.senders = []
        self.readers = []
        self.sent_at = {}
        self.deliveries = Recorder("deliveries")
        self.trouble = Trouble()
        self.windows = []
        self.expected = None  # deliveries of the current phase, once sending has stopped
        self.all_delivered = asyncio.Event()

    async def add_receivers(self, count):
        sockets = await self.run.open_many(
            count,
            lambda _: self.run.join(self.name),
            concurrency=OPEN_CONCURRENCY,
            label="receivers",
        )
        for socket in sockets:
            self.readers.append(
                asyncio.create_task(read_frames(socket, self.delivered, self.trouble))
            )
        self.receivers += sockets

    async def add_senders(self, count, window):
        sockets = await self.run.open_many(
            count, lambda _: self.run.join(self.name), concurrency=OPEN_CONCURRENCY, label="senders"
        )
        for socket in sockets:
            self.windows.append(asyncio.Semaphore(window))
            acknowledge = self.acknowledger(self.windows[-1])
            self.readers.append(asyncio.create_task(read_frames(socket, acknowledge, self.trouble)))
        self.senders += sockets

    def delivered(self, frame):
        if frame.get("type") == "message" and (sent := self.sent_at.get(frame.get("client_id"))):
            self.deliveries.add(time.perf_counter() - sent)
            if self.expected is not None and self.deliveries.count >= self.expected:
                self.all_delivered.set()

    def acknowledger(self, window):
        """A sender's own message coming back through the room frees a place in its window."""

        def acknowledge(frame):
            if frame.get("type") == "message" and frame.get("client_id") in self.sent_at:
                window.release()

        return acknowledge

    async def talk(self, *, messages, duration, rate=None, label="fan-out"):
        """Send up to ``messages`` in all for at most ``duration`` seconds: at ``rate``
        messages per second in all, or else as fast as each sender's window allows.
        Returns the deliveries of this phase, once all arrived or DRAIN_TIMEOUT passed."""
        self.deliveries = Recorder("deliveries")
        self.expected = None
        self.all_delivered.clear()
        prefix = secrets.token_hex(3)
        started = time.perf_counter()
        deadline = started + duration
        sent = 0
        stalled = False

        async def sender(index, socket, window):
            nonlocal sent, stalled
            share = messages // len(self.senders) + (index < messages % len(self.senders))
            for number in range(share):
                if rate:
                    due = started + (number * len(self.senders) + index) / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                else:
                    try:
                        await asyncio.wait_for(window.acquire(), DRAIN_TIMEOUT)
                    except TimeoutError:
                        stalled = True
                        return
                if time.perf_counter() > deadline:
                    return
                client_id = f"{prefix}-{index}-{number}"
                self.sent_at[client_id] = time.perf_counter()
                await socket.send(
                    json.dumps({"type": "message", "text": client_id, "client_id": client_id})
                )
                sent += 1

        async def show_progress():
            while True:
                elapsed = time.perf_counter() - started
                rate_now = self.deliveries.count / elapsed if elapsed else 0
                self.run.progress.show(label, sent, messages, rate_now, "deliveries")
                await asyncio.sleep(TICK)

        ticker = asyncio.create_task(show_progress())
        try:
            await asyncio.gather(
                *(
                    sender(i, s, w)
                    for i, (s, w) in enumerate(zip(self.senders, self.windows, strict=True))
                )
            )
            self.expected = sent * len(self.receivers)
            if self.deliveries.count < self.expected:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.all_delivered.wait(), DRAIN_TIMEOUT)
        finally:
            ticker.cancel()
            self.run.progress.done()
        return Phase(self.deliveries, started, sent, self.expected, stalled)

    async def close(self):
        for reader in self.readers:
            reader.cancel()
        await close_all(self.receivers + self.senders)


class Phase:
    def __init__(self, deliveries, started, sent, expected, stalled):
        self.deliveries = deliveries
        self.sent = sent
        self.lost = expected - deliveries.count
        self.stalled = stalled
        self.rate = deliveries.rate(since=started)


async def fanout(run, *, receivers, senders, window, rate, messages, duration):
    room = Room(run, fresh_room("fanout"))
    try:
        await room.add_receivers(receivers)
        await room.add_senders(senders, window)
        phase = await room.talk(messages=messages, duration=duration, rate=rate)
    finally:
        await room.close()
    pace = f"{rate:g} messages/s" if rate else f"window {window}"
    return result(
        "fanout",
        f"{receivers} receivers, {senders} sender(s), {pace}, one room",
        "deliveries",
        phase.deliveries,
        {
            "messages sent": phase.sent,
            "deliveries/s": round(phase.rate, 1),
            "deliveries lost": phase.lost,
        },
        room.trouble,
    )


async def echo(run, *, clients, messages, duration):
    """``clients`` sockets on /ws/echo/, each with one echo frame in flight at a time."""
    trips = Recorder("round trips")
    trouble = Trouble()
    sockets = await run.open_many(
        clients, lambda _: run.open("/ws/echo/"), concurrency=OPEN_CONCURRENCY, label="clients"
    )
    started = time.perf_counter()
    deadline = started + duration

    async def client(socket, share):
        for number in range(share):
            if time.perf_counter() > deadline:
                return
            text = str(number)
            sent = time.perf_counter()
            await socket.send(json.dumps({"type": "echo", "text": text}))
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), DRAIN_TIMEOUT))
                trouble.frame(frame)
                if frame.get("type") == "echo" and frame.get("text") == text:
                    trips.add(time.perf_counter() - sent)
                    break
                if frame.get("type") == "error":
                    break

    async def show_progress():
        while True:
            elapsed = time.perf_counter() - started
            run.progress.show("echo", trips.count, messages, trips.count / elapsed, "round trips")
            await asyncio.sleep(TICK)

    ticker = asyncio.create_task(show_progress())
    try:
        shares = [messages // clients + (i < messages % clients) for i in range(clients)]
        outcomes = await asyncio.gather(
            *(client(s, share) for s, share in zip(sockets, shares, strict=True)),
            return_exceptions=True,
        )
    finally:
        ticker.cancel()
        run.progress.done()
        await close_all(sockets)
    for outcome in outcomes:
        if isinstance(outcome, ConnectionClosed):
            trouble.closed(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
    return result(
        "echo",
        f"{clients} clients, one frame in flight each",
        "round trips",
        trips,
        {"round trips": trips.count, "round trips/s": round(trips.rate(since=started), 1)},
        trouble,
    )


async def connect(run, *, connections, concurrency, duration):
    """Handshakes into one room, ``concurrency`` at a time: each socket waits for its
    ``welcome`` and ``history`` and closes."""
    handshakes = Recorder("handshakes")
    room = fresh_room("connect")
    started = time.perf_counter()
    deadline = started + duration

    async def one(_):
        if time.perf_counter() > deadline:
            return None
        opened = time.perf_counter()
        socket = await run.join(room)
        handshakes.add(time.perf_counter() - opened)
        await socket.close()
        return None

    await run.open_many(connections, one, concurrency=concurrency, label="handshakes")
    return result(
        "connect",
        f"{connections} handshakes to welcome, {concurrency} at a time",
        "handshakes",
        handshakes,
        {"handshakes": handshakes.count, "handshakes/s": round(handshakes.rate(since=started), 1)},
        Trouble(),
    )


def rss_kb(pids):
    """Resident memory of the ``pids`` and their children (a server's workers), in KB."""
    total = 0
    for task in [*pids, *(child for pid in pids for child in children(pid))]:
        try:
            with open(f"/proc/{task}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry))
    return found


async def idle(run, *, sockets, per_room, pids, hold):
    """``sockets`` signed-in chat sockets held open, ``per_room`` to a room; then the
    time one more takes to its ``welcome``, and the servers' memory per socket."""
    prefix = fresh_room("idle")
    before = rss_kb(pids) if pids else None
    held = await run.open_many(
        sockets,
        lambda index: run.join(f"{prefix}-{index // per_room}"),
        concurrency=OPEN_CONCURRENCY,
        label="sockets",
    )
    try:
        after = rss_kb(pids) if pids else None
        probe = Recorder("handshakes")
        opened = time.perf_counter()
        extra = await run.join(f"{prefix}-probe")
        probe.add(time.perf_counter() - opened)
        held.append(extra)
        await asyncio.sleep(hold)
    finally:
        await close_all(held)
    figures = {
        "sockets held": sockets,
        "welcome of one more (ms)": round(probe.latencies[0] * 1000, 1),
    }
    if pids:
        figures |= {
            "server RSS before (MB)": round(before / 1024, 1),
            "server RSS holding them (MB)": round(after / 1024, 1),
            "server KB per socket": round((after - before) / sockets, 1),
        }
    return result(
        "idle",
        f"{sockets} chat sockets held, {per_room} per room",
        "handshakes",
        probe,
        figures,
        Trouble(),
    )


async def capacity(run, *, step, max_sockets, p99_ms, rate, step_seconds, duration):
    """Add ``step`` receivers to a room at a time, each step under a paced sender, until
    the p99 delivery latency passes ``p99_ms`` (or ``max_sockets``, or ``duration``)."""
    room = Room(run, fresh_room("capacity"))
    steps = []
    deadline = time.perf_counter() + duration
    held = None
    try:
        await room.add_senders(1, window=1)
        while len(room.receivers) + step <= max_sockets and time.perf_counter() < deadline:
            await room.add_receivers(step)
            messages = max(1, int(rate * step_seconds))
            phase = await room.talk(
                messages=messages, duration=step_seconds, rate=rate, label="step"
            )
            latency = summary_ms(phase.deliveries.latencies)
            steps.append(
                {
                    "sockets": len(room.receivers),
                    "deliveries/s": round(phase.rate, 1),
                    "p50": latency["p50"],
                    "p99": latency["p99"],
                    "lost": phase.lost,
                }
            )
            if latency["p99"] is None or latency["p99"] > p99_ms or phase.lost:
                break
            held = len(room.receivers)
    finally:
        await room.close()
    return result(
        "capacity",
        f"receivers added {step} at a time under {rate:g} messages/s until p99 > {p99_ms:g} ms",
        "deliveries",
        room.deliveries,
        {"sockets within the bound": held or 0},
        room.trouble,
        steps=steps,
    )
