"""What one presence update changed: who joined, who left, who is there now."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PresenceChange:
    members: list
    joined: list
    left: list

    @classmethod
    def between(cls, previous, current):
        """Compare two sets of ``(username, channel_name)`` entries of one room.

        A user is a member while any of their connections is; ``joined`` and ``left``
        hold the users whose first connection arrived or whose last one went.
        """
        before = {username for username, _ in previous}
        after = {username for username, _ in current}
        return cls(
            members=sorted(after), joined=sorted(after - before), left=sorted(before - after)
        )
