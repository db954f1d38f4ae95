"""Background jobs for real, on the live deployments (tests/support/deployment.py) of the
combinations with ``tasks=celery``.

Beside the servers and nginx, the deployment runs the README's worker command in its
production environment (tests/support/worker.py), with a ``redis-server`` of its own as
the broker and a visibility timeout of 10 seconds; its exports read 30 messages at a time
and pause between batches, so that a room of 300 takes a few seconds. The owner follows
each job through nginx on a ``/ws/notifications/`` socket:

- a job goes queued, running, done, its progress growing, and its download holds every
  message of the room;
- a job that raises ends failed with a reason its owner can read, and the worker goes on
  with the next;
- the worker killed with ``kill -9`` mid-job (its main process and its pool), and started
  again: the job runs again and ends done once, its export whole;
- the broker down: ``POST /api/jobs/`` answers 503 at once and keeps nothing; the broker
  back, jobs run again.

Every test also reads what the worker logged meanwhile: never "Event loop is closed"
(django/channels_redis#332), never a traceback; while the broker is down, Celery's own
reconnection may log one (tests/support/worker.py, OUTAGE), which is counted, not failed.
"""

import asyncio
import time

import pytest

from tests.support.jobs import (
    JobFeed,
    check_export,
    check_frames,
    export_without_broker,
    fill_room,
    start_export,
    stored,
    stored_jobs,
)
from tests.support.websocket import FRAME_TIMEOUT, join, message, room_name, say, subscribe
from tests.support.worker import (
    EXPORT_BATCH_SIZE,
    EXPORT_MAX_MESSAGES,
    EXPORT_MESSAGES,
    RESTORE_INTERVAL,
    VISIBILITY_TIMEOUT,
    WorkerLog,
)

pytestmark = pytest.mark.stage("jobs")

# The export reports its progress after each batch: at least this many steps between
# queued and done.
PROGRESS_STEPS = 5
# After kill -9, the restarted worker takes the job back once its visibility timeout has
# passed, at its next look for such jobs (see tests/support/worker.py).
HANDED_OUT_AGAIN = VISIBILITY_TIMEOUT + RESTORE_INTERVAL + FRAME_TIMEOUT
REFUSAL_LIMIT = 5  # seconds for POST /api/jobs/ to answer 503 with the broker down
# Once the broker is back, the worker reconnects at its next try (after 2, 4, 6 ... s).
BROKER_BACK = 60


async def say_in_room(live, room, user, text):
    """``user`` says ``text`` in ``room`` through nginx; returns the stored message."""
    async with live.websocket(f"/ws/chat/{room}/", user=user) as ws:
        await join(ws, room, user, [user])
        await say(ws, text)
        return await message(ws, user, text, room)


def test_a_job_reports_its_progress_and_its_export_holds_every_message(live):
    room = room_name("export")
    texts = fill_room(live, room, EXPORT_MESSAGES)
    log = WorkerLog(live.worker)

    async def scenario():
        last = await say_in_room(live, room, "alice", "the last word")
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            await subscribe(ws, "alice")
            feed = JobFeed(ws)
            job = start_export(live, "alice", room)
            frames = await feed.until_ended(job["id"])
            await feed.caught_up(live, "alice")  # a second `done` would be here by now

        check_frames(frames, "done")
        done = frames[-1]
        assert done["id"] == job["id"]
        assert (done["progress"], done["error"]) == (100, None), done
        assert done["result"] == {"room": room, "messages": EXPORT_MESSAGES + 1}, done
        steps = {f["progress"] for f in frames if f["state"] == "running"}
        assert len(steps) >= PROGRESS_STEPS, [f["progress"] for f in frames]
        assert live.api("alice", "GET", f"/api/jobs/{job['id']}/").json() == done
        assert live.api("bob", "GET", f"/api/jobs/{job['id']}/").status == 404
        messages = check_export(live, "alice", done, [*texts, last["text"]])
        assert messages[-1] == last
        arrived = feed.arrived[job["id"]]
        live.record(
            "export",
            {
                "messages": len(messages),
                "frames": len(frames),
                "queued_to_done_s": round(arrived[-1] - arrived[0], 2),
            },
        )
        assert log.problems() == []

    live.run(scenario)


def test_a_job_that_raises_fails_with_a_reason_and_the_worker_goes_on(live):
    """A room over the export's limit: the job fails with a reason its owner can read
    (no traceback: it is an expected failure), and the worker runs the next job."""
    too_big, small = room_name("too-big"), room_name("small")
    fill_room(live, too_big, EXPORT_MAX_MESSAGES + 1)
    texts = fill_room(live, small, EXPORT_BATCH_SIZE)
    log = WorkerLog(live.worker)

    async def scenario():
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            await subscribe(ws, "alice")
            feed = JobFeed(ws)
            failing = start_export(live, "alice", too_big)
            failed = await feed.until_ended(failing["id"])
            following = start_export(live, "alice", small)
            done = await feed.until_ended(following["id"])
            await feed.caught_up(live, "alice")

        check_frames(failed, "failed")
        error = failed[-1]["error"]
        assert f"{too_big} has {EXPORT_MAX_MESSAGES + 1} messages" in error, error
        assert "JOBS_EXPORT_MAX_MESSAGES" in error, error
        assert failed[-1]["result"] is None
        assert live.api("alice", "GET", f"/api/jobs/{failing['id']}/").json() == failed[-1]
        refused = live.api("alice", "GET", f"/api/jobs/{failing['id']}/download")
        assert refused.status == 409, refused
        check_frames(done, "done")
        check_export(live, "alice", done[-1], texts)
        assert log.problems() == []

    live.run(scenario)


def test_a_job_whose_worker_is_killed_runs_again_and_ends_done_once(live):
    """The worker dies with ``kill -9`` (every process of it) while the job runs, and is
    started again at once. The job's message comes back after the visibility timeout:
    the job runs a second time, resumes without its progress going down, and ends done
    once, with the whole export."""
    room = room_name("killed")
    texts = fill_room(live, room, EXPORT_MESSAGES)
    log = WorkerLog(live.worker)

    async def scenario():
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            await subscribe(ws, "alice")
            feed = JobFeed(ws)
            job = start_export(live, "alice", room)
            posted = time.monotonic()
            await feed.until_progress(job["id"])
            await asyncio.to_thread(live.worker.kill)
            killed = time.monotonic()
            state, reached = stored(live, job["id"], "state", "progress")
            assert (state, reached < 100) == ("running", True), "not killed mid-job"
            await asyncio.to_thread(live.worker.restart)
            restarted = time.monotonic()
            frames = await feed.until_ended(job["id"], timeout=HANDED_OUT_AGAIN)
            await feed.caught_up(live, "alice")

        check_frames(frames, "done")
        assert stored(live, job["id"], "runs") == (2,)
        arrived = feed.arrived[job["id"]]
        resumed = next(t for f, t in zip(frames, arrived) if f["progress"] > reached)
        check_export(live, "alice", frames[-1], texts)
        live.record(
            "worker_killed",
            {
                "progress_at_kill": reached,
                "worker_restart_s": round(restarted - killed, 2),
                "resumed_after_post_s": round(resumed - posted, 2),
                "done_after_kill_s": round(arrived[-1] - killed, 2),
                "frames": len(frames),
            },
        )
        # Not before the visibility timeout: the broker cannot tell a dead worker from
        # a slow one until then.
        assert resumed - posted >= VISIBILITY_TIMEOUT
        assert log.problems() == []

    try:
        live.run(scenario)
    finally:
        live.worker.restart_if_stopped()


def test_with_the_broker_down_a_job_is_refused_at_once_and_nothing_is_kept(live):
    """The broker's redis-server stops (the channel layer's Redis runs on): ``POST
    /api/jobs/`` answers 503 within seconds, saying why; the database keeps no job, and
    the owner's socket saw the refused job end failed. The broker back on its address,
    the next job runs to done."""
    room = room_name("no-broker")
    texts = fill_room(live, room, EXPORT_BATCH_SIZE)
    log = WorkerLog(live.worker)
    before = stored_jobs(live)

    async def scenario():
        async with live.websocket("/ws/notifications/", user="alice") as ws:
            await subscribe(ws, "alice")
            feed = JobFeed(ws)
            response, refused_after, kept = await export_without_broker(live, "alice", room)
            assert response.status == 503, response
            assert "job queue cannot be reached" in response.json()["detail"], response
            assert kept == before, "the refused job was kept"
            await feed.until(lambda: feed.jobs, "the refused job's frames")
            [refused] = feed.jobs.values()
            await feed.until_ended(refused[0]["id"])
            check_frames(refused, "failed")
            assert refused[-1]["error"] == "the job queue cannot be reached", refused[-1]

            back = time.monotonic()
            job = start_export(live, "alice", room)
            frames = await feed.until_ended(job["id"], timeout=BROKER_BACK)
            await feed.caught_up(live, "alice")

        check_frames(frames, "done")
        check_export(live, "alice", frames[-1], texts)
        live.record(
            "broker_down",
            {
                "refused_s": round(refused_after, 2),
                "done_after_broker_back_s": round(feed.arrived[job["id"]][-1] - back, 2),
                "celery_tracebacks_while_lost": log.outage_tracebacks(),
            },
        )
        assert refused_after <= REFUSAL_LIMIT
        assert stored_jobs(live) == before + 1
        assert log.problems(broker_outage=True) == []

    try:
        live.run(scenario)
    finally:
        if live.broker.process.poll() is not None:
            live.broker.start()
