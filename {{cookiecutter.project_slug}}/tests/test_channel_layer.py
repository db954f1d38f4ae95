"""The tests exercise the channel layer that production uses, not a stand-in."""

from django.conf import settings


def test_the_configured_channel_layer_is_in_use(channel_layer):
{%- if cookiecutter.channel_layer == "redis" %}
    assert type(channel_layer).__name__ == "RedisChannelLayer"
{%- elif cookiecutter.channel_layer == "in_memory" %}
    assert type(channel_layer).__name__ == "InMemoryChannelLayer"
{%- endif %}


def test_what_a_stalled_client_can_cost_is_bounded(channel_layer):
    """A channel nobody reads holds at most ``capacity`` messages, each for at most
    ``expiry`` seconds: both set explicitly, not left to the layer's defaults."""
    assert channel_layer.capacity == settings.CHANNEL_LAYER_CAPACITY == 100
    assert channel_layer.expiry == settings.CHANNEL_LAYER_EXPIRY == 60
