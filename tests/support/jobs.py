"""Background jobs as their owner sees them on a live deployment: ``POST /api/jobs/``, the
job's frames on the owner's ``/ws/notifications/`` socket, ``GET /api/jobs/<id>/`` and the
download (the protocol's section "Background jobs").

A :class:`JobFeed` keeps what a notifications socket receives, by job, as it comes; a test
waits on it for the frame it needs (:meth:`JobFeed.until`), and checks the job's promises
on the frames it kept (:func:`check_frames`): it starts queued, its state never goes
back, its progress never decreases, it ends once.
"""

import asyncio
import time
from collections import defaultdict

from tests.support.websocket import FRAME_TIMEOUT, INTERLEAVING, receive

EXPORT = "export_room"
ENDED = ("done", "failed")
# A state may repeat (a job runs again after its worker died) but never go back.
STATE_RANK = {"queued": 0, "running": 1, "done": 2, "failed": 2}
JOB_KEYS = {"type", "id", "kind", "state", "progress", "result", "error", "updated"}

# Messages as an admin or an import would add them, in one statement: the chat socket's
# rate limit (10 a second) would make a test wait half a minute for them.
FILL_ROOM = """
from django.apps import apps
from django.contrib.auth import get_user_model
Message = apps.get_model("chat", "Message")
room, _ = apps.get_model("chat", "Room").objects.get_or_create(name={room!r})
author = get_user_model().objects.get(username={author!r})
Message.objects.bulk_create(Message(room=room, user=author, text=text) for text in {texts!r})
"""


def fill_room(live, room, count, author="alice"):
    """Make the public room ``room`` with ``count`` messages of ``author``; their texts."""
    texts = [f"message {number} of {room}" for number in range(count)]
    live.project.manage("shell", "-c", FILL_ROOM.format(room=room, author=author, texts=texts))
    return texts


def start_export(live, user, room):
    """``POST /api/jobs/`` for an export of ``room`` as ``user``: 202 and the job, queued."""
    response = live.api(user, "POST", "/api/jobs/", {"kind": EXPORT, "room": room})
    assert response.status == 202, response
    job = response.json()
    assert set(job) == JOB_KEYS, job
    assert (job["type"], job["kind"], job["state"], job["progress"]) == (
        "job",
        EXPORT,
        "queued",
        0,
    ), job
    assert job["result"] is None and job["error"] is None, job
    return job


async def export_without_broker(live, user, room):
    """With the broker's redis-server stopped, ``user`` asks for an export of ``room``;
    then the broker starts again on its address. Returns the response, the seconds it
    took, and how many jobs the database held meanwhile."""
    await asyncio.to_thread(live.broker.stop)
    try:
        started = time.monotonic()
        response = live.api(user, "POST", "/api/jobs/", {"kind": EXPORT, "room": room})
        return response, time.monotonic() - started, stored_jobs(live)
    finally:
        await asyncio.to_thread(live.broker.start)


def stored_jobs(live):
    """How many jobs the deployment's database holds."""
    [(count,)] = live.project.query("SELECT COUNT(*) FROM jobs_job")
    return count


def stored(live, job_id, *columns):
    """``columns`` of the job's row in the deployment's database (``runs``: how many
    times a worker started it)."""
    names = ", ".join(columns)
    [row] = live.project.query(
        f"SELECT {names} FROM jobs_job WHERE id = ?", job_id.replace("-", "")
    )
    return row


class JobFeed:
    """What one ``/ws/notifications/`` socket received: job frames by job id (with the
    time each arrived) and notifications. Any other frame fails the test, but those the
    protocol lets interleave."""

    def __init__(self, ws):
        self.ws = ws
        self.jobs = defaultdict(list)  # job id -> its frames, in the order they came
        self.arrived = defaultdict(list)  # job id -> time.monotonic() of each
        self.notifications = []

    async def next_frame(self, timeout):
        frame = await receive(self.ws, timeout)
        if frame["type"] == "job":
            assert set(frame) == JOB_KEYS, frame
            self.jobs[frame["id"]].append(frame)
            self.arrived[frame["id"]].append(time.monotonic())
        elif frame["type"] == "notification":
            self.notifications.append(frame)
        else:
            assert frame["type"] in INTERLEAVING, f"not a frame of jobs: {frame}"

    async def until(self, condition, what, timeout=FRAME_TIMEOUT):
        """Receive until ``condition()`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await self.next_frame(remaining)
            except TimeoutError:
                raise AssertionError(
                    f"not {what} within {timeout} s; job frames so far: {dict(self.jobs)}"
                ) from None

    async def until_state(self, job_id, states, timeout=FRAME_TIMEOUT):
        """The job's frames once one of them is in one of ``states``."""
        frames = self.jobs[job_id]
        await self.until(
            lambda: any(f["state"] in states for f in frames),
            f"job {job_id} {' or '.join(states)}",
            timeout,
        )
        return frames

    async def until_ended(self, job_id, timeout=FRAME_TIMEOUT):
        """The job's frames once it is done or failed."""
        return await self.until_state(job_id, ENDED, timeout)

    async def until_progress(self, job_id, timeout=FRAME_TIMEOUT):
        """The job's frames once it is running and reported some progress."""
        frames = self.jobs[job_id]
        await self.until(
            lambda: any(f["state"] == "running" and f["progress"] > 0 for f in frames),
            f"job {job_id} running with progress",
            timeout,
        )
        return frames

    async def caught_up(self, live, owner):
        """Every frame pushed to ``owner`` until now has arrived: a notification that
        staff sends now is pushed after them, and the socket gets it after them."""
        payload = {"user": owner, "text": "caught up?"}
        response = await asyncio.to_thread(live.post_notification, "staff", payload)
        assert response.status == 201, response
        marker = response.json()["id"]
        await self.until(
            lambda: any(n["id"] == marker for n in self.notifications),
            "the marker notification",
        )


def check_frames(frames, end):
    """A job's frames keep its promises: first queued, states never back, progress never
    down, exactly one ``end`` frame (done or failed), and nothing after it."""
    states = [f["state"] for f in frames]
    progress = [f["progress"] for f in frames]
    assert states[0] == "queued", states
    ranks = [STATE_RANK[state] for state in states]
    assert ranks == sorted(ranks), f"a state went back: {states}"
    assert progress == sorted(progress), f"progress went down: {progress}"
    assert states.count(end) == 1 and states[-1] == end, states
    assert not set(states) & set(ENDED) - {end}, states


def check_export(live, user, job, texts):
    """The download of a done export, through nginx: every message of the room, in
    order, once; returns its messages."""
    response = live.api(user, "GET", f"/api/jobs/{job['id']}/download")
    assert response.status == 200, response
    assert response.headers["Content-Disposition"].startswith("attachment; "), response.headers
    export = response.json()
    messages = export["messages"]
    assert export["room"] == job["result"]["room"]
    assert [m["text"] for m in messages] == texts
    ids = [m["id"] for m in messages]
    assert ids == sorted(set(ids)), "messages doubled or out of order"
    assert job["result"]["messages"] == len(texts)
    return messages
