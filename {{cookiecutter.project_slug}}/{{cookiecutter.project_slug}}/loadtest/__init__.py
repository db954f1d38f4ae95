"""A load tool for a running server of this project: ``python -m {{ cookiecutter.project_slug }}.loadtest``.

It is a client and needs nothing of Django: it signs in over HTTP the way the project
does, opens WebSockets and speaks the project's protocol (docs/protocol.md). Scenarios
live in :mod:`.scenarios`, figures in :mod:`.measure`, the HTML plot in :mod:`.plot`.
"""
