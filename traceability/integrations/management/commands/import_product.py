from django.core.exceptions import PermissionDenied

from hazards.selectors import policy_template, template_names
from riskbench.commands import CannotRun
from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.product_json import import_product
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = (
        "Create a product from a product JSON export (all or nothing; administrators only). "
        "Its risk policy is a new draft with the file's criteria, or a copy of --policy TEMPLATE."
    )

    takes_product = False  # it creates one
    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", help="FILE.json written by export_product.")
        parser.add_argument("--slug", help="Import under this slug instead of the file's.")
        parser.add_argument("--name", help="Import under this name instead of the file's.")
        parser.add_argument(
            "--policy",
            metavar="TEMPLATE",
            help="Name or id of a risk policy template to copy instead of the file's criteria.",
        )

    def handle(self, *args, user, **options):
        path = options["file"]
        template = None
        if options["policy"]:
            template = policy_template(options["policy"])
            if template is None:
                raise CannotRun(
                    f"No risk policy template {options['policy']!r} "
                    f"(templates: {template_names()})."
                )
        data = self.read(path)
        try:
            result = import_product(
                data=data, by=user, slug=options["slug"], name=options["name"],
                template=template,
            )  # fmt: skip
        except PermissionDenied as exc:
            raise CannotRun(f"{user.get_username()}: {exc}") from exc
        except UploadError as exc:
            self.fail(path, exc)
        for warning in result.warnings:
            self.stdout.write(f"warning: {warning}")
        counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Imported {result.product.slug}: {counts}."))
