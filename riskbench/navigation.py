"""Links and dashboard panels that the apps contribute to shared pages.

`riskbench` must not import the apps' views, and `hazards` must not import `traceability`; so
shared pages (the top bar, the product dashboard, the search box) find their contributions here
by URL name or dotted path, resolved at request time.
"""

from django.utils.http import url_has_allowed_host_and_scheme

# (label, URL name taking the product slug) — shown in the product's top navigation, in order.
PRODUCT_NAV = [
    ("Software items", "traceability:software_item_list"),
    ("Requirements", "traceability:requirement_list"),
    ("Tests", "traceability:test_case_list"),
    ("Traceability matrix", "traceability:matrix"),
    ("Coverage", "traceability:coverage"),
    ("Impact", "traceability:impact_start"),
    ("Suspect links", "traceability:suspect_links"),
    ("Problem reports", "postmarket:problem_report_list"),
    ("Vulnerabilities", "postmarket:vulnerability_list"),
    ("Field information", "postmarket:field_record_list"),
    ("Risk management report", "report:list"),
    ("Baselines", "baselines:list"),
    ("Dossier", "dossier:list"),
    ("Import / export", "integrations:index"),
    ("Risk policy", "hazards:product_policy"),
]

# (label, URL name without arguments) — shown next to the user's name.
GLOBAL_NAV = [
    ("Audit trail", "core:audit_trail"),
    ("API", "api:docs"),
]

# Dotted paths of callables `(request, product) -> (template_name, context) | None` rendered as
# panels on the product dashboard (e.g. traceability coverage).
DASHBOARD_PANELS = [
    "traceability.selectors.dashboard_panel",
    "traceability.dossier.views.dashboard_panel",
    "postmarket.views.field.dashboard_panel",
]

# Dotted paths of callables `(product, query) -> list[SearchHit]` (see hazards.selectors).
SEARCH_PROVIDERS = [
    "hazards.selectors.search_register",
    "traceability.selectors.search_traceability",
    "postmarket.selectors.search_postmarket",
]

# Dotted path of a callable `(product) -> obj` with `.hazards` and `.controls` (pk → "verified" |
# "partly" | "failed" | "none"): the verification column of the hazard log and controls list.
VERIFICATION_STATES = "traceability.verification.product_states"
# Dotted path of a callable `(product, *, hazards=pks, controls=pks) -> obj` like the above for
# those records only (one page of a list), loaded from their neighbourhood.
PAGE_VERIFICATION_STATES = "traceability.verification.states_for"


def safe_next_url(request, candidate) -> str | None:
    """`candidate` (a form's `next`) when it is a path on this site, else None: an absolute
    URL elsewhere (an open redirect) or a word that is no URL at all (`next=abc`) is ignored."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return None
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return candidate
