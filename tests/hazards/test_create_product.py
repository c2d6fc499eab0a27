"""`manage.py create_product`: administrators open a product's risk file from the command line,
with its own copy of a policy template and its members; anyone else is refused (exit 2) and
nothing is written."""

import pytest
from django.contrib.auth.models import Permission

from hazards import services
from hazards.models import Membership, Product, RiskPolicy
from riskbench.models import Status
from tests import factories
from tests.cli import run_command
from tests.integrations.helpers import db_counts


@pytest.fixture(autouse=True)
def no_default_user(monkeypatch):
    monkeypatch.delenv("RISKBENCH_USER", raising=False)


def test_an_administrator_creates_a_product_with_its_template_copy_and_members(
    admin_user, editor, auditor
):
    strict = services.policy_template_create(by=admin_user, name="Strict plan")
    result = run_command(
        "create_product", "lyra", "--name", "Lyra glucose monitor", "--policy", "Strict plan",
        "--member", "editor", "--member", "auditor", "editor", "--manufacturer", "Example Medical",
        "--model", "LG-1 v1.0", "--document-number", "RMF-LG-001", "--user", "admin",
    )  # fmt: skip
    assert result.code == 0, result.err
    product = Product.objects.get(slug="lyra")
    assert "Created product lyra" in result.out and "Strict plan v1" in result.out
    assert (product.name, product.manufacturer, product.model_number, product.document_number) == (
        "Lyra glucose monitor", "Example Medical", "LG-1 v1.0", "RMF-LG-001",
    )  # fmt: skip
    assert set(product.members.all()) == {editor, auditor}
    policy = product.risk_policy
    assert policy.template == strict and policy.pk != strict.pk
    assert policy.status == Status.DRAFT and not policy.is_approved
    assert product.history.get().history_user == admin_user


def test_the_default_template_by_default_and_a_template_by_id(admin_user):
    assert run_command("create_product", "a", "--name", "A", "--user", "admin").code == 0
    assert Product.objects.get(slug="a").risk_policy.template == factories.default_policy()
    template = factories.default_policy()
    result = run_command(
        "create_product", "b", "--name", "B", "--policy", str(template.pk), "--user", "admin"
    )
    assert result.code == 0, result.err


def test_a_quality_engineer_or_auditor_is_refused_and_nothing_is_written(editor, auditor):
    before = db_counts()
    for user in ("editor", "auditor"):
        result = run_command(
            "create_product", "mine", "--name", "Mine", "--member", user, "--user", user
        )
        assert result.code == 2
        assert "Only administrators" in result.err
    assert db_counts() == before


def test_a_delegated_staff_administrator_may_create_products(db):
    staff = factories.UserFactory(username="pm", is_staff=True)
    assert run_command("create_product", "x", "--name", "X", "--user", "pm").code == 2
    staff.user_permissions.add(Permission.objects.get(codename="add_product"))
    assert run_command("create_product", "x", "--name", "X", "--user", "pm").code == 0
    assert not Membership.objects.filter(user=staff).exists()  # not a member unless named


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["insulin-pump", "--name", "Dup"], "slug"),
        (["not a slug", "--name", "Bad"], "slug"),
        (["lyra", "--name", "L", "--policy", "Nope"], "No risk policy template 'Nope'"),
        (["lyra", "--name", "L", "--member", "ghost"], "No active user 'ghost'"),
        (["lyra", "--name", ""], "name"),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem_and_write_nothing(
    product, admin_user, args, message
):
    before = db_counts()
    templates = RiskPolicy.objects.filter(product__isnull=True).count()
    result = run_command("create_product", *args, "--user", "admin")
    assert result.code == 2
    assert message in result.err
    assert db_counts() == before
    assert RiskPolicy.objects.filter(product__isnull=True).count() == templates


def test_a_products_own_policy_is_not_accepted_as_a_template(product, admin_user):
    result = run_command(
        "create_product", "lyra", "--name", "L", "--policy", str(product.risk_policy.pk),
        "--user", "admin",
    )  # fmt: skip
    assert result.code == 2
    assert not Product.objects.filter(slug="lyra").exists()


def test_name_is_required_by_the_usage(admin_user):
    result = run_command("create_product", "lyra", "--user", "admin")
    assert result.code == 2 and "--name" in result.err
