"""Who may see and who may change a product's risk file.

Groups say *what* a user may do ("Quality engineer" edits, "Auditor" reads); product
membership says *where*. Superusers may do everything. Checked server-side on every view.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

QUALITY_ENGINEER = "Quality engineer"
AUDITOR = "Auditor"


def _group_names(user) -> set[str]:
    cache = getattr(user, "_riskbench_groups", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._riskbench_groups = cache
    return cache


def is_member(user, product) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_riskbench_products", None)
    if cache is None:
        cache = set(user.memberships.values_list("product_id", flat=True))
        user._riskbench_products = cache
    return product.pk in cache


def can_edit(user, product) -> bool:
    """Quality engineers who are members edit; an auditor never does, whatever else they are."""
    if not is_member(user, product):
        return False
    if user.is_superuser:
        return True
    groups = _group_names(user)
    return QUALITY_ENGINEER in groups and AUDITOR not in groups


def require_member(user, product) -> None:
    """Non-members get 404: the product's existence is itself not theirs to know."""
    if not is_member(user, product):
        raise Http404("No such product.")


def require_editor(user, product) -> None:
    require_member(user, product)
    if not can_edit(user, product):
        raise PermissionDenied("Your role on this product is read-only.")


def is_administrator(user) -> bool:
    """Who creates products, gives people access to them and keeps the risk policy templates:
    an active superuser, or an active staff user granted the `hazards.add_product` permission
    (a delegated administrator). Editing a product's risk file never makes one: granting access
    and choosing a product's plan are management decisions (ISO 14971 4.2), so a quality
    engineer cannot create a product or add members, on any route.

    (An inactive account never reaches a page, the API or a command — authentication refuses
    it — so the only inactive superuser acting is the demo loader's system account.)"""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(user.is_active and user.is_staff and user.has_perm("hazards.add_product"))


def require_administrator(user) -> None:
    if not is_administrator(user):
        raise PermissionDenied("Only administrators create products and grant access to them.")


def role_label(user) -> str:
    if user.is_superuser:
        return "Administrator"
    groups = _group_names(user)
    if AUDITOR in groups:
        return AUDITOR
    if QUALITY_ENGINEER in groups:
        return QUALITY_ENGINEER
    return "Reader"
