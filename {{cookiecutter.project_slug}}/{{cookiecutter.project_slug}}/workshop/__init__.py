"""The workshop kit: which tests prove each exercise done, and ``manage.py workshop``,
the progress bar that runs them (docs/workshop.md)."""
