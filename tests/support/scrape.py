"""``/metrics`` as Prometheus reads it: the text format, parsed into samples."""

from prometheus_client.parser import text_string_to_metric_families


class Metrics:
    """One scrape's samples; parsing fails on anything but Prometheus's text format."""

    def __init__(self, text):
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def __call__(self, name, **labels):
        """The sample's value; 0 for a series not counted yet."""
        return self.samples.get((name, frozenset(labels.items())), 0)
