"""The jobs' metric on ``/metrics`` (``realtime/metrics.py``): how many jobs are in each
state, read from the database at each scrape.

The worker moves jobs on in processes, and often on machines, of its own, which the web
servers' metrics files never see; every change lands in the database. So every server
reports the same figures, those of the whole site: add them up over servers with
``max``, not ``sum``. Jobs never leave ``done`` or ``failed``: those two count the jobs
that ever reached them (but deleted ones).
"""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from {{ cookiecutter.project_slug }}.jobs.models import Job


class JobStates:
    def collect(self):
        counts = dict(Job.objects.order_by().values_list("state").annotate(Count("pk")))
        family = GaugeMetricFamily(
            "realtime_jobs",
            "Jobs in each state, from the database: the whole site's, on every server.",
            labels=["state"],
        )
        for state in Job.State:
            family.add_metric([state.value], counts.get(state.value, 0))
        yield family
