from django.apps import apps
from django.urls import NoReverseMatch, reverse

from riskbench import navigation as nav
from riskbench import roles


def _links(entries, args=()):
    links = []
    for label, name in entries:
        try:
            links.append({"label": label, "url": reverse(name, args=args)})
        except NoReverseMatch:
            continue  # contributed by a feature not installed (yet)
    return links


def navigation_context(request):
    """Top bar: the user's products (switcher), the current product's navigation, role label."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    product = getattr(request, "current_product", None)
    if user.is_superuser:
        products = apps.get_model("hazards", "Product").objects.only("pk", "name", "slug")
    else:
        products = user.products.only("pk", "name", "slug")
    context = {
        "nav_products": list(products),
        "current_product": product,
        "global_nav_links": _links(nav.GLOBAL_NAV),
        "user_role_label": roles.role_label(user),
    }
    if product is not None:
        context["product_nav_links"] = _links(nav.PRODUCT_NAV, args=[product.slug])
        context["can_edit"] = roles.can_edit(user, product)
    return context
