"""The style-agnostic core of the WebSocket endpoints.

Small modules that the async and the sync consumers share: the frame format, its errors
and close codes (protocol), the WebSocket security stack (auth), the per-connection rate
limit (limits), who is in which room (presence), paging through stored frames (pages) and
``/healthz`` (health). ``consumers`` holds the one base class of every endpoint, in the
consumer style this project was baked with.
"""
