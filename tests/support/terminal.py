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
        """End the program and everything it started."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        os.close(self.main)
