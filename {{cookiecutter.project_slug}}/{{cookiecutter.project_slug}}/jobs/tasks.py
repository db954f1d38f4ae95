"""What the Celery worker runs (``celery -A config worker``, see README.md)."""

import logging

from celery import shared_task

from {{ cookiecutter.project_slug }}.jobs import exports, services
from {{ cookiecutter.project_slug }}.jobs.models import Job

logger = logging.getLogger(__name__)

# Job kind -> what does its work: ``work(job, report) -> (result, output)``, where
# ``report(percent)`` tells the owner how far it got. docs/jobs.md shows how to add one.
WORK = {Job.Kind.EXPORT_ROOM: exports.export_room}


@shared_task
def run_job(job_id):
    """Run a job to its end: done, or failed with a reason its owner can read.

    The broker's message is acknowledged when this returns, and handed out again when the
    worker dies first (``CELERY_TASK_ACKS_LATE``, ``CELERY_TASK_REJECT_ON_WORKER_LOST``):
    this may run again for a job that a dead worker had started, or even ended.
    ``services.start`` lets an ended job be, and the work itself must be safe to repeat.
    """
    job = services.start(job_id)
    if job is None:
        logger.info("Job %s has ended already (or is gone): nothing to do", job_id)
        return
    try:
        result, output = WORK[job.kind](job, lambda percent: services.report_progress(job, percent))
    except services.JobError as error:
        services.fail(job, str(error))
    except Exception as error:
        logger.exception("Job %s failed", job_id)
        services.fail(job, f"unexpected error ({type(error).__name__}); see the worker's log")
    else:
        services.finish(job, result, output)
