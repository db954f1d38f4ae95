"""What every page shows: the project's name (not ``site_name``, which Django's login
view sets to the request's host)."""

from django.conf import settings


def site(request):
    return {"project_name": settings.PROJECT_NAME}
