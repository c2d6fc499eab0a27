from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo products (idempotent) and ensure the demo login (development only)."

    def handle(self, *args, **options):
        self.stdout.write("Demo data: not yet available.")
