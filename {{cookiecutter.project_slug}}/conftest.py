"""The workshop's progress bar, in pytest: the tests of each exercise are marked
``exercise(number=N)`` (the table: {{ cookiecutter.project_slug }}/workshop/exercises.py), so
that ``pytest -m "exercise(number=1)"`` runs one exercise's tests, ``pytest -m exercise``
all of them and ``python manage.py workshop`` turns them into a table. The number goes
into pytest's JUnit XML report too, as the test's property ``exercise``."""

import pytest

from {{ cookiecutter.project_slug }}.workshop.exercises import exercise_of


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "exercise(number): passes once that exercise of docs/workshop.md is done"
    )


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        number = exercise_of(item.nodeid)
        if number is not None:
            item.add_marker(pytest.mark.exercise(number=number))
            item.user_properties.append(("exercise", number))
