from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from {{ cookiecutter.project_slug }}.workshop import progress

# pytest's exit codes when every test ran: all passed, some failed.
TESTS_RAN = {0, 1}


class Command(BaseCommand):
    help = "Run the workshop's exercise tests and print which exercises are done."

    def handle(self, *args, **options):
        self.stdout.write("Running the exercises' tests...")
        code, output, results = progress.run_exercise_tests(settings.BASE_DIR)
        if code not in TESTS_RAN:
            raise CommandError(f"pytest could not run the tests (exit code {code}):\n{output}")
        docs = (settings.BASE_DIR / "docs" / "workshop.md").read_text()
        self.stdout.write(progress.table(results, docs))
