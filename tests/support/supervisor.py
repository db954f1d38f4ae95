"""Programs started for a test, each writing its output to a log file of its own.

A :class:`Process` is one started program: it can be asked to stop (SIGTERM), stopped
(SIGTERM, wait, SIGKILL) or killed (``kill -9``, its whole process group when it leads
one). :func:`wait_until` waits for one to be ready and fails early, with its log's tail,
when it exits first. A :class:`Supervisor` starts the processes of one deployment in its
project folder and environment, names their logs, and stops them all together.
"""

import glob
import os
import signal
import subprocess
import time
from contextlib import suppress

from tests.support.processes import tail

# Bounds, not delays: generous, as a busy 2-core machine is slow to hash a password.
START_TIMEOUT = 60  # seconds for a server or nginx to become ready
STOP_TIMEOUT = 10  # seconds a process gets to exit after SIGTERM, then SIGKILL
POLL_INTERVAL = 0.05


class ProcessError(Exception):
    """A process did not start, or did not stop, as it should; the message has its log's
    tail."""


class Process:
    """A started program whose output goes to a log file.

    With ``group`` it leads a process group of its own, so that :meth:`kill` ends its
    children with it (the Celery worker's pool processes), as a crash of its machine would.
    """

    def __init__(self, name, command, *, log, cwd=None, env=None, group=False):
        self.name = name
        self.log = log
        self.group = group
        self.terminated = False
        with open(log, "wb") as output:
            self.popen = subprocess.Popen(
                [str(part) for part in command],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0 if group else None,
            )

    def alive(self):
        return self.popen.poll() is None

    def terminate(self):
        """Ask the process to stop (SIGTERM), once."""
        if not self.terminated and self.popen.poll() is None:
            self.popen.terminate()
        self.terminated = True

    def stop(self):
        """Terminate, wait, kill: the process (and its group) is gone when this returns."""
        self.terminate()
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.group:  # what its children left, if it did not end them
            self.kill()

    def kill(self):
        """``kill -9``: the process, or its whole group; returns once they are gone."""
        self.terminated = True
        if not self.group:
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT)
            return
        pgid = self.popen.pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.popen.wait(timeout=STOP_TIMEOUT)
        # The children are init's now: wait until it reaped them.
        deadline = time.monotonic() + STOP_TIMEOUT
        while group_alive(pgid):
            if time.monotonic() > deadline:
                raise ProcessError(f"{self.name}: process group {pgid} outlived kill -9")
            time.sleep(POLL_INTERVAL)

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def group_alive(pgid):
    """Whether any process of group ``pgid`` is still running (zombies aside)."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_until(ready, process, what, timeout=START_TIMEOUT):
    """Poll ``ready()`` until it is true; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive():
            raise ProcessError(
                f"{process.name} exited with {process.popen.returncode} before {what}; "
                f"its output:\n{tail(process.output())}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            raise ProcessError(
                f"{process.name}: not {what} within {timeout} s; its output:\n"
                f"{tail(process.output())}"
            )
        time.sleep(POLL_INTERVAL)


class Supervisor:
    """The processes of one deployment: started in its project folder with its
    environment, each logging to a file of its own in ``workdir``, stopped together."""

    def __init__(self, workdir, cwd, env):
        self.workdir = workdir
        self.cwd = cwd
        self.env = env
        self.processes = []

    def spawn(self, name, command, *, group=False, **env):
        """Start ``command`` as ``name``, with ``env`` added to the environment."""
        # A restarted process gets a log of its own: the first one may explain a crash.
        starts = sum(process.name == name for process in self.processes)
        suffix = f"-{starts + 1}" if starts else ""
        log = self.workdir / f"{name.replace(' ', '-')}{suffix}.log"
        process = Process(name, command, log=log, cwd=self.cwd, env=self.env | env, group=group)
        return self.adopt(process)

    def adopt(self, *processes):
        """Processes started elsewhere (nginx, the Redis of a sentinel group): their logs
        go into the report, and they stop with the others. Returns the first one."""
        self.processes.extend(processes)
        return processes[0] if processes else None

    def outputs(self, name):
        """log path -> text, of every process called ``name`` started so far."""
        return {p.log: p.output() for p in self.processes if p.name == name}

    def stop(self):
        """All terminated at once, then each waited for (killed if it lingers)."""
        for process in self.processes:
            process.terminate()
        for process in reversed(self.processes):
            process.stop()

    def logs(self):
        """The tails of every process's log, for a failure report."""
        return "\n".join(
            f"--- {process.name} ({process.log}) ---\n{tail(process.output())}"
            for process in self.processes
        )
