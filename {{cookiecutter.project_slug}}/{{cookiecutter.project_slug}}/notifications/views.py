from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from {{ cookiecutter.project_slug }}.notifications.services import send_notification


class NotificationSerializer(serializers.Serializer):
    user = serializers.SlugRelatedField(
        slug_field=get_user_model().USERNAME_FIELD, queryset=get_user_model().objects.all()
    )
    text = serializers.CharField(max_length=settings.NOTIFICATIONS_TEXT_MAX_LENGTH)
    data = serializers.DictField(required=False, default=dict)


class NotificationCreateView(APIView):
    """``POST /api/notifications/``: staff send a notification to a user.

    JSON ``{"user": "<username>", "text": "...", "data": {...}}`` → 201 ``{"id": <int>}``;
    400 with the reasons for an unknown user or a missing text.
    """

    permission_classes = [IsAdminUser]

    def post(self, request):
        serializer = NotificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notification = send_notification(**serializer.validated_data)
        return Response({"id": notification.id}, status=status.HTTP_201_CREATED)
