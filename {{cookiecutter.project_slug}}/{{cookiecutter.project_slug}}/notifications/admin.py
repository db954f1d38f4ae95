from django.contrib import admin

from {{ cookiecutter.project_slug }}.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "text", "created_at"]
    search_fields = ["text", "user__username"]
    raw_id_fields = ["user"]
