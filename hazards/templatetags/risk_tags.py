"""Risk chips and status chips: colour of the matrix region, always with the words too."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from hazards import risk

register = template.Library()


@register.simple_tag
def risk_chip(acceptability, category="safety", index=None):
    if not acceptability:
        if index:  # estimated on the scales, but the product's policy is not approved yet
            return format_html(
                '<span class="chip chip-none" title="Risk index {}">Not evaluated — risk policy '
                "not approved ({})</span>",
                index,
                index,
            )
        return mark_safe('<span class="chip chip-none">Not estimated</span>')  # noqa: S308 - constant
    label = risk.ACCEPTABILITY_LABELS[risk.Category(category)][risk.Acceptability(acceptability)]
    suffix = f" ({index})" if index else ""
    return format_html(
        '<span class="chip chip-{}" title="Risk index {}">{}{}</span>',
        acceptability,
        index or "—",
        label,
        suffix,
    )


@register.simple_tag
def status_chip(status, label=None):
    return format_html('<span class="chip chip-status">{}</span>', label or status)


@register.simple_tag
def result_chip(result, label=None):
    if not result:
        return mark_safe('<span class="chip chip-none">No run</span>')  # noqa: S308 - constant
    return format_html('<span class="chip chip-{}">{}</span>', result, label or result.title())


@register.inclusion_tag("hazards/_heatmap.html")
def heat_map(grid, caption="", link="", prefix=""):
    """A heat map; with `link` (the hazard log's URL) each counted cell links to the log
    filtered to exactly its hazards (`prefix` "residual_" for the residual map)."""
    return {"grid": grid, "caption": caption, "link": link, "prefix": prefix}
