"""HTTP routes. WebSocket routes are in {{ cookiecutter.project_slug }}/routing.py."""

from django.contrib import admin
from django.urls import include, path
{%- if cookiecutter.auth == "token" %}
from rest_framework.authtoken.views import obtain_auth_token
{%- endif %}

from {{ cookiecutter.project_slug }}.realtime.health import healthz

urlpatterns = [
    path("", include("{{ cookiecutter.project_slug }}.chat.urls")),
    path("", include("{{ cookiecutter.project_slug }}.notifications.urls")),
{%- if cookiecutter.tasks == "celery" %}
    path("", include("{{ cookiecutter.project_slug }}.jobs.urls")),
{%- endif %}
    path("healthz", healthz, name="healthz"),
{%- if cookiecutter.auth == "session" %}
    path("accounts/", include("django.contrib.auth.urls")),
{%- elif cookiecutter.auth == "token" %}
    path("api/token/", obtain_auth_token, name="api-token"),
{%- endif %}
    path("admin/", admin.site.urls),
]
