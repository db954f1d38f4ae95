"""Figures of a run: latencies, counts per second, percentiles, and the progress line."""

import math
import sys
import time


def percentile(ordered, fraction):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary_ms(latencies):
    """p50, p90, p99 and max of latencies in seconds, as milliseconds."""
    ordered = sorted(latencies)
    figures = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "max": 1.0}
    return {
        name: None if (value := percentile(ordered, fraction)) is None else round(value * 1000, 2)
        for name, fraction in figures.items()
    }


class Recorder:
    """Events (a delivery, a round trip, a handshake) with their latency, by second."""

    def __init__(self, unit):
        self.unit = unit
        self.started = time.perf_counter()
        self.first = self.last = None
        self.latencies = []
        self.seconds = {}  # whole second since start -> latencies of that second

    def add(self, latency, now=None):
        now = time.perf_counter() if now is None else now
        self.first = self.first or now
        self.last = now
        self.latencies.append(latency)
        self.seconds.setdefault(int(now - self.started), []).append(latency)

    @property
    def count(self):
        return len(self.latencies)

    def rate(self, since=None):
        """Events per second from ``since`` (default: the first event) to the last one."""
        start = since or self.first
        if not self.latencies or self.last <= start:
            return 0.0
        return self.count / (self.last - start)

    def series(self):
        """Per second: events, p50 and p99 in ms (for the plot and --json)."""
        return [
            {"second": second, "count": len(values), **summary_ms(values)}
            for second, values in sorted(self.seconds.items())
        ]


class Progress:
    """One line on stderr, redrawn: what runs, how far, how fast. Silent when quiet."""

    WIDTH = 30

    def __init__(self, quiet=False):
        self.quiet = quiet or not sys.stderr.isatty()
        self.shown = False

    def show(self, label, done, total, rate=None, unit=""):
        if self.quiet:
            return
        filled = min(self.WIDTH, int(self.WIDTH * done / total)) if total else 0
        bar = "#" * filled + "." * (self.WIDTH - filled)
        speed = f"  {rate:,.0f} {unit}/s" if rate else ""
        sys.stderr.write(f"\r{label:<12} [{bar}] {done:,}/{total:,}{speed}   ")
        sys.stderr.flush()
        self.shown = True

    def done(self):
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False


def table(result):
    """The result of a scenario as the lines the tool prints."""
    lines = [f"{result['scenario']}: {result['description']}"]
    for name, value in result["figures"].items():
        lines.append(f"  {name:<30} {format_value(value)}")
    if latency := result.get("latency_ms"):
        cells = "  ".join(f"{name} {format_value(value)}" for name, value in latency.items())
        lines.append(f"  {'latency (ms)':<30} {cells}")
    for step in result.get("steps", []):
        cells = "  ".join(f"{key} {format_value(value)}" for key, value in step.items())
        lines.append(f"    {cells}")
    return "\n".join(lines)


def format_value(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
