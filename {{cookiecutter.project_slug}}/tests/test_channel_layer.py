"""The tests exercise the channel layer that production uses, not a stand-in."""

from channels.layers import get_channel_layer


def test_the_configured_channel_layer_is_in_use():
{%- if cookiecutter.channel_layer == "redis" %}
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
{%- else %}
    assert type(get_channel_layer()).__name__ == "InMemoryChannelLayer"
{%- endif %}
