"""Background jobs (``tasks=celery``): ``/api/jobs/``, the worker's task, and the ``job``
frames pushed to the owner's sockets through the real channel layer.

The task runs here in the test's own process, called as the worker calls it; the
template's live stage runs a real worker, kills it mid-job and breaks its broker.
"""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from kombu.exceptions import OperationalError

from {{ cookiecutter.project_slug }}.chat import services as chat
from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.jobs import services, tasks
from {{ cookiecutter.project_slug }}.jobs.models import Job
from {{ cookiecutter.project_slug }}.notifications import protocol as notifications
from {{ cookiecutter.project_slug }}.realtime.protocol import group_event

from config.celery import app as celery_app
from tests.clients import authenticate_http

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/jobs/"
TIMEOUT = 10  # seconds to wait for a frame that must come


class Inbox:
    """A channel in a user's notifications group: what their sockets would be sent."""

    def __init__(self, user):
        self.layer = get_channel_layer()
        self.group = notifications.group_name(user.pk)
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(self.group, self.channel)

    def frames_until(self, **wanted):
        """The frames received up to the first with ``wanted``'s keys and values."""
        frames = []
        while not frames or not wanted.items() <= frames[-1].items():
            frames.append(json.loads(async_to_sync(self.receive)()["text"]))
        return frames

    async def receive(self):
        return await asyncio.wait_for(self.layer.receive(self.channel), TIMEOUT)

    def nothing_before_a_marker(self):
        """True when nothing was pushed before a marker sent now."""
        marker = {"type": "marker"}
        async_to_sync(self.layer.group_send)(self.group, group_event(marker))
        return self.frames_until(type="marker") == [marker]


@pytest.fixture(autouse=True)
def empty_queue():
    """The worker's queue, emptied: the tests' Redis database outlives a run."""
    celery_app.control.purge()


@pytest.fixture
def api(client):
    """Call the API as a given user (or anonymously)."""

    def api(user, method="post", url=URL, payload=None):
        if user is not None:
            authenticate_http(client, user)
        return getattr(client, method)(url, payload, content_type="application/json")

    return api


def room_with_messages(name, user, count):
    room = Room.objects.create(name=name)
    for number in range(count):
        chat.post_message(room, user, f"message {number}")
    return room


def export_job(user, room="lobby"):
    return services.create(user, Job.Kind.EXPORT_ROOM, {"room": room})


def states(frames):
    return [(frame["state"], frame["progress"]) for frame in frames]


# --- the API ------------------------------------------------------------------------


def test_posting_a_job_queues_it_for_the_worker_and_pushes_it(api, alice):
    room_with_messages("lobby", alice, 1)
    inbox = Inbox(alice)
    response = api(alice, payload={"kind": "export_room", "room": "lobby"})
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    assert response.json() == {
        "type": "job",
        "id": str(job.id),
        "kind": "export_room",
        "state": "queued",
        "progress": 0,
        "result": None,
        "error": None,
        "updated": job.updated_at.isoformat(),
    }
    assert inbox.frames_until(type="job") == [response.json()]
    with celery_app.connection_for_read() as connection:
        assert connection.default_channel.queue_declare("celery").message_count == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "nothing", "room": "lobby"}, "kind"),
        ({"room": "lobby"}, "kind"),
        ({"kind": "export_room", "room": "nowhere"}, "room"),
        ({"kind": "export_room"}, "room"),
    ],
)
def test_an_unknown_kind_or_room_is_400_with_the_reason(api, alice, payload, field):
    Room.objects.create(name="lobby")
    response = api(alice, payload=payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Job.objects.exists()


def test_a_private_room_of_others_is_403(api, alice):
    Room.objects.create(name="staff", is_private=True)
    assert api(alice, payload={"kind": "export_room", "room": "staff"}).status_code == 403
    assert not Job.objects.exists()


def test_without_credentials_nothing_is_created(api):
    Room.objects.create(name="lobby")
    response = api(None, payload={"kind": "export_room", "room": "lobby"})
    assert response.status_code in (401, 403)
    assert not Job.objects.exists()


def test_an_unreachable_queue_is_503_and_nothing_is_kept(api, alice, monkeypatch):
    """The live stage stops the real broker; here the task's publish fails as it then does."""

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_job, "delay", unreachable)
    Room.objects.create(name="lobby")
    inbox = Inbox(alice)
    response = api(alice, payload={"kind": "export_room", "room": "lobby"})
    assert response.status_code == 503
    assert "job queue cannot be reached" in response.json()["detail"]
    assert not Job.objects.exists()
    assert states(inbox.frames_until(state="failed")) == [("queued", 0), ("failed", 0)]


def test_a_job_is_its_owners_alone(api, alice, bob):
    job = export_job(alice)
    assert api(alice, "get", f"{URL}{job.id}/").json()["id"] == str(job.id)
    assert api(bob, "get", f"{URL}{job.id}/").status_code == 404
    assert api(bob, "get", f"{URL}{job.id}/download").status_code == 404


def test_the_download_waits_for_the_job_to_be_done(api, alice):
    room_with_messages("lobby", alice, 2)
    job = export_job(alice)
    response = api(alice, "get", f"{URL}{job.id}/download")
    assert response.status_code == 409
    assert response.json() == {"detail": "The job is queued, not done."}
    tasks.run_job(str(job.id))
    response = api(alice, "get", f"{URL}{job.id}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="export_room-lobby.json"'
    export = response.json()
    assert export["room"] == "lobby"
    assert [m["text"] for m in export["messages"]] == ["message 0", "message 1"]


# --- the worker's task --------------------------------------------------------------


def test_a_job_runs_to_done_and_each_change_is_pushed_once(alice, settings):
    settings.JOBS_EXPORT_BATCH_SIZE = 2
    room_with_messages("lobby", alice, 5)
    job = export_job(alice)
    inbox = Inbox(alice)
    tasks.run_job(str(job.id))
    frames = inbox.frames_until(state="done")
    assert states(frames) == [("running", 0), ("running", 40), ("running", 80),
                              ("running", 99), ("done", 100)]  # fmt: skip
    assert frames[-1]["result"] == {"room": "lobby", "messages": 5}
    job.refresh_from_db()
    assert (job.state, job.runs, len(job.output["messages"])) == ("done", 1, 5)


def test_a_job_whose_worker_died_runs_again_without_going_back(alice, settings):
    """The broker hands the job out again; the new run shows no less progress than the
    dead one reached, and the job ends done once."""
    settings.JOBS_EXPORT_BATCH_SIZE = 1
    room_with_messages("lobby", alice, 4)
    job = export_job(alice)
    Job.objects.filter(pk=job.pk).update(state="running", progress=60, runs=1)
    inbox = Inbox(alice)
    tasks.run_job(str(job.id))
    assert states(inbox.frames_until(state="done")) == [
        ("running", 60),
        ("running", 75),
        ("running", 99),
        ("done", 100),
    ]
    tasks.run_job(str(job.id))  # the message again, after the job ended
    assert inbox.nothing_before_a_marker()
    job.refresh_from_db()
    assert (job.state, job.runs) == ("done", 2)


def test_a_job_that_cannot_go_on_fails_with_its_reason(alice, settings):
    settings.JOBS_EXPORT_MAX_MESSAGES = 2
    room_with_messages("lobby", alice, 3)
    job = export_job(alice)
    inbox = Inbox(alice)
    tasks.run_job(str(job.id))
    failed = inbox.frames_until(state="failed")[-1]
    assert failed["error"] == (
        "the room lobby has 3 messages, more than an export holds (2, JOBS_EXPORT_MAX_MESSAGES)"
    )
    assert failed["result"] is None


def test_an_unexpected_error_fails_the_job_and_the_next_one_runs(alice, monkeypatch, caplog):
    room_with_messages("lobby", alice, 1)

    def broken(job, report):
        raise ValueError("a bug")

    monkeypatch.setitem(tasks.WORK, Job.Kind.EXPORT_ROOM, broken)
    first = export_job(alice)
    inbox = Inbox(alice)
    tasks.run_job(str(first.id))
    failed = inbox.frames_until(state="failed")[-1]
    assert failed["error"] == "unexpected error (ValueError); see the worker's log"
    assert f"Job {first.id} failed" in caplog.text
    monkeypatch.undo()
    second = export_job(alice)
    tasks.run_job(str(second.id))
    assert inbox.frames_until(state="done")[-1]["id"] == str(second.id)


def test_a_job_whose_room_is_gone_fails(alice):
    room = room_with_messages("lobby", alice, 1)
    job = export_job(alice)
    room.delete()
    inbox = Inbox(alice)
    tasks.run_job(str(job.id))
    assert inbox.frames_until(state="failed")[-1]["error"] == "the room lobby no longer exists"
