from django.contrib import admin

from {{ cookiecutter.project_slug }}.chat.models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "is_private", "created_at"]
    list_filter = ["is_private"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "user", "text", "created_at"]
    list_filter = ["room"]
    search_fields = ["text"]
    raw_id_fields = ["room", "user"]
