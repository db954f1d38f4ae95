from django.conf import settings
from django.db import models


class Notification(models.Model):
    """Something to tell one user. Ids grow with time: clients resume by id."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "id"])]

    def __str__(self):
        return f"{self.user} #{self.pk}"
