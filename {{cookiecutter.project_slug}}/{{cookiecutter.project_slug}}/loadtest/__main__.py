"""``python -m {{ cookiecutter.project_slug }}.loadtest SCENARIO``: drive a running server.

Scenarios: ``fanout`` (receivers in one room, senders keeping a window of messages in
flight or sending at a rate), ``echo`` (round trips), ``connect`` (handshakes per
second), ``idle`` (sockets held; the servers' memory per socket with ``--pid``) and
``capacity`` (receivers added until the p99 latency passes a bound). Every scenario is
bounded by a count and by ``--duration``. See docs/performance.md.
"""

import argparse
import asyncio
import json
import resource
import sys

from {{ cookiecutter.project_slug }}.loadtest import scenarios, signin
from {{ cookiecutter.project_slug }}.loadtest.http import RemoteServerError, Server, SignInError
from {{ cookiecutter.project_slug }}.loadtest.measure import Progress, table
from {{ cookiecutter.project_slug }}.loadtest.plot import write_html
from {{ cookiecutter.project_slug }}.loadtest.sockets import Refused, Run

DEFAULT_URL = "http://127.0.0.1:8000"


def positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not above 0")
        return value

    return parse


def parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        action="append",
        dest="urls",
        metavar="URL",
        help=f"the server (default: {DEFAULT_URL}); give it once per process to spread "
        "the sockets over several, in turn",
    )
    common.add_argument(
        "--allow-remote", action="store_true", help="allow a server off this machine"
    )
    common.add_argument(
        "--duration",
        type=positive(float),
        default=30,
        help="seconds at most (default: %(default)s)",
    )
    common.add_argument("--json", metavar="FILE", help="write the result as JSON ('-' for stdout)")
    common.add_argument(
        "--plot", metavar="FILE", help="write throughput and latency over time as HTML"
    )
    common.add_argument("--quiet", action="store_true", help="no progress line")
    signin.add_arguments(common)

    main = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.project_slug }}.loadtest", description=__doc__.split("\n\n")[0]
    )
    commands = main.add_subparsers(dest="scenario", required=True, metavar="SCENARIO")

    fanout = commands.add_parser("fanout", parents=[common], help="one room: receivers and senders")
    fanout.add_argument("--receivers", type=positive(int), default=100)
    fanout.add_argument("--senders", type=positive(int), default=1)
    fanout.add_argument(
        "--window", type=positive(int), default=10, help="messages in flight per sender"
    )
    fanout.add_argument(
        "--rate", type=positive(float), help="messages per second in all, instead of a window"
    )
    fanout.add_argument("--messages", type=positive(int), default=2000, help="messages in all")

    echo = commands.add_parser("echo", parents=[common], help="round trips on /ws/echo/")
    echo.add_argument("--clients", type=positive(int), default=50)
    echo.add_argument("--messages", type=positive(int), default=20000, help="round trips in all")

    connect = commands.add_parser("connect", parents=[common], help="handshakes per second")
    connect.add_argument("--connections", type=positive(int), default=500)
    connect.add_argument("--concurrency", type=positive(int), default=20)

    idle = commands.add_parser("idle", parents=[common], help="sockets held open")
    idle.add_argument("--sockets", type=positive(int), default=1000)
    idle.add_argument("--per-room", type=positive(int), default=100)
    idle.add_argument(
        "--pid",
        type=positive(int),
        action="append",
        dest="pids",
        help="a server's PID, for its memory (once per process, with its workers)",
    )
    idle.add_argument(
        "--hold", type=float, default=0, help="seconds to hold them (default: %(default)s)"
    )

    capacity = commands.add_parser(
        "capacity", parents=[common], help="receivers until p99 passes a bound"
    )
    capacity.add_argument("--step", type=positive(int), default=100)
    capacity.add_argument("--max-sockets", type=positive(int), default=5000)
    capacity.add_argument("--p99-ms", type=positive(float), default=100)
    capacity.add_argument("--rate", type=positive(float), default=20, help="messages per second")
    capacity.add_argument("--step-seconds", type=positive(float), default=3)
    return main


SCENARIO_ARGUMENTS = {
    "fanout": ("receivers", "senders", "window", "rate", "messages", "duration"),
    "echo": ("clients", "messages", "duration"),
    "connect": ("connections", "concurrency", "duration"),
    "idle": ("sockets", "per_room", "pids", "hold"),
    "capacity": ("step", "max_sockets", "p99_ms", "rate", "step_seconds", "duration"),
}


def raise_open_files_limit():
    """Every socket is a file: take the hard limit, and say so when that is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def run_scenario(args):
    servers = [Server.at(url, allow_remote=args.allow_remote) for url in args.urls or [DEFAULT_URL]]
    # One sign-in serves every process: they share the database.
    headers = signin.handshake_headers(servers[0], args)
    run = Run(servers, headers, Progress(args.quiet))
    scenario = getattr(scenarios, args.scenario)
    options = {name: getattr(args, name) for name in SCENARIO_ARGUMENTS[args.scenario]}
    bound = args.duration + scenarios.DRAIN_TIMEOUT + 600  # opening sockets included
    async with asyncio.timeout(bound):
        found = await scenario(run, **options)
    found["server"] = ", ".join(server.url for server in servers)
    return found


def main(argv=None):
    args = parser().parse_args(argv)
    limit = raise_open_files_limit()
    wanted = getattr(args, "sockets", 0) or getattr(args, "max_sockets", 0) or 0
    if wanted + 100 > limit:
        sys.exit(f"{wanted} sockets need more open files than allowed ({limit}): see ulimit -n")
    try:
        found = asyncio.run(run_scenario(args))
    except (SignInError, RemoteServerError, Refused, ValueError) as error:
        sys.exit(f"loadtest: {error}")
    except TimeoutError:
        sys.exit("loadtest: the run passed its time bound")
    print(table(found))
    if args.json:
        text = json.dumps(found, indent=2)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as file:
                file.write(text + "\n")
    if args.plot:
        write_html(args.plot, found)


if __name__ == "__main__":
    main()
