"""Tags that let shared pages show what other features contribute, when they are installed."""

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def optional_url(name, *args):
    """The URL of `name`, or "" when no such view exists (a feature not installed)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def optional_include(context, template_name, **extra):
    """Render `template_name` with the current context (plus `extra`) if it exists."""
    try:
        tpl = get_template(template_name)
    except TemplateDoesNotExist:
        return ""
    flat = context.flatten()
    flat.update(extra)
    return tpl.render(flat, context.get("request"))


@register.inclusion_tag("riskbench/_provenance.html")
def provenance(record):
    """What an imported file claimed about `record` (status, attribution), shown as the
    source's words, never as this system's state. One query."""
    from riskbench.provenance import provenance_of

    return {"entries": provenance_of(record)}
