"""Per-user notifications: stored, then pushed to every connection of their user."""
