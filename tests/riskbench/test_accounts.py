"""Accounts hardening: password rules, login throttling, idle session expiry, access log
(21 CFR 11.10(d), 11.300(b)(d))."""

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from riskbench.models import AccessLogEntry
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.parametrize(
    "password",
    ["short1!", "password123", "12345678901234", "alice.quinn-2025"],
    ids=["too short", "common", "numeric", "like the user name"],
)
def test_weak_passwords_are_refused(password):
    user = factories.UserFactory.build(username="alice.quinn", email="alice.quinn@example.org")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_is_accepted():
    validate_password("tidal-Orchid-41-lantern")


def test_login_is_locked_after_repeated_failures_even_with_the_right_password(
    client, editor, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        response = login(client, "editor", "wrong")
        assert response.status_code == 200  # the form again, with an error
    response = login(client, "editor", "wrong")
    assert response.status_code == 429
    response = login(client, "editor", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked by this one's failures.
    other = factories.UserFactory(username="other")
    assert login(client, other.username, PASSWORD).status_code == 302
    actions = list(AccessLogEntry.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions.count("login_failed") >= 3
    assert "login_locked" in actions


def test_a_successful_login_resets_the_failure_count(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login(client, "editor", "wrong")
    login(client, "editor", "wrong")
    assert login(client, "editor", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    login(client, "editor", "wrong")
    assert login(client, "editor", PASSWORD).status_code == 302


def test_logins_failures_and_logouts_are_access_logged(client, editor):
    login(client, "editor", "wrong")
    login(client, "editor", PASSWORD)
    client.post(reverse("logout"))
    entries = list(AccessLogEntry.objects.order_by("at", "id"))
    assert [e.action for e in entries] == ["login_failed", "login", "logout"]
    assert entries[0].username == "editor" and entries[0].user is None
    assert entries[1].user == editor and entries[1].ip_address == "127.0.0.1"


def test_an_idle_session_expires(client, editor, settings):
    settings.SESSION_COOKIE_AGE = 600
    assert login(client, "editor", PASSWORD).status_code == 302
    home = reverse("hazards:product_list")
    assert client.get(home).status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    # Every request renews the expiry (SESSION_SAVE_EVERY_REQUEST): idle time, not login age.
    remaining = session.expire_date - timezone.now()
    assert dt.timedelta(seconds=590) < remaining <= dt.timedelta(seconds=600)
    # Ten idle minutes later the session is gone: back to the login page.
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_session_settings_expire_on_inactivity():
    from django.conf import settings

    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert "axes.middleware.AxesMiddleware" in settings.MIDDLEWARE
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


# --- Password reset only when e-mail can deliver it (issue 9 §5) --------------------------------

RESET_URLS = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("backend", "switch"),
    [
        ("django.core.mail.backends.console.EmailBackend", True),  # would print links to the log
        ("django.core.mail.backends.locmem.EmailBackend", True),
        ("django.core.mail.backends.dummy.EmailBackend", True),
        (SMTP, False),  # a mail server, but switched off
    ],
)
def test_password_reset_is_not_found_unless_mail_is_delivered(client, settings, backend, switch):
    settings.EMAIL_BACKEND = backend
    settings.RISKBENCH_PASSWORD_RESET = switch
    for url in RESET_URLS:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"email": "editor@example.org"}).status_code == 404, url


def test_password_reset_works_with_a_mail_server_and_the_switch_on(client, settings, editor):
    settings.EMAIL_BACKEND = SMTP
    settings.RISKBENCH_PASSWORD_RESET = True
    response = client.get(RESET_URLS[0])
    assert response.status_code == 200  # reachable without logging in
    assert client.get(RESET_URLS[1]).status_code == 200


def test_password_reset_defaults_to_off_without_a_mail_host():
    from django.conf import settings

    assert settings.EMAIL_HOST == ""
    assert settings.RISKBENCH_PASSWORD_RESET is False


def test_password_change_is_still_there_for_a_logged_in_user(editor_client):
    assert editor_client.get("/accounts/password_change/").status_code == 200
