from riskbench.commands import CannotRun
from traceability.integrations import mappings
from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.models import ImportMapping


class Command(IntegrationCommand):
    help = (
        "Saved column mappings of a product: `list`, `show NAME` (the JSON document, reusable "
        "with --mapping), `save NAME FILE.json --user USER`."
    )

    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("action", choices=("list", "show", "save"))
        parser.add_argument("name", nargs="?", help="Mapping name (show, save).")
        parser.add_argument("file", nargs="?", help="Mapping file to save (save).")

    def needs_user(self, options) -> bool:
        return options.get("action") == "save"

    def handle(self, *args, product, user, action, name, file, **options):
        if action == "list":
            for saved in ImportMapping.objects.filter(product=product).order_by("name"):
                sheets = ", ".join(mappings.document(saved)["sheets"])
                self.stdout.write(f"{saved.name}\t{sheets}\t{saved.updated_at:%Y-%m-%d %H:%M}")
            return
        if not name:
            raise CannotRun(f"`{action}` needs a mapping NAME.")
        try:
            if action == "show":
                saved = ImportMapping.objects.filter(product=product, name=name).first()
                if saved is None:
                    raise CannotRun(f"No saved mapping {name!r} for {product.slug}.")
                self.stdout.write(mappings.dumps(mappings.document(saved)), ending="")
                return
            if not file:
                raise CannotRun("`save` needs NAME and FILE.json.")
            mappings.save(product, name, mappings.load(product, file), by=user)
        except mappings.MappingError as exc:
            raise CannotRun(str(exc)) from exc
        self.stdout.write(f"Saved mapping {name!r}.")
