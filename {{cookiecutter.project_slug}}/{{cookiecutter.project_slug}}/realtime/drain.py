"""A graceful stop: on SIGTERM, every WebSocket is closed with 1001 before the server stops.

Left to themselves, the servers end their sockets abruptly on SIGTERM: Uvicorn closes
each with 1012 as it stops, and Daphne cancels its consumers and drops their sockets
without a close frame, so no ``disconnect()`` runs and the connections stay in the rooms'
members until ``PRESENCE_TTL``. So the first WebSocket a process serves puts a handler
of this module's in front of the server's own. On SIGTERM the process is draining:
Daphne stops listening (``disconnects.stop_listening``), ``/healthz`` answers 503, a
WebSocket that still arrives is closed with 1001 as soon as it opens, and every open one
is closed with 1001 in its turn, through the consumer's own ``close()``, so that its
``disconnect()`` runs when the client answers. Once they are all closed, or after
``DRAIN_TIMEOUT`` seconds, the server's handler runs and it stops as before.

Nothing is installed where no server handles SIGTERM (the test suite, a management
command) or where the application does not run on the main thread (``runserver``'s
autoreloader): signal handlers belong to the main thread.
"""

import asyncio
import contextvars
import logging
import signal
import threading
import weakref

from {{ cookiecutter.project_slug }}.realtime import disconnects

logger = logging.getLogger(__name__)

# Seconds the open WebSockets get to close before the server stops anyway.
DRAIN_TIMEOUT = 5


class Drain:
    """The open WebSockets of this process, and whether it is draining."""

    def __init__(self, timeout=DRAIN_TIMEOUT):
        self.timeout = timeout
        # Weak: a consumer that ends without being forgotten is not kept alive by this.
        self.open = weakref.WeakSet()
        self.draining = False
        self.installed = False
        self.all_closed = None  # while draining: an asyncio.Event, set once none is open
        self.task = None  # the drain, once SIGTERM came: the loop keeps weak references only

    def opened(self, consumer):
        """A WebSocket connection began: called on the server's event loop."""
        self.install()
        self.open.add(consumer)

    def closed(self, consumer):
        self.open.discard(consumer)
        if self.all_closed is not None and not self.open:
            self.all_closed.set()

    def install(self):
        """Put :meth:`on_sigterm` in front of the server's SIGTERM handler, once. By the
        time a WebSocket is served, both servers have installed theirs."""
        if self.installed:
            return
        self.installed = True
        server_handler = signal.getsignal(signal.SIGTERM)
        if threading.current_thread() is not threading.main_thread() or not callable(
            server_handler
        ):
            return
        loop = asyncio.get_running_loop()

        def on_sigterm(signum, frame):
            if self.draining:  # a second SIGTERM: stop now
                server_handler(signum, frame)
            else:
                self.draining = True
                # A signal handler runs between any two bytecodes of the main thread, in
                # the context of whatever task it interrupted: the drain starts on the
                # loop, in a context of its own. (Inheriting a consumer's would make
                # sync_to_async refuse the sync consumers' close: "would deadlock".)
                loop.call_soon_threadsafe(
                    self.start, server_handler, signum, context=contextvars.Context()
                )

        signal.signal(signal.SIGTERM, on_sigterm)

    def start(self, stop, signum):
        self.task = asyncio.create_task(self.drain(stop, signum))

    async def drain(self, stop=None, signum=signal.SIGTERM):
        """Close every open WebSocket with 1001, wait until they have closed (at most
        ``timeout`` seconds), then call ``stop(signum, None)``: the server's handler."""
        self.draining = True
        disconnects.stop_listening()
        self.all_closed = asyncio.Event()
        consumers = list(self.open)
        logger.info("Draining: closing %d WebSocket(s) with 1001", len(consumers))
        if not consumers:
            self.all_closed.set()
        closing = [asyncio.create_task(consumer.go_away()) for consumer in consumers]
        try:
            async with asyncio.timeout(self.timeout):
                await self.all_closed.wait()
        except TimeoutError:
            logger.warning(
                "Draining: %d WebSocket(s) still open after %s s", len(self.open), self.timeout
            )
        for task in closing:
            if not task.done():
                task.cancel()
            elif not task.cancelled() and task.exception() is not None:
                logger.error("Closing a WebSocket with 1001 failed", exc_info=task.exception())
        if stop is not None:
            stop(signum, None)


# This process's.
current = Drain()
