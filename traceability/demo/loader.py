"""Write the demo risk files through the real services, so the demo has a real audit trail.

The content lives in the product modules of this package as plain data (see `__init__`); this
module turns it into records. Every write goes through a service — `hazards.services` for the
risk register, `traceability.services` for the IEC 62304 side — with an acting user and a
reason, so each demo record starts with the history a quality engineer's record would have
(21 CFR 11.10(e)).

Idempotent by code: an item is created only when no item with its code exists in the product,
a link only when it is missing, a test run only when no run of that test has its CI reference,
and status changes are applied only to items created in the same run. A second run therefore
writes nothing (no new history rows, signatures or baselines) and never overwrites what a user
changed in a demo product.

Products are opened and their teams given access by an administrator (`admin`: the system account
``riskbench-demo``, a superuser that cannot log in), as every route requires. Each product gets its
own copy of the default risk policy template; with a signer, the demo login submits it for review
and approves it with its signature first, so the product's risks are evaluated. Without a signer
nobody can approve a policy: the demo's risks are then estimated but not evaluated, and hazards
meant to be approved stay in review (their approval check needs an evaluated risk).

Approvals carry electronic signatures when the load has a `DemoSigner` — the demo login, whose
password `loaddemo` knows (21 CFR 11.50, 11.70): the first approval of the run goes through
`riskbench.signatures.record_sign`, which checks user ID and password; the following ones are
signings of the same continuous session (11.200(a)(1)(i)) and are appended by
`signature_create` after the same `record_set_status` approval. A product created by the run
then gets a signed "Design freeze" baseline, taken before the demo's later edits so its diff
shows them. Without a signer (demo logins disabled: the data are written by an inactive system
account that has no password and is nobody — a signature is one individual's act, 11.100(a))
approvals are status changes only, and the signature panel says they are unsigned.

Layering: `hazards` must not depend on `traceability` (DESIGN.md §1). The demo loader is a
composition root that seeds both apps, so it imports `traceability` lazily, here only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from hazards import services
from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    Membership,
    Product,
    RiskControl,
    RiskPolicy,
)
from riskbench import roles, signatures
from riskbench.models import SignatureMeaning, Status
from riskbench.services import link_review

# Demo test runs are dated from this fixed instant, never from now(): two loads give the same
# dates, so screenshots, dossiers and tests stay comparable. (Only on a machine whose clock is
# earlier is it moved back, since evidence cannot be dated in the future.)
DEMO_EPOCH = dt.datetime(2026, 10, 30, 9, 0, tzinfo=dt.UTC)

HAZARD_FIELDS = (
    "category",
    "title",
    "hazard_type",
    "hazard",
    "sequence_of_events",
    "hazardous_situation",
    "harm",
    "severity",
    "p1",
    "p2",
    "probability",
    "residual_severity",
    "residual_p1",
    "residual_p2",
    "residual_probability",
    "benefit_risk_justification",
    "benefit_risk_benefits",
    "further_control_not_practicable",
    "benefit_risk_region",
    "severity_reduction_rationale",
    "residual_cvss_rationale",
    "asset",
    "threat",
    "vulnerability",
    "cvss_vector",
    "residual_cvss_vector",
    "data_elements",
    "linddun_category",
)
CONTROL_FIELDS = ("title", "description", "option", "security_category", "implementation_status")
SOFTWARE_ITEM_FIELDS = (
    "name",
    "description",
    "safety_class",
    "safety_class_rationale",
    "segregation_note",
    "is_soup",
    "manufacturer",
    "soup_version",
    "purl",
    "licence",
    "soup_requirements",
    "soup_hardware_software",
    "anomalies_reviewed_at",
    "anomalies_reviewed_version",
    "anomalies_notes",
    "support_status",
    "end_of_support",
)
REQUIREMENT_FIELDS = ("level", "title", "text", "rationale")
TEST_CASE_FIELDS = ("title", "method", "level", "procedure")


def demo_epoch() -> dt.datetime:
    return min(DEMO_EPOCH, timezone.now() - dt.timedelta(days=1))


@dataclass
class LoadResult:
    """What one run created, per kind (empty on an idempotent re-run)."""

    product: Product
    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.created.values())


DESIGN_FREEZE = "Design freeze"


class DemoSigner:
    """The demo user signing the demo's approvals, with the password `loaddemo` set for it.

    The password is checked once, at the first signing of the run (`record_sign`: both
    components, refusals counted and logged); later signings of the same run are a series in
    one continuous session (21 CFR 11.200(a)(1)(i)) and skip the hash check, which costs a
    third of a second each with the production password hasher.
    """

    def __init__(self, user, password: str):
        self.user = user
        self.password = password
        self.checked = False

    def start(self, product: Product) -> None:
        """A fresh copy of the user for each product: role checks cache the memberships on the
        user object, and the demo membership was just given."""
        self.user = type(self.user)._default_manager.get(pk=self.user.pk)
        if not roles.can_edit(self.user, product):  # who may sign its records
            raise signatures.SignatureRefused(
                f"{self.user.get_username()} cannot sign in {product}: not an editor there."
            )

    def approve(self, record, *, reason: str) -> None:
        """Approve `record` (in review) with an "approved" signature, as the signature page
        does; the approval check of `record_set_status` still applies (and a risk policy's
        approval, which needs the signature, re-evaluates the product's hazards)."""
        if not self.checked:
            signatures.record_sign(
                record=record,
                by=self.user,
                username=self.user.get_username(),
                password=self.password,
                meaning=SignatureMeaning.APPROVED,
                reason=reason,
                expected_version=record.version,
            )
            self.checked = True
            return
        with transaction.atomic():
            current = services.record_set_status(
                record=record,
                status=Status.APPROVED,
                by=self.user,
                reason=f"Approved with electronic signature of {self.user.get_username()}",
                signed=True,
                expected_version=record.version,  # signed right below, in this transaction
            )
            signatures.signature_create(
                record=current, by=self.user, meaning=SignatureMeaning.APPROVED, reason=reason
            )

    def sign(self, record, *, reason: str) -> None:
        """Sign a record that needs no status change (a baseline) in the same session."""
        if not self.checked:
            signatures.check_credentials(
                user=self.user, username=self.user.get_username(), password=self.password
            )
            self.checked = True
        signatures.signature_create(
            record=record, by=self.user, meaning=SignatureMeaning.APPROVED, reason=reason
        )


class ProductLoader:
    """Loads one demo product module (see `traceability.demo` for the shape of the data)."""

    def __init__(self, module, *, by, admin=None, members=(), signer: DemoSigner | None = None):
        self.m = module
        self.by = signer.user if signer else by
        self.admin = admin or by  # opens the product and gives access: an administrator
        self.signer = signer
        self.members = list(members)
        self.doc = module.PRODUCT["document_number"]
        self.new_links: list = []  # links made in this run, reviewed if an end moves on
        self.new_codes: set[str] = set()  # codes of items created in this run
        self.link_keys: dict = {}  # link model -> keys of the product's existing links

    def load(self) -> LoadResult:
        with transaction.atomic():
            product = Product.objects.filter(slug=self.m.PRODUCT["slug"]).first()
            self.result = LoadResult(product)
            if product is None:
                product = self.result.product = services.product_create(
                    by=self.admin,
                    reason=f"Risk management file {self.doc} opened (ISO 14971 4.5)",
                    template=services.default_template(),
                    **self.m.PRODUCT,
                )
                self.result.count("products")
            self.memberships(product)
            if self.signer:
                self.signer.start(product)
                self.by = self.signer.user
            self.approve_policy(product)
            controls = self.controls(product)
            hazards = self.hazards(product, controls)
            self.traceability(product, controls, hazards)
        return self.result

    # -- helpers ------------------------------------------------------------------------------

    def set_status(self, record, target: str, *, what: str) -> None:
        """Walk a newly created record through the workflow to its demo status: draft → in
        review → approved, as the workflow requires. Approval goes through `record_set_status`
        (signed when there is a signer), so a hazard that fails the approval check (ISO 14971
        7.3, 7.4) stops the load instead of being approved."""
        if target in (Status.IN_REVIEW, Status.APPROVED):
            record = services.record_set_status(
                record=record,
                status=Status.IN_REVIEW,
                by=self.by,
                reason=f"Submitted for review: {what} complete ({self.doc})",
                expected_version=record.version,
            )
        if (
            target == Status.APPROVED
            and isinstance(record, Hazard)
            and not Product.objects.get(pk=record.product_id).risk_policy.is_approved
        ):
            return  # not evaluated without an approved policy: stays in review
        if target == Status.APPROVED:
            reason = f"Approved at risk review board, {self.doc}"
            if self.signer:
                self.signer.approve(record, reason=reason)
            else:
                services.record_set_status(
                    record=record,
                    status=Status.APPROVED,
                    by=self.by,
                    reason=reason,
                    expected_version=record.version,
                )

    def existing_links(self, model) -> set:
        """Keys of the product's links of one kind, read once (one query per link kind)."""
        if model not in self.link_keys:
            source, target = model.SOURCE_FIELD, model.TARGET_FIELD
            names = sorted([source, target, *(["cause_type"] if hasattr(model, "cause") else [])])
            columns = [f"{n}_id" if n in (source, target) else n for n in names]
            rows = model.objects.filter(**{f"{source}__product": self.result.product})
            self.link_keys[model] = {
                tuple(zip(names, row, strict=True)) for row in rows.values_list(*columns)
            }
        return self.link_keys[model]

    def link(self, model, service, *, reason: str, ends: dict, **extra) -> None:
        """Create a link through its service unless it exists (`ends` identify it)."""
        key = tuple(sorted((name, getattr(v, "pk", v)) for name, v in ends.items()))
        existing = self.existing_links(model)
        if key in existing:
            return
        self.new_links.append(service(by=self.by, reason=reason, **ends, **extra))
        existing.add(key)
        self.result.count("links")

    def review_moved_links(self, occasion: str) -> None:
        """Links made in this run whose end then moved on (a status change raises the version)
        are confirmed by the reviewer, as a quality engineer does when approving the row."""
        for link in self.new_links:
            link = type(link).objects.get(pk=link.pk)
            if link.is_suspect:
                link_review(link, by=self.by, reason=f"Link confirmed during {occasion}")
        self.new_links = []

    # -- ISO 14971 side -----------------------------------------------------------------------

    def memberships(self, product: Product) -> None:
        for user in self.members:
            if not Membership.objects.filter(product=product, user=user).exists():
                services.membership_add(
                    product=product,
                    user=user,
                    by=self.admin,
                    reason="Demo login given access to the demo product",
                )
                self.result.count("memberships")

    def approve_policy(self, product: Product) -> None:
        """The product's own copy of the template, approved by the demo login's signature
        (ISO 14971 4.4 d; 21 CFR 11.50) in the run that created the product; without a signer
        it stays a draft and risks are not evaluated."""
        if not (self.signer and self.result.created.get("products")):
            return
        policy = RiskPolicy.objects.get(product=product)
        policy = services.record_set_status(
            record=policy,
            status=Status.IN_REVIEW,
            by=self.by,
            reason=f"Acceptability criteria submitted for review ({self.doc})",
            expected_version=policy.version,
        )
        self.signer.approve(
            policy, reason=f"Risk management plan {self.doc}: acceptability criteria approved"
        )
        self.result.count("policy_approvals")

    def controls(self, product: Product) -> dict[str, RiskControl]:
        controls = {c.code: c for c in product.controls.all()}
        for spec in self.m.CONTROLS:
            if spec["code"] in controls:
                continue
            control = services.control_create(
                product=product,
                by=self.by,
                reason=f"Risk control measure selected (ISO 14971 7.1), {self.doc}",
                code=spec["code"],
                **{k: spec[k] for k in CONTROL_FIELDS if k in spec},
            )
            self.new_codes.add(control.code)
            self.result.count("controls")
            # Controls are approved before they are linked, so their links start clean.
            self.set_status(control, spec.get("status", Status.DRAFT), what="control")
            controls[control.code] = RiskControl.objects.get(pk=control.pk)
        return controls

    def hazards(self, product: Product, controls: dict[str, RiskControl]) -> dict[str, Hazard]:
        hazards = {h.code: h for h in product.hazards.all()}
        for spec in self.m.HAZARDS:
            if spec["code"] in hazards:
                continue
            hazards[spec["code"]] = services.hazard_create(
                product=product,
                by=self.by,
                reason=f"Identified in hazard analysis (ISO 14971 5.4), {self.doc}",
                code=spec["code"],
                owner=self.by,
                **{k: spec[k] for k in HAZARD_FIELDS if k in spec},
            )
            self.new_codes.add(spec["code"])
            self.result.count("hazards")

        for spec in self.m.HAZARDS:
            hazard = hazards[spec["code"]]
            for code in spec.get("controls", ()):
                self.link(
                    HazardControl,
                    services.hazard_control_link,
                    reason=f"{code} reduces the risk of {hazard.code} (ISO 14971 7.1)",
                    ends={"hazard": hazard, "control": controls[code]},
                )
            for code in spec.get("leads_to", ()):
                self.link(
                    HazardTransfer,
                    services.hazard_transfer_link,
                    reason=f"Security risk {hazard.code} can lead to {code}: transferred",
                    ends={"security_hazard": hazard, "safety_hazard": hazards[code]},
                )
        for control_code, hazard_code in getattr(self.m, "INTRODUCED", ()):
            self.link(
                ControlIntroducedHazard,
                services.control_introduces_link,
                reason=f"{control_code} introduces {hazard_code}, analysed (ISO 14971 7.5)",
                ends={"control": controls[control_code], "hazard": hazards[hazard_code]},
            )

        for spec in self.m.HAZARDS:
            if spec["code"] in self.new_codes:
                hazard = Hazard.objects.get(pk=hazards[spec["code"]].pk)
                self.set_status(hazard, spec.get("status", Status.DRAFT), what="risk analysis")
        self.review_moved_links("the hazard's review and approval")
        return {code: Hazard.objects.get(pk=h.pk) for code, h in hazards.items()}

    # -- IEC 62304 side -----------------------------------------------------------------------

    def traceability(self, product, controls, hazards) -> None:
        from traceability import services as trace
        from traceability.models import (
            ControlEffectivenessTest,
            ControlImplementationTest,
            ControlRequirement,
            Requirement,
            RequirementTest,
            SoftwareItemHazard,
        )

        items = {i.code: i for i in product.software_items.all()}
        for spec in self.m.SOFTWARE_ITEMS:
            if spec["code"] in items:
                continue
            items[spec["code"]] = trace.software_item_create(
                product=product,
                by=self.by,
                reason=(
                    f"SOUP item recorded (IEC 62304 8.1.2), {self.doc}"
                    if spec.get("is_soup")
                    else f"Software item of the architecture (IEC 62304 5.3), {self.doc}"
                ),
                code=spec["code"],
                parent=items[spec["parent"]] if spec.get("parent") else None,
                **{k: spec[k] for k in SOFTWARE_ITEM_FIELDS if k in spec},
            )
            self.new_codes.add(spec["code"])
            self.result.count("software_items")
            # Approved before it is linked (IEC 62304 4.3 classification, 8.1.2 SOUP record).
            self.set_status(
                items[spec["code"]], spec.get("status", Status.APPROVED), what="software item"
            )
            items[spec["code"]] = type(items[spec["code"]]).objects.get(pk=items[spec["code"]].pk)

        requirements = {r.code: r for r in product.requirements.all()}
        for spec in self.m.REQUIREMENTS:
            if spec["code"] in requirements:
                continue
            requirement = trace.requirement_create(
                product=product,
                by=self.by,
                reason=f"Requirement specified (IEC 62304 5.2, 7.2), {self.doc}",
                code=spec["code"],
                parent=requirements[spec["parent"]] if spec.get("parent") else None,
                software_item=items[spec["item"]] if spec.get("item") else None,
                **{k: spec[k] for k in REQUIREMENT_FIELDS if k in spec},
            )
            self.new_codes.add(requirement.code)
            self.result.count("requirements")
            # Approved before it is linked, so its links start clean.
            self.set_status(
                requirement,
                spec.get("status", Status.APPROVED),
                what="specification",
            )
            requirements[requirement.code] = Requirement.objects.get(pk=requirement.pk)

        tests = {t.code: t for t in product.test_cases.all()}
        recorded = set(
            product.test_cases.filter(runs__isnull=False).values_list(
                "code", "runs__external_reference"
            )
        )
        epoch = demo_epoch()
        for index, spec in enumerate(self.m.TEST_CASES):
            if spec["code"] not in tests:
                tests[spec["code"]] = trace.test_case_create(
                    product=product,
                    by=self.by,
                    reason=f"Verification activity defined (IEC 62304 5.7), {self.doc}",
                    code=spec["code"],
                    **{k: spec[k] for k in TEST_CASE_FIELDS if k in spec},
                )
                self.result.count("test_cases")
                self.set_status(
                    tests[spec["code"]], spec.get("status", Status.APPROVED), what="test procedure"
                )
                tests[spec["code"]] = type(tests[spec["code"]]).objects.get(
                    pk=tests[spec["code"]].pk
                )
            # Default: one passing run on the release under test, in the last four weeks before
            # the epoch — after every run of an earlier version the module lists, so no release
            # is shown tested before the builds that preceded it.
            runs = spec.get("runs") or [(3 + (index * 7) % 26, "pass", self.m.SOFTWARE_VERSION, "")]
            for number, (days_ago, result, version, notes) in enumerate(runs, 1):
                reference = f"{self.m.CI_PREFIX}/{spec['code'].lower()}/run-{number}"
                if (spec["code"], reference) in recorded:
                    continue
                trace.test_run_record(
                    test_case=tests[spec["code"]],
                    by=self.by,
                    result=result,
                    executed_at=epoch - dt.timedelta(days=days_ago, minutes=7 * index),
                    software_version=version,
                    notes=notes,
                    external_reference=reference,
                    reason=f"Evidence recorded: {spec['code']} {result} on {version}",
                )
                self.result.count("test_runs")

        for spec in self.m.REQUIREMENTS:
            requirement = requirements[spec["code"]]
            for code in spec.get("controls", ()):
                self.link(
                    ControlRequirement,
                    trace.control_requirement_link,
                    reason=f"{code} implemented by {requirement.code} (IEC 62304 7.2)",
                    ends={"control": controls[code], "requirement": requirement},
                )
        for spec in self.m.TEST_CASES:
            test = tests[spec["code"]]
            for code in spec.get("requirements", ()):
                self.link(
                    RequirementTest,
                    trace.requirement_test_link,
                    reason=f"{code} verified by {test.code} (IEC 62304 5.7)",
                    ends={"requirement": requirements[code], "test_case": test},
                )
            for code in spec.get("implementation_of", ()):
                self.link(
                    ControlImplementationTest,
                    trace.control_implementation_test_link,
                    reason=f"Implementation of {code} verified by {test.code} (ISO 14971 7.2)",
                    ends={"control": controls[code], "test_case": test},
                )
            for code in spec.get("effectiveness_of", ()):
                self.link(
                    ControlEffectivenessTest,
                    trace.control_effectiveness_test_link,
                    reason=f"Effectiveness of {code} verified by {test.code} (ISO 14971 7.2)",
                    ends={"control": controls[code], "test_case": test},
                )
        for spec in self.m.HAZARDS:
            hazard = hazards[spec["code"]]
            for item_code, cause_type, cause in spec.get("software", ()):
                self.link(
                    SoftwareItemHazard,
                    trace.software_item_hazard_link,
                    reason=f"{item_code} can contribute to {hazard.code} (IEC 62304 7.1)",
                    ends={
                        "software_item": items[item_code],
                        "hazard": hazard,
                        "cause_type": cause_type,
                    },
                    cause=cause,
                )
        self.new_links = []
        self.design_freeze(product)

        # Edits made after the trace was built, as happen in real projects: the links that touch
        # the edited requirement become suspect until someone reviews them (a demo gap).
        for code, changes, reason in getattr(self.m, "LATER_REQUIREMENT_CHANGES", ()):
            if code in self.new_codes:
                trace.requirement_update(
                    requirement=requirements[code],
                    by=self.by,
                    reason=reason,
                    **changes,
                    expected_version=requirements[code].version,
                )
                self.result.count("later_changes")

    def design_freeze(self, product) -> None:
        """A signed baseline of the file as designed (ISO 14971 4.5; IEC 62304 8.1.3), taken
        only in the run that created the product and only by a signer, never twice."""
        if not (self.signer and self.result.created.get("products")):
            return
        from traceability.baselines.models import Baseline
        from traceability.baselines.services import baseline_create

        if Baseline.objects.filter(product=product, name=DESIGN_FREEZE).exists():
            return
        reason = f"Design frozen at the risk review board, {self.doc}"
        baseline = baseline_create(
            product=product,
            name=DESIGN_FREEZE,
            by=self.by,
            note="The risk management file as approved, before the later changes.",
            reason=reason,
            sign=False,  # signed just below, in the signer's session
        )
        self.signer.sign(baseline, reason=reason)
        self.result.count("baselines")


def load_product(
    module, *, by, admin=None, members=(), signer: DemoSigner | None = None
) -> LoadResult:
    """Load one demo product module; see `ProductLoader`."""
    return ProductLoader(module, by=by, admin=admin, members=members, signer=signer).load()
