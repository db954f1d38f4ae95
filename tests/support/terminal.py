"""A program run in a terminal of its own, answered at its prompts as a person would.

Some commands ask only when they talk to a terminal (``manage.py createsuperuser``
refuses to ask anything otherwise): this gives them a pseudo-terminal, waits for the
text a person would wait for, and types the answer.
"""

import os
import pty
import re
import select
import signal
import subprocess
import time
from contextlib import suppress

STOP_TIMEOUT = 10  # seconds the program gets to end after SIGTERM, then SIGKILL
POLL_INTERVAL = 0.1


class Terminal:
    def __init__(self, command, *, cwd=None, env=None):
        self.main, secondary = pty.openpty()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            start_new_session=True,
        )
        os.close(secondary)
        self.seen = ""  # everything the program printed
        self.read_up_to = 0  # what expect() has already matched

    def expect(self, pattern, timeout):
        """Wait until the program prints what the regular expression ``pattern`` matches,
        after what earlier calls matched; return the match."""
        deadline = time.monotonic() + timeout
        while (found := re.compile(pattern).search(self.seen, self.read_up_to)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no {pattern!r} within {timeout} s; the terminal shows:\n{self.tail()}"
                )
            ready, _, _ = select.select([self.main], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.main, 65536)
                except OSError:  # the program ended: the terminal is closed
                    chunk = b""
                if not chunk:
                    raise EOFError(f"the program ended before {pattern!r}:\n{self.tail()}")
                self.seen += chunk.decode(errors="replace")
        self.read_up_to = found.end()
        return found

    def type(self, line):
        os.write(self.main, f"{line}\n".encode())

    def tail(self, lines=40):
        return "\n".join(self.seen.splitlines()[-lines:])

    def stop(self):
        """End the program and everything it started: every process of the terminal's
        session. An interactive shell puts each command in a process group of its own,
        and a server's reloader may outlive the shell."""
        session = self.process.pid
        signal_all(session, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.process.poll() is None or session_processes(session):
            if time.monotonic() > deadline:
                signal_all(session, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
                break
            time.sleep(POLL_INTERVAL)
        os.close(self.main)


def session_processes(session):
    """The running processes of ``session`` (zombies, which only wait for their parent to
    read their status, do not count)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                found.append(int(entry))
    return found


def signal_all(session, signum):
    for pid in session_processes(session):
        with suppress(ProcessLookupError):
            os.kill(pid, signum)
