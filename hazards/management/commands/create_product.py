"""`manage.py create_product SLUG --name NAME [--policy TEMPLATE] [--member USER ...]
[--manufacturer M] [--model V] [--document-number D] --user ADMIN`: open a product's risk
management file from the command line, as an administrator does on /products/new/.

The same service as the page (`hazards.services.product_create`), so the same rules: only an
administrator (superuser, or staff with the `hazards.add_product` permission) may create a
product and give people access to it; the product gets its own copy of the template as a draft
risk policy, which its team approves with a signature before any risk is evaluated.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from hazards import services
from hazards.selectors import policy_template, template_names
from riskbench.commands import CannotRun, RiskBenchCommand


class Command(RiskBenchCommand):
    help = (
        "Create a product (administrators only) with its own copy of a risk policy template "
        "and its members."
    )
    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug", help="The new product's slug (part of every URL).")
        parser.add_argument("--name", required=True, help="The product's name.")
        parser.add_argument(
            "--policy",
            metavar="TEMPLATE",
            help="Name or id of the risk policy template to copy (default: the default one).",
        )
        parser.add_argument(
            "--member",
            dest="members",
            metavar="USER",
            nargs="+",
            action="extend",
            default=[],
            help="User names given access (their role — quality engineer or auditor — is their "
            "group).",
        )
        parser.add_argument("--manufacturer", default="")
        parser.add_argument("--model", default="", help="Model / version under review.")
        parser.add_argument("--document-number", default="", help="Of the risk management file.")
        parser.add_argument(
            "--reason", default="", help="Why (kept in the audit trail with the creation)."
        )

    def handle(self, *args, user, **options):
        template = None
        if options["policy"]:
            template = policy_template(options["policy"])
            if template is None:
                raise CannotRun(
                    f"No risk policy template {options['policy']!r} "
                    f"(templates: {template_names()})."
                )
        members = [self._member(name) for name in dict.fromkeys(options["members"])]
        try:
            product = services.product_create(
                by=user,
                reason=options["reason"] or "Risk management file opened (ISO 14971 4.5)",
                members=members,
                template=template,
                slug=options["slug"],
                name=options["name"],
                manufacturer=options["manufacturer"],
                model_number=options["model"],
                document_number=options["document_number"],
            )
        except PermissionDenied as exc:
            raise CannotRun(f"{user.get_username()}: {exc}") from exc
        except ValidationError as exc:
            raise CannotRun(_messages(exc)) from exc
        policy = product.risk_policy
        names = ", ".join(m.get_username() for m in members) or "none"
        self.stdout.write(
            f"Created product {product.slug} (id {product.pk}). Risk policy: a draft copy of "
            f"{policy.template.name} v{policy.template_version}, to be approved with a "
            f"signature before risks are evaluated. Members: {names}."
        )

    def _member(self, name: str):
        User = get_user_model()
        member = User.objects.filter(**{User.USERNAME_FIELD: name}).first()
        if member is None or not member.is_active:
            raise CannotRun(f"No active user {name!r} to make a member.")
        return member


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
    return " ".join(exc.messages)
