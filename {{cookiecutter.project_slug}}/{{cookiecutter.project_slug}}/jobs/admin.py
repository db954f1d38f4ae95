from django.contrib import admin

from {{ cookiecutter.project_slug }}.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "owner", "state", "progress", "runs", "updated_at"]
    list_filter = ["kind", "state"]
    raw_id_fields = ["owner"]
    readonly_fields = ["output"]
