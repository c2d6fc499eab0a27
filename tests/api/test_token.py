"""A user creates, replaces and revokes their own API token on a small page; the token then
authenticates the API with that user's role, and only while it exists."""

from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tests.api.conftest import token_client


def test_token_page_needs_a_login(client, db):
    response = client.get("/api/token/")
    assert response.status_code == 302
    assert "/accounts/login/" in response.headers["Location"]


def test_editor_creates_a_token_shown_once_that_authenticates_the_api(client, editor, product):
    client.force_login(editor)
    page = client.get("/api/token/")
    assert page.status_code == 200
    assert b"You have no token yet" in page.content

    created = client.post("/api/token/", {"action": "create"})
    key = Token.objects.get(user=editor).key
    assert key.encode() in created.content
    assert key.encode() not in client.get("/api/token/").content  # shown once

    api = token_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/products/{product.slug}/hazards/").status_code == 200


def test_replacing_the_token_revokes_the_old_one(client, editor, product):
    client.force_login(editor)
    client.post("/api/token/", {"action": "create"})
    old = Token.objects.get(user=editor).key
    client.post("/api/token/", {"action": "create"})
    new = Token.objects.get(user=editor).key
    assert new != old
    api = token_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get(f"/api/products/{product.slug}/hazards/").status_code == 401


def test_revoked_token_no_longer_works(client, auditor, product):
    client.force_login(auditor)
    client.post("/api/token/", {"action": "create"})
    key = Token.objects.get(user=auditor).key
    client.post("/api/token/", {"action": "revoke"})
    assert not Token.objects.filter(user=auditor).exists()
    api = token_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/products/{product.slug}/hazards/").status_code == 401


def test_administrator_creates_a_token_with_the_management_command(editor, capsys):
    call_command("drf_create_token", "editor")
    assert Token.objects.get(user=editor).key in capsys.readouterr().out
