from django.urls import path

from {{ cookiecutter.project_slug }}.notifications.views import NotificationCreateView

urlpatterns = [
    path("api/notifications/", NotificationCreateView.as_view(), name="api-notifications"),
]
