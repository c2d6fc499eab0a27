"""Competence on record (ISO 14971 4.3): a person's role and qualification, kept by
administrators, shown with each signature as it stood at signing."""

import pytest
from django.core.exceptions import PermissionDenied

from riskbench import services
from riskbench.competence import competence_at
from riskbench.models import UserProfile
from tests import factories
from tests.riskbench.test_signatures import approvable_hazard, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


def test_only_an_administrator_records_competence(editor, admin_user):
    with pytest.raises(PermissionDenied):
        services.profile_update(user=editor, by=editor, role_title="Boss", qualification="Me")
    profile = services.profile_update(
        user=editor, by=admin_user, reason="Hired", role_title="Risk manager", qualification="PhD"
    )
    row = profile.history.get()
    assert (row.history_user, row.history_change_reason) == (admin_user, "Hired")
    assert (row.role_title, row.qualification) == ("Risk manager", "PhD")


def test_a_signature_shows_the_role_held_at_signing(product, editor, admin_user):
    services.profile_update(user=editor, by=admin_user, role_title="Engineer", qualification="BSc")
    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, editor, meaning="reviewed")
    services.profile_update(user=editor, by=admin_user, role_title="Director", qualification="MBA")
    key = (editor.pk, signature.signed_at)
    assert str(competence_at([key])[key]) == "Engineer — BSc"


def test_admin_page_saves_through_the_service(client, admin_user, editor):
    client.force_login(admin_user)
    response = client.post(
        "/admin/riskbench/userprofile/add/",
        {"user": editor.pk, "role_title": "Clinical expert", "qualification": "MD"},
    )
    assert response.status_code == 302
    profile = UserProfile.objects.get(user=editor)
    assert profile.history.get().history_user == admin_user
    assert profile.role_title == "Clinical expert"
