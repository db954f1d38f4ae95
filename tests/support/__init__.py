"""The machinery of the template's test suite; test modules import from here only.

- ``processes``: one way to run a subprocess, free ports, reading a process's output.
- ``redis_server``: a private ``redis-server`` on a free loopback port.
- ``clean_install``: a baked project installed as its user would install it, its
  GitHub Actions workflow run step by step.
"""
