"""The shared POST step of the create / edit pages, without a database: what it hands the
service, how it reports a stale edit, and where a service's errors land on the form."""

from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from riskbench.forms_flow import add_service_errors, submit_versioned_form
from riskbench.services import StaleEditError


class TitleForm(forms.Form):
    title = forms.CharField()
    version = forms.IntegerField(required=False)
    change_reason = forms.CharField(required=False)

    def service_fields(self) -> dict:
        return {"title": self.cleaned_data["title"]}


class Record:
    code = "HAZ-001"
    version = 3

    def __str__(self):
        return self.code


def post(data):
    request = RequestFactory().post("/", data)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def messages_of(request) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in request._messages]


def test_a_get_shows_the_form_and_calls_nothing():
    request = RequestFactory().get("/")
    calls = []
    submitted = submit_versioned_form(
        request, TitleForm(), lambda *args: calls.append(args), success="Saved."
    )
    assert not submitted.saved and submitted.stale_changes is None
    assert calls == []


def test_an_invalid_form_calls_nothing():
    request = post({"title": ""})
    calls = []
    form = TitleForm(request.POST)
    submitted = submit_versioned_form(
        request, form, lambda *args: calls.append(args), success="Saved."
    )
    assert not submitted.saved and calls == [] and "title" in form.errors


def test_the_service_gets_fields_reason_and_loaded_version():
    request = post({"title": "Alarm", "version": "2", "change_reason": "FC-12"})
    calls = []
    record = Record()

    def save(fields, reason, version):
        calls.append((fields, reason, version))
        return record

    submitted = submit_versioned_form(
        request, TitleForm(request.POST), save, success=lambda r: f"{r.code} saved."
    )
    assert calls == [({"title": "Alarm"}, "FC-12", 2)]
    assert submitted.saved and submitted.record is record
    assert messages_of(request) == [("success", "HAZ-001 saved.")]


def test_a_stale_edit_is_refused_with_what_changed():
    request = post({"title": "Mine", "version": "2"})
    form = TitleForm(request.POST)
    changes = [("title", "Alarm", "Loud alarm")]

    def save(fields, reason, version):
        raise StaleEditError(Record(), version, changes)

    submitted = submit_versioned_form(request, form, save, success="Saved.")
    assert not submitted.saved
    assert submitted.stale_changes == changes
    assert "you loaded version 2" in form.non_field_errors()[0]
    assert messages_of(request) == [
        ("error", "Not saved: the record changed while you were editing it.")
    ]


def test_a_service_error_lands_on_the_form_without_a_message():
    request = post({"title": "Mine"})
    form = TitleForm(request.POST)

    def save(fields, reason, version):
        raise ValidationError({"title": "Already used."})

    submitted = submit_versioned_form(request, form, save, success="Saved.")
    assert not submitted.saved and submitted.stale_changes is None
    assert form.errors["title"] == ["Already used."]
    assert messages_of(request) == []


def test_service_errors_go_on_the_field_they_name_or_on_the_form_with_its_name():
    form = TitleForm({"title": "x"})
    form.is_valid()
    add_service_errors(
        form,
        ValidationError(
            {"title": "Too short.", "residual_risk": "Not acceptable.", "__all__": "Whole form."}
        ),
    )
    assert form.errors["title"] == ["Too short."]
    assert form.non_field_errors() == ["Residual risk: Not acceptable.", "Whole form."]


def test_an_error_without_a_field_goes_on_the_form():
    form = TitleForm({"title": "x"})
    form.is_valid()
    add_service_errors(form, ValidationError(["First.", "Second."]))
    assert form.non_field_errors() == ["First.", "Second."]
