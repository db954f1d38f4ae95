from django.urls import path

from {{ cookiecutter.project_slug }}.echo.consumers import EchoConsumer

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
]
