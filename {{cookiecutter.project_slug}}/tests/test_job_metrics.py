"""``/metrics`` under background jobs: the jobs in each state, read from the database, so
that the worker's changes count wherever it runs."""

import pytest
from asgiref.sync import async_to_sync

from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.jobs import services, tasks
from {{ cookiecutter.project_slug }}.jobs.models import Job

from tests.scrape import scrape

pytestmark = pytest.mark.django_db(transaction=True)


def jobs_in(state):
    return async_to_sync(scrape)()("realtime_jobs", state=state)


def test_every_state_is_listed_from_the_first_scrape():
    assert [jobs_in(state) for state in Job.State] == [0, 0, 0, 0]


def test_a_job_counts_in_its_state_as_it_moves_on(alice):
    Room.objects.create(name="lobby")
    job = services.create(alice, Job.Kind.EXPORT_ROOM, {"room": "lobby"})
    assert (jobs_in("queued"), jobs_in("done")) == (1, 0)
    tasks.run_job(str(job.id))
    assert (jobs_in("queued"), jobs_in("running"), jobs_in("done")) == (0, 0, 1)


def test_a_failed_job_counts_as_failed(alice):
    job = services.create(alice, Job.Kind.EXPORT_ROOM, {"room": "no-such-room"})
    tasks.run_job(str(job.id))
    assert (jobs_in("failed"), jobs_in("done")) == (1, 0)
