"""auth=session: log in through Django's login form, present the session cookie."""

import re

from {{ cookiecutter.project_slug }}.loadtest.http import SignInError, credentials, request


def add_arguments(parser):
    group = parser.add_argument_group("sign-in (auth=session)")
    group.add_argument("--username", help="log in as this user (env LOADTEST_USERNAME)")
    group.add_argument("--password", help="their password (env LOADTEST_PASSWORD)")
    group.add_argument("--session-id", help="a sessionid cookie to present instead of logging in")


def handshake_headers(server, args):
    """The headers that say who every socket of the run is."""
    session_id = args.session_id or log_in(server, *credentials(args, instead="--session-id"))
    return {"Cookie": f"sessionid={session_id}"}


def log_in(server, username, password):
    """GET the login form for its CSRF cookie and token, POST it, return the sessionid."""
    page = request(server, "GET", "/accounts/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    csrf_cookie = page.cookies.get("csrftoken")
    if page.status != 200 or found is None or csrf_cookie is None:
        raise SignInError(f"GET /accounts/login/ answered {page.status} without a login form")
    response = request(
        server,
        "POST",
        "/accounts/login/",
        form={"csrfmiddlewaretoken": found.group(1), "username": username, "password": password},
        headers={
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"{server.origin}/accounts/login/",
        },
    )
    if response.status != 302 or "sessionid" not in response.cookies:
        raise SignInError(f"logging in as {username!r} failed (HTTP {response.status})")
    return response.cookies["sessionid"]
