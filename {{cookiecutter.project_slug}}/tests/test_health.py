"""``/healthz``: real round trips through the database and the channel layer."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthy(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


async def test_a_failing_channel_layer_is_named(async_client, channel_layer, monkeypatch):
    async def broken_send(channel, message):
        raise ConnectionError("the layer is down")

    monkeypatch.setattr(channel_layer, "send", broken_send)
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "channel_layer": "error"}


async def test_a_failing_database_is_named(async_client, monkeypatch):
    def broken_check():
        raise ConnectionError("the database is down")

    monkeypatch.setattr("{{ cookiecutter.project_slug }}.realtime.health.check_database", broken_check)
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "channel_layer": "ok"}
