from django.urls import path

from {{ cookiecutter.project_slug }}.jobs import api

urlpatterns = [
    path("api/jobs/", api.JobCreateView.as_view(), name="api-jobs"),
    path("api/jobs/<uuid:job_id>/", api.JobDetailView.as_view(), name="api-job"),
    path("api/jobs/<uuid:job_id>/download", api.JobDownloadView.as_view(), name="api-job-download"),
]
