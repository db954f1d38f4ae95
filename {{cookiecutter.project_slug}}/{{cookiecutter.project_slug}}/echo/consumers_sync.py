from channels.generic.websocket import WebsocketConsumer

from {{ cookiecutter.project_slug }}.echo import protocol as echo
from {{ cookiecutter.project_slug }}.realtime.protocol import FrameError, decode, encode


class EchoConsumer(WebsocketConsumer):
    """Sends every ``echo`` frame back to its sender."""

    def receive(self, text_data=None, bytes_data=None):
        try:
            frame = decode(text_data, bytes_data, echo.CLIENT_TYPES)
            self.send(text_data=encode(echo.reply(frame)))
        except FrameError as error:
            self.send(text_data=encode(error.frame))
