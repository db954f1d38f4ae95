"""Pages of stored frames (messages, notifications) by id, as the protocol serves them.

Each function takes a queryset and returns ``(items, truncated)``, oldest first;
``truncated`` says that more items lie beyond the page in the direction it was read.
"""


def latest(items, limit):
    """The ``limit`` newest items."""
    page = list(items.order_by("-id")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


def after(items, since, limit):
    """The first ``limit`` items with an id above ``since``."""
    page = list(items.filter(id__gt=since).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def before(items, before_id, limit):
    """The ``limit`` newest items with an id below ``before_id``."""
    return latest(items.filter(id__lt=before_id), limit)


def replay(items, since, *, latest_limit, since_limit):
    """What a connection gets first: the latest items, or those after ``since``."""
    if since is None:
        return latest(items, latest_limit)
    return after(items, since, since_limit)
