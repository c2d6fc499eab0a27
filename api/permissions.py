"""Who may call the API: the same roles and product membership as the pages (`riskbench.roles`).

Anonymous callers get 401 (token) before anything else; a member of another product gets 404
(the product's existence is not theirs to know); an auditor reads but every unsafe method is
403; a quality engineer who is a member of the product reads and writes. 21 CFR 11.10(d), (g):
access limited to authorised individuals, authority checks on every operation.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from riskbench import roles

READ_ONLY_MESSAGE = "Your role on this product is read-only."


class ProductRole(BasePermission):
    """For views nested under `/api/products/{product_slug}/`: membership to read, an editor's
    role to write. `view.product` resolves (and caches) the product, raising 404 for
    non-members, so the check happens before any object is looked up."""

    message = READ_ONLY_MESSAGE

    def has_permission(self, request, view):
        product = view.product  # Http404 for non-members
        if request.method in SAFE_METHODS:
            return True
        return roles.can_edit(request.user, product)


class ProductObjectRole(BasePermission):
    """For `/api/products/` itself: listing and reading are scoped by the queryset (non-members
    get 404); editing a product needs the editor's role on it; creating one is reserved to
    administrators because membership and the risk policy are administrative decisions."""

    message = READ_ONLY_MESSAGE

    def has_permission(self, request, view):
        if view.action == "create":
            self.message = "Only administrators create products."
            return roles.is_administrator(request.user)
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return roles.can_edit(request.user, obj)
