from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.sbom import import_sbom
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = "Update the SOUP list from a CycloneDX SBOM (JSON or XML) and print the differences."

    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", help="CycloneDX SBOM, JSON or XML.")
        parser.add_argument("--dry-run", action="store_true", help="Show the diff, write nothing.")

    def handle(self, *args, product, user, **options):
        path = options["file"]
        data = self.read(path)
        try:
            diff = import_sbom(
                product=product, data=data, filename=path, by=user,
                dry_run=options["dry_run"],
            )  # fmt: skip
        except UploadError as exc:
            self.fail(path, exc)
        for change in diff.added:
            c = change.component
            self.stdout.write(f"added: {c.title} {c.version}")
        for item in diff.removed:
            self.stdout.write(
                f"removed (kept, review it): {item.code} {item.name} {item.soup_version}"
            )
        for change in diff.version_changed:
            self.stdout.write(
                f"version changed: {change.item.code} {change.item.name} "
                f"{change.old_version} → {change.component.version} (links now suspect)"
            )
        for change in diff.metadata_changed:
            self.stdout.write(f"details changed: {change.item.code} {', '.join(change.fields)}")
        prefix = "Dry run: " if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{diff.summary()}."))
