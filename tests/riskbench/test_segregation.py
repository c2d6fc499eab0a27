"""Segregation of duties (ISO 14971 9, 4.3): `RISKBENCH_SEGREGATION_OF_DUTIES`, on by default,
refuses an "approved" signature by the last author of the signed content."""

import importlib
import os
from unittest import mock

import pytest
from django.test import override_settings

from hazards import services
from riskbench import roles, signatures
from riskbench.models import Signature, Status
from tests import factories
from tests.riskbench.test_signatures import PASSWORD, approvable_hazard, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(product):
    user = factories.UserFactory(username="colleague", role=roles.QUALITY_ENGINEER)
    factories.MembershipFactory(product=product, user=user)
    return user


def test_the_setting_is_on_unless_turned_off():
    import riskbench.settings as project_settings

    with mock.patch.dict(os.environ, {}, clear=False):
        os.environ.pop("RISKBENCH_SEGREGATION_OF_DUTIES", None)
        assert importlib.reload(project_settings).RISKBENCH_SEGREGATION_OF_DUTIES is True
        os.environ["RISKBENCH_SEGREGATION_OF_DUTIES"] = "0"
        assert importlib.reload(project_settings).RISKBENCH_SEGREGATION_OF_DUTIES is False
    importlib.reload(project_settings)


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_the_author_may_not_approve_own_content(product, editor):
    hazard = approvable_hazard(product, editor)
    with pytest.raises(signatures.SignatureRefused, match="Segregation of duties"):
        sign(hazard, editor, meaning="approved")
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW
    assert not Signature.objects.exists()


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_the_author_may_still_sign_as_reviewed_or_authored(product, editor):
    hazard = approvable_hazard(product, editor)
    sign(hazard, editor, meaning="authored")
    sign(hazard, editor, meaning="reviewed")
    assert Signature.objects.count() == 2


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_another_person_approves(product, editor, colleague):
    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, colleague, meaning="approved")
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED
    assert signature.signer == colleague


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_the_last_author_counts_not_the_creator(product, editor, colleague):
    """The colleague edits the content the editor created and submitted: the colleague wrote
    the current version, so the colleague may not approve it, the editor may."""
    hazard = approvable_hazard(product, editor)
    hazard = services.hazard_update(
        hazard=hazard,
        by=colleague,
        reason="Clearer harm",
        harm="Severe hypoglycaemia, coma",
        expected_version=hazard.version,
    )
    assert hazard.status == Status.IN_REVIEW
    assert signatures.last_author(hazard) == colleague
    with pytest.raises(signatures.SignatureRefused, match="Segregation of duties"):
        sign(hazard, colleague, meaning="approved")
    sign(hazard, editor, meaning="approved")
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=False)
def test_turned_off_the_author_may_approve(product, editor):
    hazard = approvable_hazard(product, editor)
    sign(hazard, editor, meaning="approved")
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_the_sign_page_shows_the_refusal(client, product, editor):
    hazard = approvable_hazard(product, editor)
    client.force_login(editor)
    response = client.post(
        f"/signatures/hazard/{hazard.pk}/sign/",
        {
            "meaning": "approved",
            "username": editor.username,
            "password": PASSWORD,
            "expected_version": hazard.version,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Segregation of duties" in response.content.decode()
    assert not Signature.objects.exists()
