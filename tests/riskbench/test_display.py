"""Every difference shown to a person uses labels and local times, not stored values: the
record history, the stale-edit message, the baseline diff and the audit trail."""

import datetime as dt

import pytest
from django.urls import reverse

from hazards import services
from hazards.models import Hazard, RiskControl
from riskbench.display import show_value
from riskbench.history import versions
from riskbench.templatetags.ui_tags import when


def field(model, name):
    return model._meta.get_field(name)


@pytest.mark.parametrize(
    ("model", "name", "value", "shown"),
    [
        (RiskControl, "option", "inherent_safety", "Inherent safety by design"),
        (Hazard, "residual_acceptability", "investigate", "Investigate further risk control"),
        (Hazard, "status", "in_review", "In review"),
        (Hazard, "updated_at", "2026-03-04T05:06:07.891+00:00", "2026-03-04 05:06 UTC"),
        (Hazard, "updated_at", dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC),
         "2026-03-04 05:06 UTC"),
        (Hazard, "title", "", "—"),
        (Hazard, "title", None, "—"),
        (None, "", True, "Yes"),
        (None, "", [{"value": 1, "name": "Minor"}, {"value": 2, "name": "Major"}],
         "1 Minor, 2 Major"),
    ],
)  # fmt: skip
def test_values_are_shown_as_labels_and_local_times(model, name, value, shown):
    assert show_value(field(model, name) if model else None, value) == shown


def test_when_reads_iso_strings_and_leaves_other_text_alone():
    assert when("2026-03-04 05:06:07+00:00") == "2026-03-04 05:06 UTC"
    assert when("Investigate further risk control") == "Investigate further risk control"
    assert when("2026-13-99 nonsense text") == "2026-13-99 nonsense text"


def test_history_shows_choice_labels_and_the_related_records_code(product, editor):
    control = services.control_create(
        product=product, by=editor, title="Dose cap", option="protective_measure"
    )
    services.control_update(
        control=control,
        by=editor,
        reason="Design change",
        option="inherent_safety",
        expected_version=control.version,
    )
    newest = versions(control)[0]
    assert [(c.field, c.old, c.new) for c in newest.changes] == [
        ("option", "Protective measure", "Inherent safety by design")
    ]


def test_history_names_the_owner_not_their_id(product, editor):
    hazard = services.hazard_create(
        product=product, by=editor, category="safety", title="Bolus twice"
    )
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Owner",
        fields={"owner": editor},
        expected_version=hazard.version,
    )
    change = next(c for c in versions(hazard)[0].changes if c.field == "owner")
    assert (change.old, change.new) == ("—", editor.get_full_name() or editor.username)


def test_stale_edit_message_lists_labels_not_stored_values(editor_client, product, editor):
    control = services.control_create(
        product=product, by=editor, title="Dose cap", option="protective_measure"
    )
    url = reverse("hazards:control_edit", args=[product.slug, control.code])
    loaded = control.version
    services.control_update(
        control=control,
        by=editor,
        reason="Meanwhile",
        option="inherent_safety",
        expected_version=control.version,
    )
    response = editor_client.post(
        url,
        {
            "title": "Mine",
            "option": "protective_measure",
            "implementation_status": control.implementation_status,
            "version": loaded,
        },
    )
    assert response.status_code == 200
    assert ("option", "Protective measure", "Inherent safety by design") in response.context[
        "stale_changes"
    ]
    html = response.content.decode()
    assert "inherent_safety" not in html.split('class="error-summary"')[1].split("</div>")[0]
