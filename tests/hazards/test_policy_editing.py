"""The risk-policy editor: scales as rows, grids that follow the scales, nothing saved until
"Save policy" (ISO 14971 4.4 d)."""

import pytest
from django.urls import reverse

from hazards import risk
from hazards.forms import RiskPolicyForm, ScaleWidget
from hazards.policy_editing import change_levels, parse_action


def values():
    data = risk.PolicyData.default()
    return {name: getattr(data, name) for name in risk.PolicyData.POLICY_FIELDS}


def test_adding_a_severity_level_adds_a_row_to_the_safety_and_security_matrices():
    result = change_levels(values(), "severity_levels", 1)
    assert [lvl["value"] for lvl in result["severity_levels"]] == [1, 2, 3, 4, 5, 6]
    assert result["severity_levels"][-1]["name"] == "Level 6"
    assert len(result["safety_matrix"]) == 6
    assert result["safety_matrix"][5] == result["safety_matrix"][4]  # the neighbouring region
    assert len(result["security_matrix"]) == 6
    assert len(result["privacy_matrix"]) == 4  # privacy has its own impact scale
    assert risk.validate_policy(risk.PolicyData(**result)) == []


def test_adding_a_probability_level_adds_a_column_and_removing_one_clamps_the_mapping():
    grown = change_levels(values(), "probability_levels", 1)
    assert all(len(row) == 6 for row in grown["safety_matrix"])
    shrunk = change_levels(values(), "probability_levels", -1)
    assert all(len(row) == 4 for row in shrunk["safety_matrix"])
    assert max(max(row) for row in shrunk["probability_mapping"]) == 4
    assert risk.validate_policy(risk.PolicyData(**shrunk)) == []


def test_a_new_exploitability_level_gets_a_rising_cvss_threshold():
    result = change_levels(values(), "exploitability_levels", 1)
    thresholds = [lvl["min_esc"] for lvl in result["exploitability_levels"]]
    assert thresholds == sorted(thresholds) and thresholds[-1] <= 3.9
    assert risk.validate_policy(risk.PolicyData(**result)) == []


def test_the_last_level_of_a_scale_cannot_be_removed_and_the_input_is_not_changed():
    one = {**values(), "p1_levels": [{"value": 1, "name": "Only"}]}
    before = [row[:] for row in one["probability_mapping"]]
    result = change_levels(one, "p1_levels", -1)
    assert len(result["p1_levels"]) == 1
    assert one["probability_mapping"] == before


@pytest.mark.parametrize("action", ["", "add", "add:", "grow:severity_levels", "add:name"])
def test_unknown_actions_are_ignored(action):
    assert parse_action(action) is None


def test_change_levels_refuses_an_unknown_scale():
    with pytest.raises(ValueError):
        change_levels(values(), "name", 1)


def post_data(policy, **changes) -> dict:
    form = RiskPolicyForm(instance=policy)
    data = {"name": policy.name, "description": policy.description, "version": policy.version}
    for name, _label, extra in [
        ("severity_levels", "", None),
        ("probability_levels", "", None),
        ("p1_levels", "", None),
        ("p2_levels", "", None),
        ("exploitability_levels", "", "min_esc"),
        ("privacy_impact_levels", "", None),
        ("privacy_likelihood_levels", "", None),
    ]:
        data.update(ScaleWidget.post_data(name, getattr(policy, name), extra))
    for name in ("probability_mapping", "safety_matrix", "security_matrix", "privacy_matrix"):
        for r, row in enumerate(getattr(policy, name)):
            for c, cell in enumerate(row):
                data[f"{name}_{r}_{c}"] = str(cell)
    assert form.fields  # the form builds from the stored policy
    data.update(changes)
    return data


def test_editor_page_renders_scales_as_rows_and_filled_grids(editor_client, product):
    policy = product.risk_policy
    response = editor_client.get(reverse("hazards:policy_edit", args=[policy.pk]))
    html = response.content.decode()
    assert 'name="severity_levels-4-name" value="Catastrophic"' in html
    assert 'name="severity_levels-count" value="5"' in html
    # The grids are filled (the old widget rendered them empty: every save failed).
    assert 'name="safety_matrix_4_4"' in html
    assert '<td class="cell-unacceptable"><select name="safety_matrix_4_4"' in html
    assert 'data-label-for="severity_levels-4">Catastrophic</th>' in html


def test_add_a_level_shows_the_bigger_grid_and_saves_nothing(editor_client, product):
    policy = product.risk_policy
    url = reverse("hazards:policy_edit", args=[policy.pk])
    data = post_data(policy, **{"severity_levels-0-name": "Trivial"})
    response = editor_client.post(url, {**data, "policy_action": "add:severity_levels"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="severity_levels-count" value="6"' in html
    assert 'name="safety_matrix_5_4"' in html and 'name="security_matrix_5_4"' in html
    assert 'value="Trivial"' in html  # what the user typed is kept
    assert "error-summary" not in html
    policy.refresh_from_db()
    assert len(policy.severity_levels) == 5 and policy.severity_levels[0]["name"] == "Negligible"


def test_save_after_adding_a_level_and_renaming_one_reevaluates(editor_client, product):
    policy = product.risk_policy
    url = reverse("hazards:policy_edit", args=[policy.pk])
    data = post_data(policy)
    data["severity_levels-count"] = "6"
    data["severity_levels-5-name"] = "Multiple deaths"
    data["severity_levels-5-description"] = "More than one patient dies."
    data["severity_levels-0-name"] = "Trivial"
    for c in range(5):
        data[f"safety_matrix_5_{c}"] = "unacceptable"
        data[f"security_matrix_5_{c}"] = "unacceptable"
    data["change_reason"] = "Plan rev. D: sixth severity level"
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    policy.refresh_from_db()
    assert [lvl["name"] for lvl in policy.severity_levels][::5] == ["Trivial", "Multiple deaths"]
    assert len(policy.safety_matrix) == 6
    assert policy.history.first().history_change_reason == "Plan rev. D: sixth severity level"


def test_an_empty_level_name_is_reported_on_the_scale_field(editor_client, product):
    policy = product.risk_policy
    url = reverse("hazards:policy_edit", args=[policy.pk])
    data = post_data(policy, **{"severity_levels-2-name": "", "change_reason": "x"})
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "severity_levels" in response.context["form"].errors
    assert 'class="error-summary"' in response.content.decode()


def test_auditor_cannot_use_the_level_buttons(auditor_client, product):
    policy = product.risk_policy
    url = reverse("hazards:policy_edit", args=[policy.pk])
    response = auditor_client.post(
        url, {**post_data(policy), "policy_action": "add:severity_levels"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("count", ["²", "999999999999", "-1", "x"])
def test_an_odd_row_count_is_an_error_on_the_field_not_a_server_error(
    editor_client, product, count
):
    policy = product.risk_policy
    url = reverse("hazards:policy_edit", args=[policy.pk])
    data = post_data(policy, **{"severity_levels-count": count, "change_reason": "x"})
    response = editor_client.post(url, data)
    assert response.status_code == 200
    policy.refresh_from_db()
    assert len(policy.severity_levels) == 5
