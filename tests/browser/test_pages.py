"""Every main page, in Chromium: no Content-Security-Policy violation in the console, no
serious or critical axe-core finding, and a layout that fits at 1366×768 and 1920×1080 (the
page never scrolls sideways; a table fits its box or scrolls inside it with a sticky header
row and first column)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import WIDTHS

P = "/p/aurora-insulin-pump"
MAIN_PAGES = [
    ("products", "/"),
    ("dashboard", f"{P}/"),
    ("hazard log", f"{P}/hazards/"),
    ("hazard log, reversed sort", f"{P}/hazards/?sort=-residual"),
    ("hazard detail", f"{P}/hazards/HAZ-001/"),
    ("new safety hazard", f"{P}/hazards/new/?category=safety"),
    ("hazard history", f"{P}/hazards/HAZ-001/history/"),
    ("risk controls", f"{P}/controls/"),
    ("risk control detail", f"{P}/controls/RC-001/"),
    ("software items", f"{P}/software/"),
    ("requirements", f"{P}/requirements/"),
    ("requirement detail", f"{P}/requirements/SRS-001/"),
    ("tests", f"{P}/tests/"),
    ("test detail", f"{P}/tests/TC-001/"),
    ("traceability matrix", f"{P}/matrix/"),
    ("coverage", f"{P}/coverage/"),
    ("impact analysis", f"{P}/impact/?q=bolus"),
    ("impact of a hazard", f"{P}/impact/hazard/HAZ-001/"),
    ("suspect links", f"{P}/suspect-links/"),
    ("baselines", f"{P}/baselines/"),
    ("dossier", f"{P}/dossier/"),
    ("import / export", f"{P}/io/"),
    ("workbook import", f"{P}/io/workbook/import/"),
    ("column mappings", f"{P}/io/mappings/"),
    ("risk management reports", f"{P}/report/"),
    ("risk policy", f"{P}/policy/"),
    ("search", f"{P}/search/?q=bolus"),
    ("audit trail", "/audit/"),
    ("access log", "/audit/access/"),
    ("matrix of 1,000 hazards", "/p/synthetic-1000/matrix/"),
    ("hazard log of 1,000 hazards", "/p/synthetic-1000/hazards/"),
]

LAYOUT_JS = "\n".join(
    line
    for line in (Path(__file__).parent / "layout.js").read_text(encoding="utf-8").splitlines()
    if not line.startswith("//")
)

AXE_RESULTS: dict[str, dict] = {}


def serious(results) -> list[dict]:
    return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def axe():
    """axe-core (bundled with axe-playwright-python: nothing is fetched). With
    RISKBENCH_AXE_REPORT=<file>, the per-page results are written there after the module."""
    yield Axe()
    out = os.environ.get("RISKBENCH_AXE_REPORT")
    if out and AXE_RESULTS:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(AXE_RESULTS, fh, indent=1)


@pytest.mark.parametrize(("name", "path"), MAIN_PAGES, ids=[n for n, _ in MAIN_PAGES])
def test_main_page_is_clean(open_page, axe, name, path):
    page = open_page(width=WIDTHS[0][0], height=WIDTHS[0][1])
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    policy = {d.strip() for d in response.headers.get("content-security-policy", "").split(";")}
    assert {"default-src 'self'", "script-src 'self'", "style-src 'self'"} <= policy, policy
    layout = {}
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        layout[f"{width}x{height}"] = page.evaluate(LAYOUT_JS)
    page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
    # Rows of a long table are alike: axe checks the first 20 (its colour-contrast rule costs
    # seconds on 200 rows); the layout check above covered the whole table.
    results = axe.run(page, context={"exclude": [["table.data tbody tr:nth-child(n+21)"]]})
    found = serious(results)
    AXE_RESULTS[name] = {
        "path": path,
        "violations": len(results.response["violations"]),
        "serious_or_critical": [f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in found],
        "minor_or_moderate": [
            f"{v['id']} ({v['impact']})"
            for v in results.response["violations"]
            if v["impact"] not in ("serious", "critical")
        ],
    }
    assert not page.problems.csp_violations, page.problems.csp_violations
    assert not [m for m in page.problems.messages if "Failed to load" in m], page.problems.messages
    assert not any(layout.values()), layout
    assert not found, results.generate_report()


def test_api_viewers_work_under_the_content_security_policy(open_page):
    """Swagger UI keeps the site's policy (its init script is a separate file); Redoc's page
    alone allows run-time styles, and the only thing blocked is its remote logo."""
    page = open_page()
    response = page.goto("/api/docs/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator("#swagger-ui")).to_contain_text("RiskBench API", timeout=30_000)
    assert not page.problems.csp_violations, page.problems.csp_violations
    page.problems.clear()
    response = page.goto("/api/redoc/")
    assert "script-src 'self';" in response.headers["content-security-policy"] + ";"
    expect(page.locator("redoc")).to_contain_text("RiskBench API", timeout=30_000)
    blocked = [m for m in page.problems.csp_violations if "cdn.redoc.ly" not in m]
    assert not blocked, blocked
