"""Each product owns its risk policy (ISO 14971 4.4 d): templates are only starting points, a
product's criteria change through a regulated service that only that product's editors may
call, and risks are evaluated only against criteria approved with an electronic signature."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from hazards import risk, services
from hazards.models import Hazard, Membership, Product, RiskPolicy
from riskbench import audit, signatures
from riskbench.models import AuditChainEntry, Signature, Status
from riskbench.services import StaleEditError
from tests import factories

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def safety(product, by, **fields):
    values = {"category": "safety", "title": "Over-delivery", "harm": "Hypoglycaemia"}
    values.update({"severity": 4, "p1": 3, "p2": 3, **fields})  # P = 3 → unacceptable
    return services.hazard_create(product=product, by=by, reason="Hazard analysis", **values)


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def approve(policy, user):
    """Submit for review (if needed) and approve with an "approved" signature."""
    policy = reload(policy)
    if policy.status != Status.IN_REVIEW:
        policy = services.record_set_status(
            record=policy,
            status=Status.IN_REVIEW,
            by=user,
            reason="For review",
            expected_version=policy.version,
        )
    return signatures.record_sign(
        record=policy, by=user, username=user.username, password=PASSWORD, meaning="approved",
        expected_version=policy.version,
    )  # fmt: skip


def template_with(name, admin, **criteria):
    data = risk.PolicyData.default()
    template = services.policy_template_create(by=admin, name=name)
    if criteria:
        template = services.policy_update(
            policy=template,
            by=admin,
            reason="Criteria of this template",
            **criteria,
            expected_version=template.version,
        )
    assert data.criteria() != reload(template).criteria() or not criteria
    return template


ALL_ACCEPTABLE = [["acceptable"] * 5 for _ in range(5)]


@pytest.fixture
def draft_product(db, editor):
    """A product whose own policy is not approved yet (as every new product starts)."""
    product = factories.ProductFactory(name="Vela", slug="vela", policy_approved=False)
    factories.MembershipFactory(product=product, user=editor)
    editor.__dict__.pop("_riskbench_products", None)  # role cache: the membership is new
    return product


# --- Templates and new products ------------------------------------------------------------


def test_the_seeded_default_is_a_template_with_the_default_criteria(db):
    template = RiskPolicy.objects.get(name__startswith="Default risk policy")
    assert template.is_template and template.product is None
    assert template.data == risk.PolicyData.default()
    assert template.history.count() == 1


def test_a_new_product_gets_its_own_draft_copy_of_the_chosen_template(admin_user, editor):
    template = template_with("Strict plan", admin_user)
    product = services.product_create(
        by=admin_user, name="Lyra", slug="lyra", template=template, members=[editor]
    )
    policy = product.risk_policy
    assert policy.pk != template.pk and policy.product == product
    assert (policy.template, policy.template_version) == (template, template.version)
    assert policy.criteria() == reload(template).criteria()
    assert (policy.status, policy.version, policy.is_approved) == (Status.DRAFT, 1, False)
    row = policy.history.get()
    assert (row.history_user, row.history_change_reason) == (
        admin_user,
        f"Copied from template Strict plan v{template.version}",
    )
    entry = AuditChainEntry.objects.get(model_label="hazards.riskpolicy", row_id=row.history_id)
    assert entry.chain == f"product:{product.pk}"
    membership = Membership.objects.get(product=product, user=editor)
    assert membership.history.get().history_user == admin_user


def test_a_new_product_without_a_chosen_template_copies_the_default(admin_user):
    product = services.product_create(by=admin_user, name="Lyra", slug="lyra")
    assert product.risk_policy.template == factories.default_policy()


def test_a_products_own_policy_is_not_a_template(admin_user, product):
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(
            by=admin_user, name="Lyra", slug="lyra", template=product.risk_policy
        )
    assert "template" in excinfo.value.message_dict
    assert not Product.objects.filter(slug="lyra").exists()


def test_only_administrators_create_products_and_give_access(editor, auditor, product):
    before = (Product.objects.count(), RiskPolicy.objects.count(), Membership.objects.count())
    for user in (editor, auditor):
        with pytest.raises(PermissionDenied):
            services.product_create(by=user, name="Mine", slug="mine", members=[user])
        with pytest.raises(PermissionDenied):
            services.membership_add(product=product, user=factories.UserFactory(), by=user)
        with pytest.raises(PermissionDenied):
            services.policy_template_create(by=user, name="Lenient")
    after = (Product.objects.count(), RiskPolicy.objects.count(), Membership.objects.count())
    assert after == before


def test_a_staff_user_with_the_add_product_permission_is_an_administrator(db):
    from django.contrib.auth.models import Permission

    staff = factories.UserFactory(username="pm", is_staff=True)
    with pytest.raises(PermissionDenied):
        services.product_create(by=staff, name="Lyra", slug="lyra")
    staff.user_permissions.add(Permission.objects.get(codename="add_product"))
    staff = type(staff).objects.get(pk=staff.pk)  # permission cache
    assert services.product_create(by=staff, name="Lyra", slug="lyra").risk_policy
    not_staff = factories.UserFactory(username="qe2", role="Quality engineer")
    not_staff.user_permissions.add(Permission.objects.get(codename="add_product"))
    not_staff = type(not_staff).objects.get(pk=not_staff.pk)
    with pytest.raises(PermissionDenied):
        services.product_create(by=not_staff, name="Nope", slug="nope")


def test_a_member_is_added_once(admin_user, product, editor):
    with pytest.raises(ValidationError):
        services.membership_add(product=product, user=editor, by=admin_user)


# --- Evaluation only against approved criteria ---------------------------------------------


def test_until_the_policy_is_approved_risks_are_estimated_but_not_evaluated(draft_product, editor):
    hazard = safety(draft_product, editor, residual_severity=4, residual_p1=1, residual_p2=1)
    assert (hazard.probability, hazard.initial_risk_index) == (3, 12)
    assert hazard.initial_acceptability == hazard.residual_acceptability == ""
    hazard = services.record_set_status(
        record=hazard,
        status=Status.IN_REVIEW,
        by=editor,
        reason="r",
        expected_version=hazard.version,
    )
    with pytest.raises(ValidationError) as excinfo:
        services.record_set_status(
            record=hazard, status=Status.APPROVED, by=editor, expected_version=hazard.version
        )
    assert "risk policy is not approved" in str(excinfo.value)


def test_approving_the_policy_with_a_signature_evaluates_every_hazard_in_its_history(
    draft_product, editor
):
    hazard = safety(draft_product, editor)
    signature = approve(draft_product.risk_policy, editor)
    policy = reload(draft_product.risk_policy)
    assert (policy.status, policy.approved_version) == (Status.APPROVED, policy.version)
    assert policy.approved_criteria == policy.criteria()
    assert signature.product == draft_product  # the policy's signature belongs to the product
    entry = AuditChainEntry.objects.get(source="signature", row_id=signature.pk)
    assert entry.chain == f"product:{draft_product.pk}"
    current = reload(hazard)
    assert current.initial_acceptability == "unacceptable"
    assert current.version == hazard.version + 1
    row = current.history.first()
    assert row.history_user == editor
    assert row.history_change_reason == (
        f"Re-evaluated under {policy.name} v{policy.version} (approved)"
    )
    # The current row equals its newest history row, field by field (nothing written twice).
    for f in Hazard._meta.concrete_fields:
        assert getattr(row, f.attname) == getattr(current, f.attname), f.name
    assert audit.verify_chains().ok


def test_a_policy_is_approved_only_with_a_signature(draft_product, editor):
    policy = services.record_set_status(
        record=draft_product.risk_policy,
        status=Status.IN_REVIEW,
        by=editor,
        reason="r",
        expected_version=draft_product.risk_policy.version,
    )
    with pytest.raises(ValidationError) as excinfo:
        services.record_set_status(
            record=policy, status=Status.APPROVED, by=editor, expected_version=policy.version
        )
    assert "electronic signature" in str(excinfo.value)
    assert reload(policy).approved_criteria is None


def test_editing_the_criteria_changes_no_evaluation_until_the_new_version_is_approved(
    product, editor
):
    hazard = safety(product, editor, severity=3)  # Serious × Occasional → investigate
    assert hazard.initial_acceptability == "investigate"
    policy = product.risk_policy
    matrix = copy.deepcopy(policy.safety_matrix)
    matrix[2][2] = "unacceptable"
    policy = services.policy_update(
        policy=policy, by=editor, reason="Stricter after PMS review", safety_matrix=matrix,
        expected_version=1,
    )  # fmt: skip
    assert (policy.version, policy.status, policy.approved_version) == (2, Status.IN_REVIEW, 1)
    assert policy.has_unapproved_changes
    assert reload(hazard).initial_acceptability == "investigate"
    assert hazard.history.count() == 1  # nothing re-evaluated, nothing written

    approve(policy, editor)
    current = reload(hazard)
    assert current.initial_acceptability == "unacceptable"
    reason = current.history.first().history_change_reason
    assert policy.name in reason and "v2 (approved)" in reason
    assert not reload(policy).has_unapproved_changes


def test_approval_re_evaluates_residual_risk_and_the_derived_probability(product, editor):
    hazard = safety(product, editor, severity=3, residual_severity=1, residual_p1=1, residual_p2=1)
    policy = product.risk_policy
    matrix = copy.deepcopy(policy.safety_matrix)
    matrix[0][0] = "investigate"
    mapping = copy.deepcopy(policy.probability_mapping)
    mapping[2][2] = 4
    services.policy_update(
        policy=policy, by=editor, reason="Rev B", safety_matrix=matrix,
        probability_mapping=mapping, expected_version=policy.version,
    )  # fmt: skip
    approve(policy, editor)
    current = reload(hazard)
    assert current.residual_acceptability == "investigate"
    assert (current.probability, current.initial_acceptability) == (4, "unacceptable")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"safety_matrix": [["acceptable"] * 5] * 4}, "safety_matrix"),
        ({"probability_mapping": [[1] * 5] * 4 + [[1, 2, 3, 4, 6]]}, "probability_mapping"),
        ({"severity_levels": [{"value": 1, "name": "Only"}]}, "safety_matrix"),
    ],
)
def test_invalid_criteria_are_refused_naming_the_field(product, editor, changes, field):
    hazard = safety(product, editor)
    with pytest.raises(ValidationError) as excinfo:
        services.policy_update(
            policy=product.risk_policy,
            by=editor,
            reason="x",
            **changes,
            expected_version=product.risk_policy.version,
        )
    assert field in excinfo.value.message_dict
    policy = reload(product.risk_policy)
    assert policy.version == 1 and policy.data == risk.PolicyData.default()
    assert hazard.history.count() == 1


def test_only_criteria_name_and_description_are_edited_through_policy_update(product, editor):
    for fields in ({"product": None}, {"approved_criteria": {}}, {"template": None}):
        with pytest.raises(ValidationError):
            services.policy_update(
                policy=product.risk_policy,
                by=editor,
                reason="x",
                **fields,
                expected_version=product.risk_policy.version,
            )
    assert reload(product.risk_policy).version == 1


def test_shrinking_a_scale_leaves_off_scale_rows_not_estimated_once_approved(product, editor):
    catastrophic = safety(product, editor, severity=5, p1=4, p2=4)
    serious = safety(product, editor, severity=3, p1=4, p2=4)
    fields = risk.PolicyData.default().criteria()
    policy = services.policy_update(
        policy=product.risk_policy, by=editor, reason="Four severity levels",
        severity_levels=fields["severity_levels"][:4], safety_matrix=fields["safety_matrix"][:4],
        security_matrix=fields["security_matrix"][:4], expected_version=product.risk_policy.version,
    )  # fmt: skip
    assert reload(catastrophic).initial_acceptability == "unacceptable"  # not approved yet
    approve(policy, editor)
    off_scale = reload(catastrophic)
    assert off_scale.initial_acceptability == "" and off_scale.initial_risk_index is None
    assert "Re-evaluated" in off_scale.history.first().history_change_reason
    assert reload(serious).initial_acceptability == "unacceptable"
    assert serious.history.count() == 1  # unchanged


def test_reopening_an_approved_policy_keeps_its_approved_criteria_in_force(product, editor):
    hazard = safety(product, editor)
    services.record_set_status(
        record=product.risk_policy,
        status=Status.DRAFT,
        by=editor,
        reason="Rework the plan",
        expected_version=product.risk_policy.version,
    )
    policy = reload(product.risk_policy)
    assert policy.status == Status.DRAFT and policy.is_approved
    services.hazard_update(
        hazard=hazard, by=editor, reason="Harm", harm="Coma", expected_version=hazard.version
    )
    assert reload(hazard).initial_acceptability == "unacceptable"


def test_a_stale_policy_edit_is_refused_and_changes_nothing(product, editor):
    policy = product.risk_policy
    services.policy_update(
        policy=policy, by=editor, reason="Rev B", description="Changed meanwhile",
        expected_version=1,
    )  # fmt: skip
    with pytest.raises(StaleEditError) as excinfo:
        services.policy_update(
            policy=policy, by=editor, reason="Mine", description="Mine", expected_version=1
        )
    assert any(c[2] == "Changed meanwhile" for c in excinfo.value.changes)
    assert reload(policy).description == "Changed meanwhile"
    with pytest.raises(StaleEditError):
        services.policy_copy_template(
            policy=policy, template=factories.default_policy(), by=editor, reason="x",
            expected_version=1,
        )  # fmt: skip
    with pytest.raises(StaleEditError):
        signatures.record_sign(
            record=reload(policy), by=editor, username="editor", password=PASSWORD,
            meaning="approved", expected_version=1,
        )  # fmt: skip
    assert reload(policy).approved_version == 1


# --- One product's policy is that product's only ---------------------------------------------


def test_editing_one_products_policy_leaves_another_products_evaluations_unchanged(
    product, other_product, editor, admin_user
):
    factories.MembershipFactory(product=other_product, user=editor)
    editor.__dict__.pop("_riskbench_products", None)
    mine = safety(product, editor, severity=3)  # investigate
    theirs = safety(other_product, editor, severity=3)  # investigate
    matrix = copy.deepcopy(product.risk_policy.safety_matrix)
    matrix[2][2] = "unacceptable"
    policy = services.policy_update(
        policy=product.risk_policy,
        by=editor,
        reason="Stricter",
        safety_matrix=matrix,
        expected_version=product.risk_policy.version,
    )
    approve(policy, editor)
    assert reload(mine).initial_acceptability == "unacceptable"
    assert reload(theirs).initial_acceptability == "investigate"
    assert theirs.history.count() == 1
    assert reload(other_product.risk_policy).safety_matrix != matrix
    # Templates are untouched too.
    assert factories.default_policy().data == risk.PolicyData.default()


def test_a_quality_engineer_of_another_product_cannot_edit_approve_or_sign_its_policy(
    product, editor, outsider, auditor
):
    hazard = safety(product, editor, severity=3)
    policy = services.record_set_status(
        record=product.risk_policy,
        status=Status.IN_REVIEW,
        by=editor,
        reason="For review",
        expected_version=product.risk_policy.version,
    )
    permissive = {"safety_matrix": ALL_ACCEPTABLE}
    for user in (outsider, auditor):
        with pytest.raises(PermissionDenied):
            services.policy_update(
                policy=policy, by=user, reason="Mine", **permissive, expected_version=policy.version
            )
        with pytest.raises(PermissionDenied):
            services.policy_copy_template(
                policy=policy,
                template=factories.default_policy(),
                by=user,
                reason="Mine",
                expected_version=policy.version,
            )
        with pytest.raises(PermissionDenied):
            services.record_set_status(
                record=policy,
                status=Status.DRAFT,
                by=user,
                reason="Mine",
                expected_version=policy.version,
            )
        with pytest.raises(signatures.SignatureRefused):
            signatures.record_sign(
                record=policy, by=user, username=user.username, password=PASSWORD,
                meaning="approved", expected_version=policy.version,
            )  # fmt: skip
    current = reload(policy)
    assert (current.version, current.status, current.approved_version) == (1, "in_review", 1)
    assert not Signature.objects.exists()
    assert reload(hazard).initial_acceptability == "investigate"


def test_an_editor_cannot_switch_to_a_permissive_unsigned_policy_to_make_risks_acceptable(
    product, editor, admin_user
):
    """The attack of issue 9 §2: ten unacceptable residual risks, a permissive template, a
    switch. Nothing becomes acceptable: the copied criteria evaluate nothing until approved."""
    hazards = [
        safety(product, editor, residual_severity=4, residual_p1=3, residual_p2=3)
        for _ in range(10)
    ]
    assert {h.residual_acceptability for h in hazards} == {"unacceptable"}
    lenient = template_with("Anything goes", admin_user, safety_matrix=ALL_ACCEPTABLE)
    with pytest.raises(ValidationError) as excinfo:
        services.product_update(
            product=product,
            by=editor,
            reason="x",
            risk_policy=lenient,
            expected_version=product.version,
        )
    assert "risk_policy" in excinfo.value.message_dict
    policy = services.policy_copy_template(
        policy=product.risk_policy, template=lenient, by=editor, reason="Plan rev. C",
        expected_version=1,
    )  # fmt: skip
    assert policy.safety_matrix == ALL_ACCEPTABLE and policy.template == lenient
    assert policy.history.first().history_change_reason.startswith(
        "Copied from template Anything goes"
    )
    assert lenient.copies.get() == policy  # a copy: the template row is not the product's
    for hazard in hazards:
        assert reload(hazard).residual_acceptability == "unacceptable"
        assert hazard.history.count() == 1
    # Status-only approval is refused; only a signature puts the criteria in force.
    with pytest.raises(ValidationError):
        services.record_set_status(
            record=policy, status=Status.APPROVED, by=editor, expected_version=policy.version
        )
    assert reload(policy).approved_criteria == risk.PolicyData.default().criteria()


def test_switching_a_product_to_another_template_takes_effect_once_approved(
    product, editor, admin_user
):
    hazard = safety(product, editor, severity=3)  # investigate
    strict = template_with("Zero tolerance", admin_user, safety_matrix=[
        ["unacceptable"] * 5 for _ in range(5)
    ])  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        services.policy_copy_template(
            policy=product.risk_policy,
            template=strict,
            by=editor,
            reason=" ",
            expected_version=product.risk_policy.version,
        )
    assert "change_reason" in excinfo.value.message_dict
    policy = services.policy_copy_template(
        policy=product.risk_policy,
        template=strict,
        by=editor,
        reason="New plan",
        expected_version=product.risk_policy.version,
    )
    approve(policy, editor)
    current = reload(hazard)
    assert current.initial_acceptability == "unacceptable"
    assert "Zero tolerance" in current.history.first().history_change_reason


def test_templates_are_changed_by_administrators_and_change_no_product(product, editor, admin_user):
    hazard = safety(product, editor, severity=3)
    template = factories.default_policy()
    with pytest.raises(PermissionDenied):
        services.policy_update(
            policy=template,
            by=editor,
            reason="x",
            description="Mine",
            expected_version=template.version,
        )
    services.policy_update(
        policy=template,
        by=admin_user,
        reason="Wording",
        safety_matrix=ALL_ACCEPTABLE,
        expected_version=template.version,
    )
    assert reload(product.risk_policy).safety_matrix != ALL_ACCEPTABLE
    assert reload(hazard).initial_acceptability == "investigate"
    with pytest.raises(ValidationError):
        services.policy_copy_template(
            policy=template,
            template=template,
            by=admin_user,
            reason="x",
            expected_version=template.version,
        )


def test_the_audit_trail_verifies_after_policy_changes_and_approvals(product, editor):
    safety(product, editor)
    policy = services.policy_update(
        policy=product.risk_policy,
        by=editor,
        reason="Rev B",
        description="Rev B",
        expected_version=product.risk_policy.version,
    )
    approve(policy, editor)
    assert audit.verify_chains().ok


def test_reevaluation_saves_only_rows_whose_evaluation_changes(product, editor):
    minor = safety(product, editor, severity=1, p1=1, p2=1)  # acceptable either way
    services.policy_update(
        policy=product.risk_policy,
        by=editor,
        reason="Rev B",
        description="Wording only",
        expected_version=product.risk_policy.version,
    )
    approve(product.risk_policy, editor)
    assert minor.history.count() == 1
    assert Hazard.objects.get(pk=minor.pk).version == minor.version


def test_the_plan_says_which_regions_a_benefit_risk_analysis_may_accept(product, editor):
    """ISO 14971 4.4 d, 7.4: a policy setting, by default the middle region only; changing it
    is a change of the plan that needs a new approval (the release gate reports it till then)."""
    policy = product.risk_policy
    assert policy.benefit_risk_regions == ["investigate"]
    with pytest.raises(ValidationError) as exc:
        services.policy_update(
            policy=policy, by=editor, reason="x", expected_version=policy.version,
            benefit_risk_regions=["acceptable"],
        )  # fmt: skip
    assert "benefit_risk_regions" in exc.value.message_dict
    policy = services.policy_update(
        policy=reload(policy), by=editor, reason="Plan rev. B: 7.4 in both regions",
        expected_version=policy.version, benefit_risk_regions=["investigate", "unacceptable"],
    )  # fmt: skip
    assert reload(policy).benefit_risk_regions == ["investigate", "unacceptable"]
    assert policy.has_unapproved_changes
    row = policy.history.first()
    assert row.benefit_risk_regions == ["investigate", "unacceptable"]
    assert row.history_change_reason == "Plan rev. B: 7.4 in both regions"
