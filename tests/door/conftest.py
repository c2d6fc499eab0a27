"""Fixtures of the one-door tests. The role groups are seeded by a migration; a transactional
test (real threads on PostgreSQL) flushes them, so they are made again here."""

import importlib

import pytest
from django.contrib.auth.models import Group

from riskbench import roles
from tests import factories

ROLE_GROUPS = importlib.import_module(
    "hazards.migrations.0002_default_policy_and_roles"
).ROLE_GROUPS


@pytest.fixture
def editor(product):
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)
    user = factories.UserFactory(username="editor", role=roles.QUALITY_ENGINEER)
    factories.MembershipFactory(product=product, user=user)
    return user
