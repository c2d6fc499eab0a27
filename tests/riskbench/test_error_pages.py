"""Styled 403 / 404 / 500 pages that say why and where to go, without leaking which products
exist; and the Content-Security-Policy header on pages (issue 9 §5)."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from riskbench.views import server_error


def test_404_of_a_product_you_are_not_a_member_of_is_the_same_as_of_no_product(
    outsider_client, product
):
    mine = outsider_client.get(f"/p/{product.slug}/hazards/")
    none = outsider_client.get("/p/no-such-product/hazards/")
    assert mine.status_code == none.status_code == 404

    # Same page, apart from the address it repeats and the CSRF token of the log-out form.
    def normal(response, slug):
        html = response.content.decode().replace(slug, "X")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert normal(mine, product.slug) == normal(none, "no-such-product")
    assert "There is nothing here" in mine.content.decode()
    assert product.name not in mine.content.decode()


def test_404_page_is_styled_and_offers_a_way_back(editor_client, product):
    response = editor_client.get(f"/p/{product.slug}/hazards/HAZ-999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "css/riskbench.css" in html
    assert f'href="{reverse("hazards:dashboard", args=[product.slug])}"' in html
    assert "No Hazard matches" not in html  # the exception's text is never shown


def test_403_says_why_and_where_to_go(auditor_client, product):
    response = auditor_client.get(reverse("hazards:hazard_create", args=[product.slug]))
    html = response.content.decode()
    assert response.status_code == 403
    assert "You may not do this" in html
    assert "Auditor" in html
    assert f'href="{reverse("hazards:dashboard", args=[product.slug])}"' in html


def test_500_page_renders_without_the_database():
    # No `db` fixture: any query would raise here.
    response = server_error(RequestFactory().get("/p/x/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.parametrize("url_name", ["hazards:hazard_list", "hazards:dashboard"])
def test_pages_carry_a_self_only_content_security_policy(editor_client, product, url_name):
    response = editor_client.get(reverse(url_name, args=[product.slug]))
    directives = {d.strip() for d in response["Content-Security-Policy"].split(";")}
    assert {
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    } <= directives
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_login_page_has_the_policy_too(client):
    response = client.get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_templates_carry_no_inline_script_handler_or_style():
    """CSP forbids them; keep them out of every template (they would fail silently)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
        if re.search(r"\sstyle\s*=", text) or "<style" in text:
            offenders.append(f"{path}: inline style")
    assert not offenders, offenders
