from channels.db import database_sync_to_async

from {{ cookiecutter.project_slug }}.notifications import protocol as notifications
from {{ cookiecutter.project_slug }}.notifications import services
from {{ cookiecutter.project_slug }}.realtime import access
from {{ cookiecutter.project_slug }}.realtime.consumers import FrameConsumer
from {{ cookiecutter.project_slug }}.realtime.protocol import PONG, since_from


class NotificationConsumer(FrameConsumer):
    """``/ws/notifications/``: one connection of a user to their notifications.

    ``services.send_notification`` stores a notification and sends it to the user's group;
    the process's fan-out forwards it (``realtime/fanout.py``).
    """

    group = None

    async def connect(self):
        user = self.scope["user"]
        refusal = access.refusal(user)
        if refusal is not None:
            return await self.refuse(refusal)
        # Join before reading history, so that nothing falls between the two.
        self.group = notifications.group_name(user.pk)
        await self.group_add(self.group)
        await self.accept()
        await self.send_frame(notifications.welcome(user.get_username()))
        stored, truncated = await database_sync_to_async(services.history)(
            user, since_from(self.scope)
        )
        await self.send_frame(notifications.history(stored, truncated))

    async def disconnect(self, code):
        if self.group:
            await self.group_discard(self.group)

    async def on_ping(self, frame):
        # Joining again renews the membership, which the channel layer expires after a day.
        await self.group_add(self.group)
        await self.send_frame(PONG)
