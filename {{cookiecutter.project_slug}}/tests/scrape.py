"""Reading ``/metrics`` as a scraper does: over the whole ASGI application, from a given
client address."""

from channels.testing import ApplicationCommunicator
from prometheus_client.parser import text_string_to_metric_families

from config.asgi import application

TIMEOUT = 10  # seconds for the response, on a busy machine
PRIVATE = "10.0.0.7"  # a scraper on the private network


async def get_metrics(*, client=PRIVATE, headers=()):
    """``(status, body)`` of ``GET /metrics`` from ``client`` (an address, or None for a
    server that knows none)."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/metrics",
        "raw_path": b"/metrics",
        "query_string": b"",
        "headers": [(b"host", b"10.0.0.1:8000"), *headers],
        "client": None if client is None else (client, 40000),
        "server": ("10.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(TIMEOUT)
    body = await communicator.receive_output(TIMEOUT)
    await communicator.wait(TIMEOUT)
    return start["status"], body["body"]


class Metrics:
    """One scrape's samples; parsing fails on anything but Prometheus's text format."""

    def __init__(self, text):
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in self.families.values()
            for sample in family.samples
        }

    def __call__(self, name, **labels):
        """The sample's value; 0 for a series not counted yet."""
        return self.samples.get((name, frozenset(labels.items())), 0)


async def scrape():
    status, body = await get_metrics()
    assert status == 200, body
    return Metrics(body.decode())
