"""The load tool's own parts: its figures, its refusal of other machines, its plot.

What it measures against a running server is exercised by the template's benchmark.
"""

import json

import pytest

from {{ cookiecutter.project_slug }}.loadtest.http import RemoteServerError, Server
from {{ cookiecutter.project_slug }}.loadtest.measure import Recorder, percentile, summary_ms, table
from {{ cookiecutter.project_slug }}.loadtest.plot import write_html


def test_percentiles_are_nearest_rank():
    ordered = list(range(1, 101))
    assert percentile(ordered, 0.50) == 50
    assert percentile(ordered, 0.99) == 99
    assert percentile(ordered, 1.0) == 100
    assert percentile([], 0.5) is None
    assert summary_ms([0.001, 0.002, 0.003]) == {"p50": 2.0, "p90": 3.0, "p99": 3.0, "max": 3.0}


def test_a_server_off_this_machine_needs_allow_remote():
    with pytest.raises(RemoteServerError, match="--allow-remote"):
        Server.at("http://192.0.2.1:8000")
    assert Server.at("http://192.0.2.1:8000", allow_remote=True).host == "192.0.2.1"
    assert Server.at("http://127.0.0.1:8000/").websocket_url("/ws/echo/") == (
        "ws://127.0.0.1:8000/ws/echo/"
    )


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        Server.at("ftp://127.0.0.1/")


def test_the_result_prints_as_a_table_and_plots_as_one_html_file(tmp_path):
    recorder = Recorder("deliveries")
    for latency in (0.010, 0.020, 0.030):
        recorder.add(latency)
    result = {
        "scenario": "fanout",
        "description": "3 receivers",
        "unit": "deliveries",
        "server": "http://127.0.0.1:8000",
        "figures": {"deliveries/s": 1234.5},
        "latency_ms": summary_ms(recorder.latencies),
        "series": recorder.series(),
    }
    printed = table(result)
    assert "deliveries/s" in printed and "1,234" in printed and "p99 30.0" in printed
    json.dumps(result)  # --json writes it as it is

    page = tmp_path / "run.html"
    write_html(page, result)
    html = page.read_text()
    assert html.count("<svg") == 2 and "<polyline" in html
    assert "<script" not in html and "src=" not in html
