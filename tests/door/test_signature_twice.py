"""A double-submitted signature is one signature (issue 9 §1, third case): one per record,
signer, meaning and content hash — in the service (under the record's lock) and in the
database (unique constraint). On PostgreSQL two identical "approved" POSTs race in threads."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from hazards.models import Hazard
from riskbench.models import Signature
from tests.door.concurrency import needs_postgresql, run_in_threads
from tests.riskbench.test_signatures import PASSWORD, approvable_hazard, sign


def _approve_post(editor, hazard):
    client = Client()
    client.force_login(editor)
    return client.post(
        reverse("core:sign", args=["hazard", hazard.pk]),
        {"meaning": "approved", "username": editor.username, "password": PASSWORD,
         "reason": "Checked", "expected_version": hazard.version},
    )  # fmt: skip


def _approvals(hazard):
    return Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(Hazard),
        object_id=hazard.pk,
        meaning="approved",
    )


@pytest.mark.django_db
def test_signing_the_same_content_twice_returns_the_first_signature(product, editor):
    hazard = approvable_hazard(product, editor)
    first = sign(hazard, editor, expected_version=hazard.version)
    second = sign(hazard, editor, expected_version=hazard.version)
    assert second.pk == first.pk
    assert _approvals(hazard).count() == 1
    assert Hazard.objects.get(pk=hazard.pk).status == "approved"


@pytest.mark.django_db
def test_the_database_refuses_a_second_identical_signature(product, editor):
    hazard = approvable_hazard(product, editor)
    first = sign(hazard, editor, expected_version=hazard.version)
    copy = Signature(
        **{
            f.attname: getattr(first, f.attname)
            for f in Signature._meta.concrete_fields
            if f.attname != "id"
        }
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_identical_concurrent_approvals_make_one_signature_and_no_error(product, editor):
    hazard = approvable_hazard(product, editor)
    responses = run_in_threads(
        lambda: _approve_post(editor, hazard), lambda: _approve_post(editor, hazard)
    )
    for response in responses:
        assert not isinstance(response, BaseException), repr(response)
        assert response.status_code == 302  # back to the record, no 500
    assert _approvals(hazard).count() == 1
    current = Hazard.objects.get(pk=hazard.pk)
    assert current.status == "approved"
    assert hazard.history.filter(status="approved").count() == 1  # approved once
