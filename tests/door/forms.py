"""Read the POST a browser would send from an edit page's HTML form (test helper)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    """Collects the fields of every POST form on a page: inputs, checked boxes, selected
    options and textareas, as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._form = None
        self._select = None
        self._select_first = None
        self._select_chosen = False
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = []
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._form.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._form.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_endtag(self, tag):
        if tag == "select" and self._select and self._form is not None:
            if not self._select_chosen and self._select_first is not None:
                self._form.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def edit_form_data(html: str) -> dict[str, list[str]]:
    """The POST data of the page's edit form (the POST form carrying `change_reason`)."""
    parser = _FormParser()
    parser.feed(html)
    for fields in parser.forms:
        if any(name == "change_reason" for name, _ in fields):
            data: dict[str, list[str]] = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            data.pop("csrfmiddlewaretoken", None)
            return data
    raise AssertionError("No edit form with a change_reason field on the page.")
