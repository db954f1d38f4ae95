"""Subprocesses: one runner for commands, free ports, and reading a server's output."""

import os
import queue
import shlex
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from functools import cache

import pytest

OUTPUT_TAIL_LINES = 60
DEFAULT_TIMEOUT = 120


def tail(text, lines=OUTPUT_TAIL_LINES):
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass
class Completed:
    """What a command did: its exit code and its output (stdout, then stderr)."""

    command: list
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def shown(self):
        return shlex.join(self.command)

    @property
    def report(self):
        """For a failure message: the command, its exit code and its output's tail."""
        return f"`{self.shown}` exited {self.returncode}; output tail:\n{tail(self.output)}"


def run(command, *, cwd=None, env=None, timeout=DEFAULT_TIMEOUT, check=True, what=None):
    """Run ``command``; return a :class:`Completed`.

    ``env`` is the whole environment (None: this process's). With ``check`` a non-zero
    exit fails the test with the output's tail; a timeout always does.
    """
    __tracebackhide__ = True
    command = [str(part) for part in command]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"") + (error.stderr or b"")
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        pytest.fail(
            f"{what or shlex.join(command)} timed out after {timeout} s in {cwd}; "
            f"output tail:\n{tail(output)}",
            pytrace=False,
        )
    completed = Completed(
        command,
        result.returncode,
        result.stdout,
        result.stderr,
        time.monotonic() - started,
    )
    if check and completed.returncode != 0:
        pytest.fail(
            f"{what or completed.shown} exited {completed.returncode} in {cwd}; "
            f"output tail:\n{tail(completed.output)}",
            pytrace=False,
        )
    return completed


def without(environment, *names, prefixes=()):
    """A copy of ``environment`` without ``names`` and without names that start with
    one of ``prefixes``."""
    return {
        key: value
        for key, value in environment.items()
        if key not in names and not key.startswith(tuple(prefixes))
    }


def path_without(path, directory):
    """``path`` (a PATH value) without the entries inside ``directory``."""
    directory = os.path.realpath(directory)
    kept = [
        entry
        for entry in path.split(os.pathsep)
        if entry and not os.path.realpath(entry).startswith(directory + os.sep)
    ]
    return os.pathsep.join(kept)


def port_is_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@cache
def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_ports(count):
    """``count`` distinct ports free on 127.0.0.1 (and on ::1 where there is one)."""
    held, ports = [], []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            if has_ipv6_loopback():
                six = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                held.append(six)
                try:
                    six.bind(("::1", port))
                except OSError:
                    continue
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def accepting(port, timeout=5):
    """Whether something accepts connections on 127.0.0.1:``port`` (a refusal is instant;
    ``timeout`` bounds one attempt on a busy machine)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _pump_lines(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def output_lines(stream):
    """A queue of a process's output lines. A thread keeps draining the pipe after
    start-up too, so the process never blocks on a full pipe."""
    lines = queue.Queue()
    threading.Thread(target=_pump_lines, args=(stream, lines), daemon=True).start()
    return lines


def wait_for_line(lines, wanted, timeout):
    """Read queued output lines until one contains ``wanted``; return what was read.

    Raises TimeoutError after ``timeout`` seconds, EOFError if the output ends first.
    """
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("".join(seen))
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError("".join(seen)) from None
        if line is None:
            raise EOFError("".join(seen))
        seen.append(line)
        if wanted in line:
            return "".join(seen)


def require(tool):
    """The path of the program ``tool``, or a failure that says how to install it."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(
            f"{tool} is not installed. `make test` installs what the tests start; "
            "tests/system-packages.sh names the Debian package of each program.",
            pytrace=False,
        )
    return path
