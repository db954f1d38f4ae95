"""Chat rooms: ``/ws/chat/<room>/``, the pages that use it, and the stored messages."""
