import json

import pytest
from django.core.exceptions import PermissionDenied

from hazards import risk
from hazards.models import HazardControl, Membership, Product, RiskPolicy
from tests.integrations.helpers import db_counts
from traceability.integrations import product_json
from traceability.integrations.uploads import UploadError
from traceability.models import ControlRequirement, TestRun


def test_export_import_export_gives_the_same_records(full_product, admin_user):
    first = product_json.export_product_json(full_product)
    result = product_json.import_product(data=first, by=admin_user, slug="copy")
    assert result.warnings == [
        "members: not imported (auditor, editor); an administrator gives people access to the "
        "new product."
    ]
    original = json.loads(first)
    second = json.loads(product_json.export_product_json(result.product))
    second["product"]["slug"] = full_product.slug
    # Not carried: who has access, and the policy's approval (the new product's team approves
    # its own policy; until then its risks are estimated but not evaluated). The criteria are.
    assert {h["initial_acceptability"] for h in second["hazards"]} == {""}
    for doc in (original, second):
        doc.pop("members")
        policy = doc.pop("risk_policy")
        doc["criteria"] = {n: policy[n] for n in risk.PolicyData.POLICY_FIELDS}
        doc["criteria"]["name"] = policy["name"]
        for hazard in doc["hazards"]:
            hazard.pop("initial_acceptability")
            hazard.pop("residual_acceptability")
    assert product_json.dumps(second) == product_json.dumps(original)


def test_import_is_refused_to_a_quality_engineer_and_writes_nothing(full_product, editor):
    data = product_json.export_product_json(full_product)
    before = db_counts()
    with pytest.raises(PermissionDenied):
        product_json.import_product(data=data, by=editor, slug="copy")
    assert db_counts() == before


def test_import_never_attaches_an_existing_policy_nor_takes_memberships(
    full_product, admin_user, outsider
):
    """The file names the seeded template's policy with the template's very criteria, and lists
    an outsider as member: the import makes a new draft policy of the new product's own and
    gives nobody access."""
    template = RiskPolicy.objects.get(product__isnull=True)

    def claim(doc):
        doc["risk_policy"]["name"] = template.name
        doc["risk_policy"]["status"] = "approved"
        doc["risk_policy"]["approved_criteria"] = {
            n: getattr(template, n) for n in risk.PolicyData.POLICY_FIELDS
        }
        doc["members"] = ["outsider", "editor", "auditor"]

    result = product_json.import_product(
        data=_altered(full_product, claim), by=admin_user, slug="copy"
    )
    copy = result.product
    policy = copy.risk_policy
    assert policy.pk not in (template.pk, full_product.risk_policy.pk)
    assert policy.product == copy and policy.template is None
    assert (policy.status, policy.approved_criteria, policy.version) == ("draft", None, 1)
    assert RiskPolicy.objects.filter(product__isnull=True).count() == 1
    assert template.copies.filter(product=copy).count() == 0
    assert not copy.memberships.exists()
    assert not Membership.objects.filter(user=outsider, product=copy).exists()
    # Risks are estimated on the new policy's scales but evaluated only once it is approved.
    hazard = copy.hazards.get(code="HAZ-001")
    assert hazard.initial_risk_index and hazard.initial_acceptability == ""


def test_import_can_copy_a_chosen_template_instead_of_the_files_criteria(full_product, admin_user):
    template = RiskPolicy.objects.get(product__isnull=True)
    result = product_json.import_product(
        data=product_json.export_product_json(full_product),
        by=admin_user,
        slug="copy",
        template=template,
    )
    policy = result.product.risk_policy
    assert policy.template == template and policy.pk != template.pk
    assert policy.history.get().history_change_reason.startswith("Copied from template")


def test_export_carries_every_model_and_suspect_state(full_product):
    doc = product_json.export_product(full_product)
    assert [len(doc[k]) for k in ("hazards", "controls", "software_items", "requirements",
                                  "test_cases", "test_runs")] == [2, 2, 2, 3, 2, 1]  # fmt: skip
    assert all(len(doc["links"][key]) >= 1 for key, _ in product_json.LINKS)
    assert sorted(doc["members"]) == ["auditor", "editor"]
    suspect = [
        link for link in doc["links"]["control_requirement"]
        if link["target_version"] < 2 and link["requirement"] == "SRS-002"
    ]  # fmt: skip
    assert suspect, "the requirement changed after linking: its link recorded version 1"


def test_imported_product_keeps_versions_links_and_evidence(full_product, admin_user):
    result = product_json.import_product(
        data=product_json.export_product_json(full_product), by=admin_user, slug="copy"
    )
    copy = result.product
    link = ControlRequirement.objects.get(control__product=copy, requirement__code="SRS-002")
    assert link.is_suspect  # still suspect after the move
    run = TestRun.objects.get(test_case__product=copy)
    with run.evidence.open("rb") as handle:
        assert handle.read() == b"all good\n"
    history = HazardControl.objects.filter(hazard__product=copy).first().history.get()
    assert history.history_user == admin_user
    assert history.history_change_reason.startswith("Imported from product export")
    assert copy.memberships.count() == 0


def test_slug_in_use_is_refused(full_product, admin_user):
    data = product_json.export_product_json(full_product)
    before = db_counts()
    with pytest.raises(UploadError, match="exists already"):
        product_json.import_product(data=data, by=admin_user)
    assert db_counts() == before


def _altered(full_product, change) -> bytes:
    doc = product_json.export_product(full_product)
    change(doc)
    return product_json.dumps(doc)


BAD = [
    ("not JSON", lambda p: b"{nope", "not valid JSON"),
    ("other JSON", lambda p: b'{"a": 1}', "not a RiskBench product export"),
    ("CSV", lambda p: b"a,b\n1,2\n", "JSON file"),
    ("empty", lambda p: b"", "empty"),
    ("future version", lambda p: _altered(p, lambda d: d.update(format_version=99)),
     "Unsupported product export version"),
    ("severity outside the policy",
     lambda p: _altered(p, lambda d: d["hazards"][0].update(severity=9)), "scale"),
    ("policy without criteria",
     lambda p: _altered(p, lambda d: d["risk_policy"].pop("safety_matrix")), "safety_matrix"),
    ("malformed policy",
     lambda p: _altered(p, lambda d: d["risk_policy"].update(safety_matrix="x")), "risk_policy"),
    ("unknown category",
     lambda p: _altered(p, lambda d: d["hazards"][0].update(category="financial")),
     "category"),
    ("malformed CVSS vector",
     lambda p: _altered(p, lambda d: d["hazards"][1].update(cvss_vector="CVSS:3.1/AV:Q")),
     "CVSS"),
    ("dangling link",
     lambda p: _altered(p, lambda d: d["links"]["hazard_control"][0].update(control="RC-404")),
     "RC-404"),
    ("duplicate codes",
     lambda p: _altered(p, lambda d: d["hazards"].append(dict(d["hazards"][0]))), "duplicate"),
    ("tampered evidence",
     lambda p: _altered(p, lambda d: d["test_runs"][0].update(evidence="dGFtcGVyZWQ=")),
     "does not match its SHA-256"),
    ("tampered shared evidence",
     lambda p: _altered(p, lambda d: d["evidence"].update(
         {k: "dGFtcGVyZWQ=" for k in d["evidence"]})),
     "does not match its SHA-256"),
    ("missing shared evidence",
     lambda p: _altered(p, lambda d: d["evidence"].clear()), "is not in the file's evidence"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "make", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_exports_are_refused_and_write_nothing(full_product, admin_user, label, make, message):
    data = make(full_product)
    before = db_counts()
    with pytest.raises(UploadError, match=message):
        product_json.import_product(data=data, by=admin_user, slug="copy")
    assert db_counts() == before
    assert not Product.objects.filter(slug="copy").exists()


def test_export_query_count_does_not_grow(full_product, count_queries):
    product = Product.objects.get(pk=full_product.pk)
    with count_queries() as q:
        product_json.export_product(product)
    # policy (1) + members (1) + five record kinds (5) + runs (1) + eight link kinds (8)
    assert q.count == 16, q.dump()


def test_evidence_shared_by_many_runs_is_stored_once(product, editor, admin_user):
    from tests import factories
    from tests.integrations.helpers import JUNIT_PASS_FAIL
    from traceability.integrations.junit import import_junit

    factories.TestCaseFactory(product=product, code="TC-001")
    factories.TestCaseFactory(product=product, code="TC-002")
    import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)
    doc = product_json.export_product(product)
    assert len(doc["test_runs"]) == 2
    assert list(doc["evidence"]) == [doc["test_runs"][0]["evidence_sha256"]]  # once
    assert "evidence" not in doc["test_runs"][0]

    copy = product_json.import_product(
        data=product_json.dumps(doc), by=admin_user, slug="copy"
    ).product
    names = {r.evidence.name for r in TestRun.objects.filter(test_case__product=copy)}
    assert len(names) == 1  # one stored file for both runs
    with TestRun.objects.filter(test_case__product=copy).first().evidence.open("rb") as handle:
        assert handle.read() == JUNIT_PASS_FAIL


def test_a_version_1_export_with_evidence_in_each_run_still_imports(full_product, admin_user):
    import base64

    doc = product_json.export_product(full_product)
    files = doc.pop("evidence")
    doc["format_version"] = 1
    for run in doc["test_runs"]:
        run["evidence"] = files.get(run["evidence_sha256"])
    copy = product_json.import_product(
        data=product_json.dumps(doc), by=admin_user, slug="copy"
    ).product
    run = TestRun.objects.get(test_case__product=copy)
    with run.evidence.open("rb") as handle:
        assert base64.b64encode(handle.read()).decode() == next(iter(files.values()))
