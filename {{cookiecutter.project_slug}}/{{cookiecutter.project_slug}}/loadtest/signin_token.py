"""auth=token: obtain a token from ``/api/token/``, present it as ``Authorization``."""

from {{ cookiecutter.project_slug }}.loadtest.http import SignInError, credentials, request


def add_arguments(parser):
    group = parser.add_argument_group("sign-in (auth=token)")
    group.add_argument("--username", help="obtain a token as this user (env LOADTEST_USERNAME)")
    group.add_argument("--password", help="their password (env LOADTEST_PASSWORD)")
    group.add_argument("--token", help="a token to present instead of obtaining one")


def handshake_headers(server, args):
    """The headers that say who every socket of the run is."""
    token = args.token or obtain_token(server, *credentials(args, instead="--token"))
    return {"Authorization": f"Token {token}"}


def obtain_token(server, username, password):
    response = request(
        server, "POST", "/api/token/", json={"username": username, "password": password}
    )
    token = response.json().get("token") if response.status == 200 else None
    if not token:
        raise SignInError(f"POST /api/token/ as {username!r} answered {response.status}")
    return token
