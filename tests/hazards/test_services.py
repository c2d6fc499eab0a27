"""Writes to the risk register go through `hazards.services`: numbering, derived risk fields,
history with user and reason (21 CFR 11.10(e)), optimistic locking (no lost update), the
approval rules (ISO 14971 7.3, 7.4), policy re-evaluation (4.4 d) and trace links."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from hazards import services
from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
)
from riskbench.models import Status
from riskbench.services import StaleEditError, diff_versions
from tests import factories

NETWORK_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8, exploitability 5
PHYSICAL_VECTOR = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H"  # 6.0, exploitability 1


def safety(product, by, **fields):
    values = {
        "category": "safety",
        "title": "Over-delivery of insulin after occlusion release",
        "hazard": "Stored insulin under pressure",
        "harm": "Severe hypoglycaemia",
        "severity": 4,
        "p1": 3,
        "p2": 2,  # P = Remote (2): Critical × Remote → investigate further risk control
    }
    values.update(fields)
    return services.hazard_create(product=product, by=by, reason="Hazard analysis", **values)


def security(product, by, **fields):
    values = {
        "category": "security",
        "title": "Unauthenticated bolus command over BLE",
        "asset": "Bolus command channel",
        "threat": "tampering",
        "vulnerability": "Pairing without authentication",
        "severity": 5,
        "cvss_vector": NETWORK_VECTOR,
    }
    values.update(fields)
    return services.hazard_create(product=product, by=by, reason="Threat model", **values)


def approvable(product, by, **fields):
    """A safety row whose initial and residual risk are acceptable: approvable without control."""
    return safety(
        product, by, severity=2, p1=1, p2=1, residual_severity=2, residual_p1=1, residual_p2=1,
        **fields,
    )  # fmt: skip


def approve(hazard, by):
    """draft → in review → approved, as the workflow requires."""
    hazard.refresh_from_db()
    if hazard.status != Status.IN_REVIEW:
        hazard = services.record_set_status(
            record=hazard, status=Status.IN_REVIEW, by=by, expected_version=hazard.version
        )
    return services.record_set_status(
        record=hazard, status=Status.APPROVED, by=by, expected_version=hazard.version
    )


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- numbering ------------------------------------------------------------------------------


def test_codes_are_numbered_haz_001_haz_002(product, editor):
    assert safety(product, editor).code == "HAZ-001"
    assert safety(product, editor).code == "HAZ-002"
    assert security(product, editor).code == "HAZ-003"


def test_codes_are_independent_per_product(product, other_product, editor):
    safety(product, editor)
    safety(product, editor)
    assert safety(other_product, editor).code == "HAZ-001"
    assert safety(product, editor).code == "HAZ-003"


def test_after_haz_009_comes_haz_010(product, editor):
    safety(product, editor, code="HAZ-009")
    assert safety(product, editor).code == "HAZ-010"
    assert safety(product, editor).code == "HAZ-011"


def test_numbering_continues_after_the_highest_code_not_in_gaps(product, editor):
    safety(product, editor, code="HAZ-001")
    safety(product, editor, code="HAZ-005")
    assert safety(product, editor).code == "HAZ-006"


def test_numbering_ignores_codes_of_another_form(product, editor):
    safety(product, editor, code="HAZ-7A")
    safety(product, editor, code="SEC-040")
    assert safety(product, editor).code == "HAZ-001"


def test_numbering_goes_past_999(product, editor):
    safety(product, editor, code="HAZ-999")
    assert safety(product, editor).code == "HAZ-1000"


def test_code_of_a_deleted_hazard_is_never_reused(product, editor):
    """Deleted rows stay in the audit trail under their code; a new row must not take it."""
    safety(product, editor)
    last = safety(product, editor)
    services.hazard_delete(
        hazard=last, by=editor, reason="Duplicate of HAZ-001", expected_version=last.version
    )
    assert safety(product, editor).code == "HAZ-003"


def test_duplicate_code_is_refused_naming_the_field(product, editor):
    safety(product, editor, code="HAZ-004")
    with pytest.raises(ValidationError) as excinfo:
        safety(product, editor, code="HAZ-004")
    assert "__all__" in excinfo.value.message_dict or "code" in excinfo.value.message_dict
    assert Hazard.objects.filter(product=product).count() == 1


def test_controls_are_numbered_rc_001_per_product(product, other_product, editor):
    def create(p):
        return services.control_create(
            product=p, by=editor, title="Occlusion detection", option="protective_measure"
        )

    assert create(product).code == "RC-001"
    assert create(product).code == "RC-002"
    assert create(other_product).code == "RC-001"


# --- derived fields -------------------------------------------------------------------------


def test_safety_row_derives_probability_index_and_acceptability(product, editor):
    hazard = reload(
        safety(product, editor, severity=4, p1=4, p2=3, residual_severity=4, residual_p1=1,
               residual_p2=3)
    )  # fmt: skip
    # P1 Likely × P2 Possible → Probable (4, the higher decade); Critical × Probable → unacceptable.
    assert (hazard.probability, hazard.initial_risk_index) == (4, 16)
    assert hazard.initial_acceptability == "unacceptable"
    # P1 Very unlikely × P2 Possible → Improbable (1); Critical × Improbable → acceptable.
    assert (hazard.residual_probability, hazard.residual_risk_index) == (1, 4)
    assert hazard.residual_acceptability == "acceptable"
    assert hazard.cvss_base_score is None


def test_security_row_scores_its_cvss_vector(product, editor):
    hazard = reload(
        security(product, editor, cvss_vector="CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H")
    )
    assert hazard.cvss_base_score == Decimal("9.8")
    assert hazard.cvss_vector == NETWORK_VECTOR  # canonical order
    assert hazard.probability == 5
    assert hazard.initial_acceptability == "unacceptable"
    assert hazard.initial_risk_index == 25


def test_security_residual_from_residual_cvss_vector(product, editor):
    hazard = reload(
        security(product, editor, residual_severity=5,
                 residual_cvss_vector="CVSS:3.1/S:U/AV:P/AC:H/PR:H/UI:R/C:H/I:H/A:H")
    )  # fmt: skip
    assert hazard.residual_probability == 1
    assert hazard.residual_acceptability == "investigate"  # Catastrophic × Very low
    assert hazard.residual_cvss_vector == PHYSICAL_VECTOR  # normalised like the initial one


def test_privacy_row_uses_impact_and_likelihood(product, editor):
    hazard = reload(
        services.hazard_create(
            product=product, by=editor, category="privacy", title="Glucose history re-identified",
            data_elements=["dates", "device_ids"], linddun_category="identifying",
            severity=2, probability=3,
        )
    )  # fmt: skip
    assert hazard.initial_acceptability == "investigate"  # Limited × Significant
    assert hazard.initial_risk_index == 6


def test_severity_alone_is_evaluated_at_the_worst_probability(product, editor):
    hazard = reload(safety(product, editor, severity=3, p1=None, p2=None))
    assert hazard.probability is None
    assert hazard.initial_acceptability == "unacceptable"  # Serious × Frequent
    assert hazard.initial_risk_index == 15


def test_row_without_estimate_is_not_estimated(product, editor):
    hazard = reload(safety(product, editor, severity=None, p1=None, p2=None))
    assert hazard.initial_acceptability == ""
    assert hazard.initial_risk_index is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"p2": None}, "p2"),
        ({"p1": None}, "p1"),
        ({"p2": 9}, "p2"),
        ({"severity": 6}, "severity"),
        ({"residual_severity": 7}, "residual_severity"),
        ({"residual_severity": 2, "residual_p1": 2}, "residual_p2"),
    ],
)
def test_invalid_estimate_is_refused_naming_the_field_and_nothing_is_saved(
    product, editor, fields, field
):
    with pytest.raises(ValidationError) as excinfo:
        safety(product, editor, **fields)
    assert field in excinfo.value.message_dict
    assert not Hazard.objects.filter(product=product).exists()


def test_malformed_cvss_vector_is_refused_naming_the_field(product, editor):
    with pytest.raises(ValidationError) as excinfo:
        security(product, editor, cvss_vector="CVSS:3.1/AV:N/AC:L")
    assert "cvss_vector" in excinfo.value.message_dict
    assert not Hazard.objects.exists()


# --- category-specific fields ---------------------------------------------------------------


def test_security_fields_are_cleared_when_a_row_becomes_safety(product, editor):
    hazard = security(product, editor)
    hazard = services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Re-categorised",
        category="safety",
        p1=2,
        p2=3,
        expected_version=hazard.version,
    )
    hazard = reload(hazard)
    assert (hazard.asset, hazard.threat, hazard.vulnerability, hazard.cvss_vector) == ("",) * 4
    assert hazard.cvss_base_score is None
    assert (hazard.p1, hazard.p2, hazard.probability) == (2, 3, 2)


def test_safety_fields_are_cleared_when_a_row_becomes_privacy(product, editor):
    hazard = safety(product, editor, residual_severity=2, residual_p1=1, residual_p2=1)
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, reason="Re-categorised", category="privacy",
            severity=3, probability=2, residual_severity=2, residual_probability=1,
            data_elements=["names"], expected_version=hazard.version,
        )
    )  # fmt: skip
    assert (hazard.p1, hazard.p2, hazard.residual_p1, hazard.residual_p2) == (None,) * 4
    assert hazard.data_elements == ["names"]
    assert hazard.initial_acceptability == "investigate"  # Significant × Limited


def test_privacy_fields_are_cleared_when_a_row_becomes_safety(product, editor):
    hazard = services.hazard_create(
        product=product, by=editor, category="privacy", title="Location history leaked",
        data_elements=["addresses"], linddun_category="linking", severity=3, probability=3,
    )  # fmt: skip
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, category="safety", expected_version=hazard.version
        )
    )
    assert hazard.data_elements == []
    assert hazard.linddun_category == ""


def test_likelihood_is_not_carried_into_another_category(product, editor):
    """A probability of harm is not an exploitability: after a change of category without a
    new likelihood, the row is evaluated on severity alone rather than on a stale value."""
    hazard = safety(product, editor, severity=3, p1=1, p2=1)  # Serious × Improbable
    assert hazard.probability == 1
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, category="security", expected_version=hazard.version
        )
    )
    assert hazard.probability is None
    assert hazard.initial_acceptability == "unacceptable"  # Serious × worst exploitability


def test_likelihood_given_with_the_new_category_is_used(product, editor):
    hazard = safety(product, editor, severity=3, p1=1, p2=1)
    hazard = reload(
        services.hazard_update(
            hazard=hazard,
            by=editor,
            category="security",
            probability=2,
            expected_version=hazard.version,
        )
    )
    assert hazard.probability == 2
    assert hazard.initial_acceptability == "acceptable"  # Serious × Low


def test_severity_is_not_carried_into_or_out_of_privacy(product, editor):
    """Privacy's impact on data subjects is another scale than the severity of harm."""
    hazard = safety(product, editor, severity=3, p1=1, p2=1)
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, category="privacy", expected_version=hazard.version
        )
    )
    assert (hazard.severity, hazard.probability, hazard.initial_acceptability) == (None, None, "")
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, severity=4, probability=4, expected_version=hazard.version
        )
    )
    assert hazard.initial_acceptability == "unacceptable"
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, category="security", expected_version=hazard.version
        )
    )
    assert (hazard.severity, hazard.probability) == (None, None)


def test_severity_is_kept_between_safety_and_security(product, editor):
    hazard = safety(product, editor, severity=4, p1=2, p2=2)
    hazard = reload(
        services.hazard_update(
            hazard=hazard, by=editor, category="security", expected_version=hazard.version
        )
    )
    assert hazard.severity == 4


# --- history --------------------------------------------------------------------------------


def test_create_leaves_a_history_row_with_user_and_reason(product, editor):
    hazard = safety(product, editor)
    row = hazard.history.get()
    assert row.history_type == "+"
    assert row.history_user == editor
    assert row.history_change_reason == "Hazard analysis"
    assert (row.code, row.severity, row.initial_acceptability) == ("HAZ-001", 4, "investigate")


def test_update_leaves_a_history_row_with_the_changed_fields(product, editor, auditor):
    hazard = safety(product, editor)
    services.hazard_update(
        hazard=hazard, by=editor, reason="Field data: occlusions more frequent", p1=5,
        expected_version=1,
    )  # fmt: skip
    new, old = hazard.history.order_by("-history_date", "-history_id")[:2]
    assert new.history_type == "~"
    assert new.history_user == editor
    assert new.history_change_reason == "Field data: occlusions more frequent"
    # simple-history's diff_against covers the editable fields only …
    delta = new.diff_against(old)
    assert set(delta.changed_fields) == {"p1", "probability"}
    assert {c.field: (c.old, c.new) for c in delta.changes}["p1"] == (3, 5)
    # … so the derived evaluation, which is not editable, is checked on the rows themselves.
    assert (old.probability, new.probability) == (2, 4)
    assert (old.initial_risk_index, new.initial_risk_index) == (8, 16)
    assert (old.initial_acceptability, new.initial_acceptability) == ("investigate", "unacceptable")
    assert (old.version, new.version) == (1, 2)
    # The project's own diff (used for stale-edit messages) includes the derived fields.
    changed = {name for name, _, _ in diff_versions(old, new)}
    assert changed == {"P1", "probability", "initial risk index", "initial acceptability"}


def test_update_without_reason_records_a_default_reason(product, editor):
    hazard = safety(product, editor)
    services.hazard_update(
        hazard=hazard, by=editor, title="Bolus over-delivery", expected_version=hazard.version
    )
    assert hazard.history.first().history_change_reason == "Edited"


# --- optimistic locking ---------------------------------------------------------------------


def test_stale_edit_is_refused_and_nothing_is_overwritten(product, editor):
    other_editor = factories.UserFactory(username="second", role="Quality engineer")
    hazard = safety(product, editor)
    first_client = Hazard.objects.get(pk=hazard.pk)  # both load version 1
    second_client = Hazard.objects.get(pk=hazard.pk)

    services.hazard_update(
        hazard=first_client, by=other_editor, reason="Reworded", expected_version=1,
        title="Bolus larger than programmed",
    )  # fmt: skip
    with pytest.raises(StaleEditError) as excinfo:
        services.hazard_update(
            hazard=second_client, by=editor, reason="Harm", expected_version=1,
            harm="Death from hypoglycaemia", severity=5,
        )  # fmt: skip

    error = excinfo.value
    assert error.expected_version == 1
    assert error.instance.version == 2
    assert ("title", "Over-delivery of insulin after occlusion release",
            "Bolus larger than programmed") in error.changes  # fmt: skip
    assert "second" in str(error)
    assert "Nothing was saved" in str(error)
    current = reload(hazard)
    assert current.title == "Bolus larger than programmed"
    assert current.harm == "Severe hypoglycaemia"
    assert current.severity == 4
    assert current.version == 2
    assert current.history.count() == 2


def test_edit_at_the_current_version_is_accepted(product, editor):
    hazard = safety(product, editor)
    services.hazard_update(hazard=hazard, by=editor, expected_version=1, title="A")
    updated = services.hazard_update(hazard=hazard, by=editor, expected_version=2, title="B")
    assert (updated.title, updated.version) == ("B", 3)


def test_stale_control_edit_is_refused(product, editor):
    control = services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )
    services.control_update(control=control, by=editor, expected_version=1, title="Alarm")
    with pytest.raises(StaleEditError):
        services.control_update(control=control, by=editor, expected_version=1, title="Other")
    assert reload(control).title == "Alarm"


# --- approval workflow ----------------------------------------------------------------------


def test_editing_an_approved_hazard_needs_a_reason(product, editor):
    hazard = approve(approvable(product, editor), editor)
    version = hazard.version
    with pytest.raises(ValidationError) as excinfo:
        services.hazard_update(
            hazard=hazard, by=editor, reason="  ", title="Changed", expected_version=hazard.version
        )
    assert "change_reason" in excinfo.value.message_dict
    current = reload(hazard)
    assert (current.status, current.version, current.revision) == ("approved", version, 1)
    assert current.title != "Changed"


def test_editing_an_approved_hazard_with_reason_returns_it_to_review(product, editor):
    hazard = approve(approvable(product, editor), editor)
    updated = services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="CAPA-112: new use scenario",
        title="Changed",
        expected_version=hazard.version,
    )
    current = reload(updated)
    assert current.status == Status.IN_REVIEW
    assert current.revision == 2
    assert current.version == hazard.version + 1
    assert current.history.first().history_change_reason == "CAPA-112: new use scenario"


def test_reopening_an_approved_hazard_makes_a_new_revision(product, editor):
    hazard = approve(approvable(product, editor), editor)
    reopened = services.record_set_status(
        record=hazard,
        status=Status.IN_REVIEW,
        by=editor,
        reason="Post-market complaint",
        expected_version=hazard.version,
    )
    assert (reopened.status, reopened.revision) == ("in_review", 2)
    # Editing it now does not count another revision: it is no longer approved.
    edited = services.hazard_update(
        hazard=reopened, by=editor, reason="", title="Reworded", expected_version=reopened.version
    )
    assert edited.revision == 2


def test_approval_without_residual_estimate_is_refused(product, editor):
    hazard = safety(product, editor, severity=2, p1=1, p2=1)
    with pytest.raises(ValidationError) as excinfo:
        approve(hazard, editor)
    assert "residual_severity" in excinfo.value.message_dict
    assert reload(hazard).status == Status.IN_REVIEW  # submitted, but not approved
    assert reload(hazard).history.count() == 2


def test_approval_with_unacceptable_residual_needs_benefit_risk(product, editor):
    hazard = safety(
        product, editor, severity=5, p1=5, p2=5, residual_severity=5, residual_p1=3, residual_p2=3
    )
    control = services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )
    services.hazard_control_link(hazard=hazard, control=control, by=editor)
    with pytest.raises(ValidationError) as excinfo:
        approve(hazard, editor)
    assert list(excinfo.value.message_dict) == ["benefit_risk_justification"]

    hazard = services.hazard_update(
        hazard=hazard, by=editor, reason="Benefit-risk analysis BRA-3",
        benefit_risk_justification="Insulin therapy benefit outweighs the residual risk.",
        expected_version=hazard.version,
    )  # fmt: skip
    assert approve(hazard, editor).status == Status.APPROVED


def test_approval_of_unacceptable_initial_risk_without_controls_is_refused(product, editor):
    hazard = safety(product, editor, severity=4, p1=4, p2=4, residual_severity=4, residual_p1=1,
                    residual_p2=1)  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        approve(hazard, editor)
    assert "controls" in excinfo.value.message_dict


def test_approval_is_recorded_with_user_and_reason(product, editor):
    hazard = approvable(product, editor)
    hazard = services.record_set_status(
        record=hazard, status=Status.IN_REVIEW, by=editor, expected_version=hazard.version
    )
    approved = services.record_set_status(
        record=hazard,
        status=Status.APPROVED,
        by=editor,
        reason="Review meeting 2024-05",
        expected_version=hazard.version,
    )
    assert approved.status == Status.APPROVED
    row = approved.history.first()
    assert (row.history_user, row.history_change_reason) == (editor, "Review meeting 2024-05")
    assert row.status == "approved"


def test_unknown_status_is_refused(product, editor):
    hazard = approvable(product, editor)
    with pytest.raises(ValidationError) as excinfo:
        services.record_set_status(
            record=hazard, status="released", by=editor, expected_version=hazard.version
        )
    assert "status" in excinfo.value.message_dict


def test_stale_status_change_is_refused(product, editor):
    hazard = approvable(product, editor)
    services.hazard_update(
        hazard=hazard, by=editor, title="Reworded", expected_version=hazard.version
    )
    with pytest.raises(StaleEditError):
        services.record_set_status(
            record=hazard, status=Status.APPROVED, by=editor, expected_version=1
        )


# --- links ----------------------------------------------------------------------------------


@pytest.fixture
def control(product, editor):
    return services.control_create(
        product=product, by=editor, title="Occlusion detection by motor current",
        option="protective_measure",
    )  # fmt: skip


def test_hazard_control_link_records_versions_user_and_history(product, editor, control):
    hazard = safety(product, editor)
    hazard = services.hazard_update(
        hazard=hazard, by=editor, title="Reworded", expected_version=hazard.version
    )  # version 2
    link = services.hazard_control_link(hazard=hazard, control=control, by=editor, reason="7.1")
    assert (link.source_version, link.target_version) == (2, 1)
    assert link.created_by == editor
    assert not link.is_suspect
    row = link.history.get()
    assert (row.history_user, row.history_change_reason) == (editor, "7.1")


def test_cross_product_links_are_refused(product, other_product, editor, control):
    foreign = safety(other_product, editor)
    with pytest.raises(ValidationError):
        services.hazard_control_link(hazard=foreign, control=control, by=editor)
    with pytest.raises(ValidationError):
        services.control_introduces_link(control=control, hazard=foreign, by=editor)
    foreign_security = security(other_product, editor)
    with pytest.raises(ValidationError):
        services.hazard_transfer_link(
            security_hazard=foreign_security, safety_hazard=safety(product, editor), by=editor
        )
    assert not HazardControl.objects.exists()
    assert not ControlIntroducedHazard.objects.exists()
    assert not HazardTransfer.objects.exists()


def test_duplicate_links_are_refused(product, editor, control):
    hazard = safety(product, editor)
    services.hazard_control_link(hazard=hazard, control=control, by=editor)
    with pytest.raises(ValidationError, match="already"):
        services.hazard_control_link(hazard=hazard, control=control, by=editor)
    services.control_introduces_link(control=control, hazard=hazard, by=editor)
    with pytest.raises(ValidationError, match="already"):
        services.control_introduces_link(control=control, hazard=hazard, by=editor)
    sec = security(product, editor)
    services.hazard_transfer_link(security_hazard=sec, safety_hazard=hazard, by=editor)
    with pytest.raises(ValidationError):
        services.hazard_transfer_link(security_hazard=sec, safety_hazard=hazard, by=editor)
    assert HazardControl.objects.count() == 1
    assert ControlIntroducedHazard.objects.count() == 1
    assert HazardTransfer.objects.count() == 1


def test_transfer_needs_a_security_source_and_a_safety_target(product, editor):
    first_safety, second_safety = safety(product, editor), safety(product, editor)
    sec = security(product, editor)
    with pytest.raises(ValidationError, match="not a security hazard"):
        services.hazard_transfer_link(
            security_hazard=first_safety, safety_hazard=second_safety, by=editor
        )
    with pytest.raises(ValidationError, match="not a safety hazard"):
        services.hazard_transfer_link(
            security_hazard=sec, safety_hazard=security(product, editor), by=editor
        )
    with pytest.raises(ValidationError):
        services.hazard_transfer_link(security_hazard=sec, safety_hazard=sec, by=editor)
    link = services.hazard_transfer_link(
        security_hazard=sec, safety_hazard=first_safety, by=editor, reason="TIR57 transfer"
    )
    assert link.history.get().history_change_reason == "TIR57 transfer"


def test_link_becomes_suspect_when_an_end_changes(product, editor, control):
    hazard = safety(product, editor)
    link = services.hazard_control_link(hazard=hazard, control=control, by=editor)
    services.control_update(
        control=control, by=editor, title="Occlusion alarm v2", expected_version=control.version
    )
    assert HazardControl.objects.get(pk=link.pk).is_suspect


def test_link_delete_needs_a_reason_and_is_recorded(product, editor, control):
    link = services.hazard_control_link(hazard=safety(product, editor), control=control, by=editor)
    pk = link.pk
    with pytest.raises(ValidationError) as excinfo:
        services.link_delete(link=link, by=editor, reason="")
    assert "change_reason" in excinfo.value.message_dict
    services.link_delete(link=link, by=editor, reason="Control does not address this cause")
    assert not HazardControl.objects.exists()
    row = HazardControl.history.filter(id=pk).first()
    assert (row.history_type, row.history_user) == ("-", editor)
    assert row.history_change_reason == "Control does not address this cause"


# --- delete ---------------------------------------------------------------------------------


def test_approved_hazard_cannot_be_deleted(product, editor):
    hazard = approve(approvable(product, editor), editor)
    with pytest.raises(ValidationError, match="approved"):
        services.hazard_delete(
            hazard=hazard, by=editor, reason="Obsolete", expected_version=hazard.version
        )
    assert Hazard.objects.filter(pk=hazard.pk).exists()


def test_hazard_approved_meanwhile_cannot_be_deleted_from_a_stale_copy(product, editor):
    hazard = approvable(product, editor)
    stale_copy = Hazard.objects.get(pk=hazard.pk)  # loaded while still a draft
    approve(hazard, editor)
    with pytest.raises(ValidationError, match="approved"):
        services.hazard_delete(
            hazard=stale_copy, by=editor, reason="Obsolete", expected_version=stale_copy.version
        )
    assert Hazard.objects.filter(pk=hazard.pk).exists()


def test_delete_of_a_copy_older_than_the_current_version_is_refused(product, editor):
    hazard = safety(product, editor)
    services.hazard_update(
        hazard=hazard, by=editor, title="Changed meanwhile", expected_version=hazard.version
    )
    with pytest.raises(StaleEditError):
        services.hazard_delete(hazard=hazard, by=editor, reason="Obsolete", expected_version=1)
    assert Hazard.objects.filter(pk=hazard.pk).exists()


def test_delete_needs_a_reason(product, editor):
    hazard = safety(product, editor)
    with pytest.raises(ValidationError) as excinfo:
        services.hazard_delete(
            hazard=hazard, by=editor, reason=" ", expected_version=hazard.version
        )
    assert "change_reason" in excinfo.value.message_dict
    assert Hazard.objects.filter(pk=hazard.pk).exists()


def test_delete_leaves_a_history_row_with_user_and_reason(product, editor):
    hazard = safety(product, editor)
    pk = hazard.pk
    services.hazard_delete(
        hazard=hazard, by=editor, reason="Merged into HAZ-002", expected_version=hazard.version
    )
    assert not Hazard.objects.filter(pk=pk).exists()
    row = Hazard.history.filter(id=pk).order_by("-history_date", "-history_id").first()
    assert row.history_type == "-"
    assert row.history_user == editor
    assert row.history_change_reason == "Merged into HAZ-002"
    assert row.title == "Over-delivery of insulin after occlusion release"  # earlier value kept
    assert Hazard.history.filter(id=pk).count() == 2
