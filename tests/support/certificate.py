"""A throw-away self-signed certificate, as a baked project's deploy/certs/ would hold."""

import pytest

from tests.support.processes import require, run


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")
    run(
        [
            require("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
        ]
        + ["-subj", "/CN=localhost", "-keyout", directory / "privkey.pem"]
        + ["-out", directory / "fullchain.pem"],
        timeout=60,
    )
    return directory
