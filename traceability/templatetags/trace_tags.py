"""Chips and partial data of the traceability pages (display only)."""

from django import template
from django.utils.html import format_html

from traceability import graph as tg
from traceability import selectors
from traceability.forms import LinkRequirementForm, TestControlLinkForm

register = template.Library()

EVIDENCE_CHIPS = {
    tg.VERIFIED: "pass",
    tg.FAILED: "fail",
    tg.PENDING: "blocked",
    tg.NO_TEST: "none",
}
HAZARD_CHIPS = {
    tg.HAZARD_VERIFIED: "pass",
    tg.HAZARD_PARTIAL: "investigate",
    tg.HAZARD_NOT_VERIFIED: "fail",
    tg.HAZARD_NO_CONTROLS: "none",
}
CLASS_CHIPS = {"A": "acceptable", "B": "investigate", "C": "unacceptable"}


@register.simple_tag
def evidence_chip(status, label=""):
    """Verification evidence of a control: verified / failed / pending / no test."""
    if not status:
        return ""
    css = EVIDENCE_CHIPS.get(status, "none")
    text = f"{label} {status}".strip()
    return format_html('<span class="chip chip-{}">{}</span>', css, text)


@register.simple_tag
def verification_chip(status):
    """Verification status of a hazard."""
    if not status:
        return ""
    return format_html(
        '<span class="chip chip-{}">{}</span>', HAZARD_CHIPS.get(status, "none"), status
    )


@register.simple_tag
def class_chip(safety_class):
    """IEC 62304 software safety class, coloured like the risk regions, with the letter."""
    if not safety_class:
        return format_html('<span class="chip chip-none">—</span>')
    return format_html(
        '<span class="chip chip-{}" title="IEC 62304 4.3">Class {}</span>',
        CLASS_CHIPS.get(safety_class, "none"),
        safety_class,
    )


@register.simple_tag
def control_trace(control):
    """Requirements and verification of one control, for the control page (3 queries)."""
    return selectors.control_trace(control)


@register.simple_tag
def control_link_forms(product, control):
    return {
        "requirement": LinkRequirementForm(product=product),
        "test": TestControlLinkForm(product=product),
    }


@register.filter
def gap_label(kind):
    return tg.GAP_KINDS.get(kind, kind)
