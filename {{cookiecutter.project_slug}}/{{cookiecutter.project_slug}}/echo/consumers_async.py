from {{ cookiecutter.project_slug }}.echo import protocol as echo
from {{ cookiecutter.project_slug }}.realtime.consumers import FrameConsumer


class EchoConsumer(FrameConsumer):
    """``/ws/echo/``: sends every ``echo`` frame back to its sender."""

    async def on_echo(self, frame):
        await self.send_frame(echo.reply(frame))
