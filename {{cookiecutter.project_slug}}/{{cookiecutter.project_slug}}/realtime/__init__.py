"""The style-agnostic core of the WebSocket endpoints.

Plain functions and small classes that both the async and the sync consumers call: the
frame format and its errors (protocol), the WebSocket security stack (auth). Nothing here
needs a socket, so every rule is tested on its own.
"""
