"""``/api/jobs/``: start a job, read it, download what it made (docs/protocol.md,
"Background jobs")."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from kombu.exceptions import OperationalError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from {{ cookiecutter.project_slug }}.chat.models import Room
from {{ cookiecutter.project_slug }}.jobs import protocol, services
from {{ cookiecutter.project_slug }}.jobs.models import Job
from {{ cookiecutter.project_slug }}.jobs.tasks import run_job


class JobRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Job.Kind.choices)
    room = serializers.CharField(max_length=64)


class JobCreateView(APIView):
    """``POST /api/jobs/`` ``{"kind": "export_room", "room": "<room>"}`` → 202 and the job,
    queued; 400 for an unknown kind or room, 403 for a private room of other users, 503
    when the job queue (the broker) cannot be reached, with nothing kept."""

    def post(self, request):
        serializer = JobRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data["room"]
        try:
            services.room_to_export(name, request.user)
        except Room.DoesNotExist:
            return Response({"room": [f"no room called {name}"]}, status=400)
        except PermissionDenied as error:
            return Response({"detail": str(error)}, status=status.HTTP_403_FORBIDDEN)
        job = services.create(request.user, serializer.validated_data["kind"], {"room": name})
        services.push(job)  # before the worker can push anything of its own
        try:
            run_job.delay(str(job.id))
        except OperationalError as error:
            # The sockets saw it queued: they see it end, and the database keeps nothing.
            job.state, job.error = Job.State.FAILED, "the job queue cannot be reached"
            services.push(job)
            job.delete()
            return Response(
                {"detail": f"The job queue cannot be reached ({error}); try again later."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(protocol.job(job), status=status.HTTP_202_ACCEPTED)


class JobDetailView(APIView):
    """``GET /api/jobs/<id>/``: the job, to its owner only (404 for anyone else)."""

    def get(self, request, job_id):
        job = get_object_or_404(Job, pk=job_id, owner=request.user)
        return Response(protocol.job(job))


class JobDownloadView(APIView):
    """``GET /api/jobs/<id>/download``: what a done job made, as a JSON file; 409 before."""

    def get(self, request, job_id):
        job = get_object_or_404(Job, pk=job_id, owner=request.user)
        if job.state != Job.State.DONE:
            return Response({"detail": f"The job is {job.state}, not done."}, status=409)
        response = JsonResponse(job.output)
        filename = f"{job.kind}-{job.params.get('room', job.id)}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
