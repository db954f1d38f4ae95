"""The Celery worker of a live deployment with ``tasks=celery``, and what its log may say.

The worker runs the README's command (``__run_worker`` in cookiecutter.json) in the
deployment's production environment, as a process group of its own: ``kill -9`` of the
group ends its pool processes too, as the loss of its machine would. Its broker is a
``redis-server`` of its own, so that a test can stop the broker and leave the channel
layer's Redis running.

How a job comes back after its whole worker died (kombu's Redis transport, found by
experiment and in ``kombu/transport/redis.py``): the message stays in the broker's
``unacked`` hash, stamped with the time it was handed out. A worker moves the messages
older than the visibility timeout back to the queue when it starts and then every
``unacked_restore_interval`` (10 s) seconds, as the project's settings ask (kombu's own
default looks only every tenth time). So a worker restarted at once picks the job up
again between VISIBILITY_TIMEOUT and VISIBILITY_TIMEOUT + RESTORE_INTERVAL seconds after
it was first handed out.
"""

import re
import shlex

from tests.support.options import COOKIECUTTER_JSON
from tests.support.supervisor import ProcessError, wait_until

# The README's worker command, as the template writes it there.
RUN_WORKER = shlex.split(COOKIECUTTER_JSON["__run_worker"])
# Its last line of start-up: "celery@<host> ready."
READY = re.compile(r"^celery@\S+ ready\.$", re.MULTILINE)

# Seconds before a job whose whole worker vanished is handed out again: well above the
# export job below (a few seconds), well below the project's default (3600).
VISIBILITY_TIMEOUT = 10
RESTORE_INTERVAL = 10  # kombu's unacked_restore_interval: how often a worker looks

# An export reads EXPORT_BATCH_SIZE messages at a time and pauses between batches, so a
# room of EXPORT_MESSAGES takes a few seconds and reports its progress ten times; rooms of
# more than EXPORT_MAX_MESSAGES are refused.
EXPORT_BATCH_SIZE = 30
EXPORT_BATCH_PAUSE = 0.3
EXPORT_MESSAGES = 10 * EXPORT_BATCH_SIZE
EXPORT_MAX_MESSAGES = 2 * EXPORT_MESSAGES

DEPLOYMENT_ENV = {
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
}
WORKER_ENV = {
    "JOBS_EXPORT_BATCH_SIZE": str(EXPORT_BATCH_SIZE),
    "JOBS_EXPORT_BATCH_PAUSE": str(EXPORT_BATCH_PAUSE),
    "JOBS_EXPORT_MAX_MESSAGES": str(EXPORT_MAX_MESSAGES),
}

# What a worker's log must never say: the channel layer's connections outliving the
# event loop of a push (django/channels_redis#332), or any unexpected exception.
EVENT_LOOP_CLOSED = "Event loop is closed"
TRACEBACK = "Traceback (most recent call last)"
# While its broker is down, the worker restarts its consumer's steps, and closing a step's
# channel may log a traceback of Celery's own ("Error on restarting Gossip:
# AttributeError(\"'NoneType' object has no attribute 'connection_errors'\")", as
# celery/kombu#582 reported it): from the line that says the broker is lost to the one
# that says it is connected again. It is the outage's, not a job's.
OUTAGE = re.compile(
    r"^consumer: Connection to broker lost\..*?^Connected to \S+$", re.MULTILINE | re.DOTALL
)


def log_problems(text, broker_outage=False):
    """The lines of a worker's log that report one of those; with ``broker_outage``,
    tracebacks logged while the broker was lost are the outage's (see OUTAGE)."""
    looked_at = OUTAGE.sub("", text) if broker_outage else text
    return [line for line in text.splitlines() if EVENT_LOOP_CLOSED in line] + [
        line for line in looked_at.splitlines() if TRACEBACK in line
    ]


def outage_tracebacks(text):
    """How many tracebacks the worker logged while its broker was lost."""
    return sum(window.count(TRACEBACK) for window in OUTAGE.findall(text))


class Worker:
    """The README's worker command, started by the deployment's ``supervisor`` in a
    process group of its own."""

    NAME = "worker"

    def __init__(self, supervisor):
        self.supervisor = supervisor
        self.process = None

    def start(self):
        """Start it; returns at once (see :meth:`wait_ready`)."""
        self.process = self.supervisor.spawn(self.NAME, RUN_WORKER, group=True, **WORKER_ENV)

    def wait_ready(self):
        wait_until(
            lambda: READY.search(self.process.output()),
            self.process,
            "ready (its `celery@<host> ready.` line)",
        )

    def kill(self):
        """``kill -9`` the worker's whole process group (main process and pool), as the
        loss of its machine would; returns once every one of them is gone."""
        self.process.kill()

    def restart(self):
        """Start the worker again; returns once it is ready for jobs."""
        if self.process.alive():
            raise ProcessError("the worker is still running")
        self.start()
        self.wait_ready()

    def restart_if_stopped(self):
        """A test that killed the worker leaves the shared deployment as it found it."""
        if not self.process.alive():
            self.restart()

    def logs(self):
        """log path -> text, of every worker started so far."""
        return self.supervisor.outputs(self.NAME)


class WorkerLog:
    """What a deployment's :class:`Worker` logs from now on (a restarted worker has a log
    of its own)."""

    def __init__(self, worker):
        self.worker = worker
        self.offsets = {log: len(text) for log, text in worker.logs().items()}

    def new_text(self):
        """log path -> what it gained since this object was made."""
        logs = self.worker.logs().items()
        return {log: text[self.offsets.get(log, 0) :] for log, text in logs}

    def problems(self, broker_outage=False):
        return [
            line for text in self.new_text().values() for line in log_problems(text, broker_outage)
        ]

    def outage_tracebacks(self):
        return sum(outage_tracebacks(text) for text in self.new_text().values())
