"""The exercises, in the order a learner meets them, and the tests that each one makes
pass. The project's root ``conftest.py`` marks those tests ``exercise(N)``; every other
test passes from the first minute."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    number: int
    title: str
    # "path::test_name": every parameter of the test counts; or "path::test_name[id]":
    # that one only. A test of an option this project was not baked with is never
    # collected.
    tests: tuple

    @property
    def anchor(self):
        return f"docs/workshop.md#exercise-{self.number}"


EXERCISES = (
    Exercise(
        1,
        "A room's messages reach that room only",
        (
            "tests/test_chat.py::test_a_message_is_stored_then_sent_to_everyone_in_the_room",
            "tests/test_chat.py::test_the_sender_name_comes_from_the_server_never_the_client",
            "tests/test_chat.py::test_rooms_are_isolated",
            "tests/test_chat.py::"
            "test_a_resent_client_id_is_stored_once_and_acknowledged_to_the_sender_alone",
            "tests/test_chat.py::"
            "test_a_message_stored_but_never_sent_goes_to_the_room_when_its_sender_reconnects",
            "tests/test_chat.py::"
            "test_a_message_stored_but_never_sent_goes_to_the_room_when_its_sender_resends_it",
            "tests/test_chat.py::"
            "test_a_delivered_message_is_not_sent_again_when_its_sender_reconnects",
            "tests/test_chat.py::test_a_message_of_exactly_2000_characters_is_accepted",
            "tests/test_commands.py::test_broadcast_stores_a_system_message_and_sends_it_to_the_room",
            "tests/test_limits.py::"
            "test_frames_over_the_rate_get_rate_limited_and_are_dropped[/ws/chat/lobby/-message]",
            "tests/test_metrics.py::test_a_group_send_and_its_frames_are_counted",
            "tests/test_redis_layer.py::test_two_processes_share_messages_and_presence",
        ),
    ),
    Exercise(
        2,
        "Who is typing, told to the others",
        ("tests/test_chat.py::test_typing_reaches_the_others_but_not_the_typist",),
    ),
    Exercise(
        3,
        "A push from a view or a management command",
        (
            "tests/test_notifications.py::"
            "test_a_notification_is_stored_then_pushed_to_every_connection_of_its_user",
            "tests/test_notifications.py::test_history_holds_the_last_50_and_since_resumes",
            "tests/test_notifications.py::test_since_returns_at_most_the_limit",
            "tests/test_notifications.py::test_staff_post_a_notification_that_is_stored_and_pushed",
            "tests/test_notifications.py::test_data_is_optional",
            "tests/test_notifications.py::test_the_notify_command_stores_and_sends",
        ),
    ),
    Exercise(
        4,
        "An anonymous socket is refused with 4001",
        (
            "tests/test_chat.py::test_an_anonymous_user_is_closed_with_4001_before_any_frame",
            "tests/test_notifications.py::"
            "test_an_anonymous_user_is_closed_with_4001_before_any_frame",
            "tests/test_metrics.py::test_refused_handshakes_are_counted_by_reason",
            "tests/test_session_auth.py::test_an_unknown_session_cookie_is_anonymous",
            "tests/test_token_auth.py::test_an_unknown_or_malformed_token_is_anonymous_and_told_why",
            "tests/test_token_auth.py::test_an_unknown_token_in_the_query_string_is_anonymous",
            "tests/test_token_auth.py::test_a_session_cookie_does_not_count",
        ),
    ),
    Exercise(
        5,
        "A test of your own with WebsocketCommunicator",
        (
            "tests/test_communicator.py::"
            "test_a_communicator_drives_the_whole_application_without_a_server",
        ),
    ),
)


def exercise_of(nodeid):
    """The number of the exercise whose tests hold ``nodeid``, or None."""
    test = nodeid.split("[", 1)[0]
    for exercise in EXERCISES:
        if nodeid in exercise.tests or test in exercise.tests:
            return exercise.number
    return None
