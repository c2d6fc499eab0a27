"""factory_boy factories for every model the tests build. Regulated records made here bypass
the services (fast fixtures); tests of behaviour go through the services."""

import datetime as dt

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from hazards import risk
from hazards.models import (
    Category,
    ControlOption,
    Hazard,
    HazardControl,
    Membership,
    Product,
    RiskControl,
    RiskPolicy,
)
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementLevel,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestResult,
    TestRun,
)


def default_policy() -> RiskPolicy:
    """The seeded default template (a row without a product); made again if a transactional
    test flushed the database."""
    template = RiskPolicy.objects.filter(product__isnull=True).order_by("pk").first()
    if template is None:
        data = risk.PolicyData.default()
        template = RiskPolicy.objects.create(
            name="Default risk policy (ISO/TR 24971 5 × 5)", status="approved", **data.criteria()
        )
    return template


def own_policy(product, *, approved: bool = True, template: RiskPolicy | None = None):
    """The product's own copy of a template (as `product_create` makes it); `approved` also
    puts its criteria in force, as an approval by signature would (fast fixture: no service,
    no signature)."""
    template = template or default_policy()
    criteria = {name: getattr(template, name) for name in risk.PolicyData.POLICY_FIELDS}
    return RiskPolicy.objects.create(
        product=product,
        name=template.name,
        description=template.description,
        template=template,
        template_version=template.version,
        status="approved" if approved else "draft",
        approved_criteria=criteria if approved else None,
        approved_version=1 if approved else None,
        **criteria,
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Insulin pump {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    model_number = "IP-200 v2.1"
    document_number = factory.Sequence(lambda n: f"RMF-{n:04d}")
    intended_use = "Subcutaneous delivery of insulin for the management of diabetes mellitus."

    @factory.post_generation
    def policy_approved(self, create, extracted, **kwargs):
        """Every product owns a policy; pass `policy_approved=False` for one not approved."""
        if create:
            own_policy(self, approved=extracted is not False)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)


class HazardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hazard

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"HAZ-{n + 1:03d}")
    category = Category.SAFETY
    title = factory.Sequence(lambda n: f"Over-delivery of insulin {n}")
    hazard = "Excess insulin (energy / chemical)"
    sequence_of_events = "Occlusion released suddenly after a bolus"
    hazardous_situation = "Patient receives a bolus larger than programmed"
    harm = "Severe hypoglycaemia"
    severity = 4
    p1 = 3
    p2 = 3
    probability = 2
    initial_risk_index = 8
    initial_acceptability = "investigate"


class RiskControlFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskControl

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"RC-{n + 1:03d}")
    title = factory.Sequence(lambda n: f"Occlusion detection by motor current {n}")
    option = ControlOption.PROTECTIVE_MEASURE


class HazardControlFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HazardControl

    hazard = factory.SubFactory(HazardFactory)
    control = factory.SubFactory(
        RiskControlFactory, product=factory.SelfAttribute("..hazard.product")
    )


class SoftwareItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SoftwareItem

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SW-{n + 1:03d}")
    name = factory.Sequence(lambda n: f"Dose controller {n}")
    safety_class = "C"


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SRS-{n + 1:03d}")
    level = RequirementLevel.SOFTWARE
    title = factory.Sequence(lambda n: f"Stop delivery on occlusion {n}")
    text = "The pump shall stop delivery within 2 s of detecting an occlusion."


class TestCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TestCase

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"TC-{n + 1:03d}")
    title = factory.Sequence(lambda n: f"Occlusion stop test {n}")


class TestRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TestRun

    test_case = factory.SubFactory(TestCaseFactory)
    result = TestResult.PASS
    executed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    software_version = "2.1.0"


class ControlRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ControlRequirement

    control = factory.SubFactory(RiskControlFactory)
    requirement = factory.SubFactory(
        RequirementFactory, product=factory.SelfAttribute("..control.product")
    )


class RequirementTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequirementTest

    requirement = factory.SubFactory(RequirementFactory)
    test_case = factory.SubFactory(
        TestCaseFactory, product=factory.SelfAttribute("..requirement.product")
    )


class ControlImplementationTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ControlImplementationTest

    control = factory.SubFactory(RiskControlFactory)
    test_case = factory.SubFactory(
        TestCaseFactory, product=factory.SelfAttribute("..control.product")
    )


class ControlEffectivenessTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ControlEffectivenessTest

    control = factory.SubFactory(RiskControlFactory)
    test_case = factory.SubFactory(
        TestCaseFactory, product=factory.SelfAttribute("..control.product")
    )


class SoftwareItemHazardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SoftwareItemHazard

    software_item = factory.SubFactory(SoftwareItemFactory)
    hazard = factory.SubFactory(
        HazardFactory, product=factory.SelfAttribute("..software_item.product")
    )
    cause_type = "defect"


def signed_report(product, reviewer=None):
    """A complete risk management report of the product's version under review (ISO 14971 §8,
    §9), approved and signed by its one named reviewer — what the release gate asks for (fast
    fixture: no service; the signature is appended as the signing service does)."""
    from riskbench import roles
    from riskbench.signatures import signature_create
    from traceability.report.models import RiskManagementReport

    if reviewer is None:
        reviewer = UserFactory(role=roles.QUALITY_ENGINEER)
        MembershipFactory(product=product, user=reviewer)
    report = RiskManagementReport.objects.create(
        product=product,
        release=product.model_number,
        status="approved",
        evaluation_method="Per the plan (4.4 f).",
        data_considered="The whole risk management file.",
        overall_residual_risk_conclusion="Benefits outweigh the overall residual risk.",
        overall_residual_risk_acceptable=True,
        plan_implemented=True,
        plan_implemented_basis="Every planned activity has its record.",
        residual_risk_acceptable=True,
        residual_risk_acceptable_basis="See §8.",
        post_production_methods_in_place=True,
        post_production_methods_basis="Complaint handling and vulnerability monitoring.",
        reviewers=[{"user": reviewer.pk, "role": "Head of quality"}],
    )
    signature_create(record=report, by=reviewer, meaning="approved", reason="Released")
    return report


def approve_all(product) -> None:
    """Every record of the product approved (fast fixture: a status set without service or
    signature), as the release gate requires (traceability.gate: record_not_approved)."""
    for model in (Hazard, RiskControl, Requirement, TestCase, SoftwareItem):
        for record in model.objects.filter(product=product):
            record.status = "approved"
            record.save()


def sign_plan(product, signer=None):
    """An "approved" signature on the product's scope and plan as they are now (fast fixture:
    no password check, no audit entry), which the release gate asks for (plan_not_approved)."""
    from django.contrib.contenttypes.models import ContentType

    from riskbench.models import Signature
    from riskbench.signatures import record_content_sha256

    product = Product.objects.get(pk=product.pk)
    signer = signer or UserFactory(username="plan-approver")
    return Signature.objects.create(
        content_type=ContentType.objects.get_for_model(Product),
        object_id=product.pk,
        record_label=str(product)[:255],
        record_version=product.version,
        product=product,
        signer=signer,
        printed_name=signer.get_full_name() or signer.get_username(),
        signed_at=timezone.now(),
        meaning="approved",
        content_sha256=record_content_sha256(product),
    )


def release_ready(product, signer=None) -> None:
    """Approve every record, sign the plan and the risk management report: with a complete
    chain, the gate then passes."""
    approve_all(product)
    sign_plan(product, signer)
    signed_report(product)


def complete_chain(product, **hazard_fields):
    """One hazard with a complete, verified chain whose initial and residual risks are
    estimated: hazard → control → requirement → test (implementation and effectiveness) →
    passing run. Returns the hazard."""
    fields = {
        "initial_acceptability": "unacceptable",
        "residual_severity": 4,
        "residual_p1": 1,
        "residual_p2": 1,
        "residual_probability": 1,
        "residual_risk_index": 4,
        "residual_acceptability": "acceptable",
        **hazard_fields,
    }
    hazard = HazardFactory(product=product, **fields)
    link = HazardControlFactory(hazard=hazard)
    requirement = ControlRequirementFactory(control=link.control).requirement
    test_case = RequirementTestFactory(requirement=requirement).test_case
    ControlImplementationTestFactory(control=link.control, test_case=test_case)
    ControlEffectivenessTestFactory(control=link.control, test_case=test_case)
    TestRunFactory(test_case=test_case, result="pass")
    return hazard
