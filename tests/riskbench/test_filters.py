"""Typed query parameters (riskbench.filters): a value that does not fit a list page's filter is
ignored with a message naming it, never sent to the database; the API answers 400."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.urls import reverse

from riskbench.filters import FilterForm, FlagField, whole_number
from tests import factories
from tests.api.conftest import token_client


class SampleFilters(FilterForm):
    level = forms.ChoiceField(required=False, choices=[("a", "A"), ("b", "B")])
    p1 = forms.IntegerField(required=False, min_value=1, max_value=5)
    gaps = FlagField(required=False)
    q = forms.CharField(required=False, max_length=10)


def test_filters_that_fit_are_kept_and_the_others_ignored_with_a_message():
    form = SampleFilters({"level": "b", "p1": "1.5", "gaps": "maybe", "q": " pump "})
    assert form.values() == {"level": "b", "p1": "", "gaps": "", "q": "pump"}
    ignored = form.ignored()
    assert len(ignored) == 2
    assert ignored[0].startswith("Ignored the filter p1='1.5': Enter a whole number.")
    assert ignored[1].startswith("Ignored the filter gaps='maybe': Use true or false")


def test_a_missing_filter_is_empty_not_an_error():
    form = SampleFilters({})
    assert form.values() == {"level": "", "p1": "", "gaps": "", "q": ""}
    assert form.ignored() == []


def test_a_flag_reads_the_usual_words():
    assert SampleFilters({"gaps": "ON"}).values()["gaps"] == "1"
    assert SampleFilters({"gaps": "0"}).values()["gaps"] == ""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "not a whole number"),
        ("1.5", "not a whole number"),
        ("--1", "not a whole number"),
        ("\u00b2", "not a whole number"),  # str.isdigit() says yes, int() says no
        ("0", "less than 1"),
        ("99999999999999999999", "more than 2147483647"),
    ],
)
def test_whole_number_refuses_what_is_not_one(raw, message):
    with pytest.raises(ValueError, match=message):
        whole_number(raw, minimum=1)


def test_whole_number_reads_one():
    assert whole_number(" 42 ", minimum=1) == 42
    assert whole_number("10" * 20, maximum=None) == int("10" * 20)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_hazard_log_ignores_a_severity_that_is_no_level_and_says_so(editor_client, product):
    factories.HazardFactory(product=product, code="HAZ-001", severity=4)
    factories.HazardFactory(product=product, code="HAZ-002", severity=2)
    url = reverse("hazards:hazard_list", args=[product.slug])
    response = editor_client.get(url, {"severity": "abc", "status": "nonsense", "page": "x"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 2  # as if not given
    shown = " ".join(_messages(response))
    assert "Ignored the filter severity='abc'" in shown
    assert "Ignored the filter status='nonsense'" in shown
    assert "Ignored page: 'x' is not a whole number." in shown
    kept = editor_client.get(url, {"severity": "4"})
    assert [h.code for h in kept.context["page"].object_list] == ["HAZ-001"]
    assert _messages(kept) == []


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("traceability:requirement_list", {"level": "x"}, "level='x'"),
        ("traceability:test_case_list", {"result": "maybe"}, "result='maybe'"),
        ("traceability:matrix", {"gaps": "perhaps"}, "gaps='perhaps'"),
        ("traceability:matrix", {"page": "1.5"}, "page: '1.5'"),
        ("hazards:control_list", {"option": "magic"}, "option='magic'"),
    ],
)
def test_every_list_page_names_the_filter_it_ignored(editor_client, product, name, query, message):
    response = editor_client.get(reverse(name, args=[product.slug]), query)
    assert response.status_code == 200
    assert any(message in m for m in _messages(response)), _messages(response)


def test_the_audit_trail_keeps_the_filters_that_fit(editor_client, product, editor):
    factories.HazardFactory(product=product)
    url = reverse("core:audit_trail")
    response = editor_client.get(url, {"date_from": "yesterday", "product": product.slug})
    assert response.status_code == 200
    assert any("date_from='yesterday'" in m for m in _messages(response))
    assert response.context["page"].paginator.count >= 1  # the product filter still applies


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("software-items/", {"is_soup": "abc"}, "is_soup"),  # django-filter dropped it silently
        ("hazards/", {"category": "financial"}, "category"),
        ("hazards/", {"limit": "abc"}, "limit"),  # DRF used the default page silently
        ("hazards/", {"offset": "x"}, "offset"),
        ("hazards/", {"limit": "1.5"}, "limit"),
    ],
)
def test_api_answers_400_naming_the_parameter(product, editor, path, query, parameter):
    response = token_client(editor).get(f"/api/products/{product.slug}/{path}", query)
    assert response.status_code == 400
    assert parameter in response.json()


def test_api_boolean_filter_still_filters(product, editor):
    factories.SoftwareItemFactory(product=product, is_soup=True)
    factories.SoftwareItemFactory(product=product, is_soup=False)
    client = token_client(editor)
    url = f"/api/products/{product.slug}/software-items/"
    assert client.get(url, {"is_soup": "true"}).json()["count"] == 1
    assert client.get(url, {"is_soup": "0"}).json()["count"] == 1
    assert client.get(url).json()["count"] == 2
