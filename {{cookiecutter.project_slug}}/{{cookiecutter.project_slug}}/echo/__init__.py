"""``/ws/echo/``: the smallest endpoint, open to anyone; a first check that sockets work."""
