"""What a quality team does all day, done in Chromium: log in, record hazards (and be told
clearly what is missing), edit the risk policy, meet a colleague's concurrent edit, sign and
approve, freeze a baseline, generate the dossier, import a hazard log, drill down from the heat
map, page through a 1,000-hazard matrix — and, as an auditor, never be offered an edit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import USERS, save_screenshot

AURORA = "/p/aurora-insulin-pump"
VELA = "/p/vela-infusion-pump"
CADENCE = "/p/cadence-pacemaker"


def message(page) -> str:
    return " ".join(page.locator(".messages .msg").all_inner_texts())


def test_login_refuses_a_wrong_password_then_lets_the_right_one_in(open_page):
    page = open_page(user=None)
    page.goto("/p/aurora-insulin-pump/hazards/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "demo")
    page.fill("#id_password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".msg-error")).to_contain_text("didn't match")
    page.fill("#id_username", "demo")
    page.fill("#id_password", USERS["demo"])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/p/aurora-insulin-pump/hazards/$"))
    expect(page.locator("h1")).to_contain_text("Hazard log")
    assert not page.problems.csp_violations


@pytest.mark.parametrize("category", ["safety", "security", "privacy"])
def test_hazard_create_with_a_validation_error_then_saved(page, category):
    page.goto(f"{CADENCE}/hazards/new/?category={category}")
    expect(page.locator("h1")).to_contain_text(f"New {category} hazard")
    page.fill("#id_hazardous_situation", "Patient exposed while the device is being set up")
    if category == "security":
        page.fill("#id_cvss_vector", "CVSS:3.1/AV:X/nonsense")
    page.click("form.stacked button[type=submit]")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Title")
    # The summary is at the top of the form, in view, and has the keyboard focus (given by the
    # page's script, which may run just after the summary is painted: wait for it, up to the
    # default timeout, rather than read the focus at one instant).
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    box, form = summary.bounding_box(), page.locator("form.stacked").bounding_box()
    assert box["y"] < form["y"]
    assert 0 <= box["y"] < page.viewport_size["height"]
    # Its link takes the user to the field.
    summary.get_by_role("link", name=re.compile("^Title")).click()
    assert page.evaluate("document.activeElement.id") == "id_title"
    page.fill("#id_title", f"Browser-made {category} hazard")
    if category == "security":
        page.fill("#id_cvss_vector", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
        page.select_option("#id_severity", "3")  # a CVSS vector needs a severity too
    page.click("form.stacked button[type=submit]")
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    expect(page.locator("h1")).to_contain_text(f"Browser-made {category} hazard")
    assert "added to the hazard log" in message(page)
    assert not page.problems.csp_violations


def test_policy_editor_round_trip(page):
    page.goto(f"{AURORA}/policy/")
    page.get_by_role("link", name="Edit working criteria").click()
    matrix = page.locator("#id_safety_matrix")
    expect(matrix.locator("tbody tr")).to_have_count(5)
    # Rename a level: the grids' headers follow as you type.
    page.fill("input[name='severity_levels-4-name']", "Death")
    expect(matrix.locator("tbody th").first).to_have_text("Death")
    # A grid cell takes its region's colour when changed (keyboard: focus, then arrows).
    cell = matrix.locator("select[name='safety_matrix_0_0']")
    cell.select_option("investigate")
    expect(matrix.locator("td:has(select[name='safety_matrix_0_0'])")).to_have_class(
        re.compile("cell-investigate")
    )
    # Add a level: the scale gets a sixth row and both matrices it sizes a sixth row.
    page.locator("#id_severity_levels ~ .form-actions").get_by_role(
        "button", name="Add a level"
    ).click()
    expect(page.locator("#id_severity_levels tbody tr")).to_have_count(6)
    expect(page.locator("#id_safety_matrix tbody tr")).to_have_count(6)
    expect(page.locator("#id_security_matrix tbody tr")).to_have_count(6)
    expect(page.locator("input[name='severity_levels-4-name']")).to_have_value("Death")
    assert page.locator(".error-summary").count() == 0  # nothing saved, nothing refused
    page.fill("input[name='severity_levels-5-name']", "Multiple deaths")
    page.fill("input[name='severity_levels-5-description']", "More than one patient dies.")
    expect(page.locator("#id_safety_matrix tbody th").first).to_have_text("Multiple deaths")
    page.fill("#id_change_reason", "Plan rev. B: sixth severity level")
    page.get_by_role("button", name="Save policy").click()
    assert "Risk policy saved" in message(page)
    expect(page.locator("main")).to_contain_text("Multiple deaths")
    assert not page.problems.csp_violations


def test_stale_edit_in_two_pages_is_refused_with_what_changed(open_page):
    mine, theirs = open_page(), open_page()
    url = f"{VELA}/hazards/HAZ-018/edit/"
    mine.goto(url)
    theirs.goto(url)
    theirs.fill("#id_title", "Changed by a colleague")
    theirs.click("form.stacked button[type=submit]")
    expect(theirs.locator("h1")).to_contain_text("Changed by a colleague")
    mine.fill("#id_title", "My own change")
    mine.click("form.stacked button[type=submit]")
    summary = mine.locator(".error-summary")
    expect(summary).to_contain_text("someone else changed this record")
    expect(summary.locator("table")).to_contain_text("Changed by a colleague")
    expect(mine.locator("#id_title")).to_have_value("My own change")  # input kept
    assert "Not saved" in message(mine)


def test_delete_sends_the_version_shown_and_refuses_a_record_changed_since(open_page):
    """The delete button posts the version its page showed: a requirement edited in another
    page meanwhile is not deleted; once the page shows the new version, it is."""
    mine, theirs = open_page(), open_page()
    mine.goto(f"{VELA}/requirements/new/")
    mine.select_option("#id_level", "system")
    mine.fill("#id_title", "Browser test requirement to delete")
    mine.fill("#id_text", "The pump shall be deleted in this test.")
    mine.locator("form.stacked").get_by_role("button", name="Save").click()
    expect(mine.locator("h1")).to_contain_text("Browser test requirement to delete")
    detail = mine.url
    theirs.goto(detail.rstrip("/") + "/edit/")
    theirs.fill("#id_title", "Browser test requirement, edited meanwhile")
    theirs.locator("form.stacked").get_by_role("button", name="Save").click()
    expect(theirs.locator("h1")).to_contain_text("edited meanwhile")

    def press_delete():
        mine.get_by_text("Delete this requirement").click()
        form = mine.locator("details form.toolbar")
        form.locator("[name=reason]").fill("Written by a browser test")
        form.get_by_role("button", name=re.compile("^Delete")).click()

    press_delete()
    assert "Not deleted" in message(mine)
    mine.goto(detail)
    press_delete()
    assert "deleted; its history is kept" in message(mine)


def test_sign_and_approve(open_page):
    # Approved by the head of quality, not by the demo login who wrote it (segregation of
    # duties, on by default).
    page = open_page("riley")
    page.goto(f"{AURORA}/hazards/HAZ-007/")
    expect(page.locator("h1 + p")).to_contain_text("In review")
    panel = page.locator("#signatures")
    if not panel.locator("form").is_visible():
        panel.locator("summary").click()
    panel.locator("select[name=meaning]").select_option("approved")
    panel.locator("[name=reason]").fill("Reviewed in the browser test")
    panel.locator("input[name=username]").fill("riley")
    panel.locator("input[name=password]").fill(USERS["riley"])
    panel.get_by_role("button", name="Sign").click()
    assert "Signed" in message(page)
    expect(page.locator("h1 + p")).to_contain_text("Approved")
    expect(page.locator("#signatures table")).to_contain_text("Approved")


def test_take_a_signed_baseline(page):
    page.goto(f"{CADENCE}/baselines/")
    rows_before = page.locator("main table.data tbody tr").count()
    page.fill("#id_name", "Browser test baseline")
    page.fill("#id_username", "demo")
    page.fill("#id_password", USERS["demo"])
    page.get_by_role("button", name="Take and sign baseline").click()
    expect(page.locator("main")).to_contain_text("Browser test baseline")
    page.goto(f"{CADENCE}/baselines/")
    assert page.locator("main table.data tbody tr").count() == rows_before + 1


def test_dossier_generation_shows_its_progress(page, task_worker, tmp_path):
    page.goto(f"{VELA}/dossier/")
    page.locator("main").get_by_role("button", name="Generate dossier").click()
    status = page.locator("[data-dossier-status]").first
    expect(status.locator("progress")).to_be_visible()
    expect(status.locator("[data-role=label]")).to_contain_text("%")
    # The page polls the export's status and reloads when it is done.
    done = page.locator("main table tbody tr").first.locator(".chip-pass")
    expect(done).to_be_visible(timeout=120_000)
    link = page.locator("main table tbody tr").first.get_by_role("link", name=re.compile(r"\.pdf$"))
    with page.expect_download() as info:
        link.click()
    pdf = tmp_path / "dossier.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    save_dossier_page_screenshot(pdf)


def save_dossier_page_screenshot(pdf):
    """docs/screenshots/dossier-page.png: the dossier's risk evaluation page with its heat
    maps (with `make screenshots`; needs pdftoppm)."""
    import shutil
    import subprocess

    from pypdf import PdfReader

    from tests.browser.conftest import SCREENSHOTS, screenshots_wanted, shrink_png

    if not screenshots_wanted() or not shutil.which("pdftoppm"):
        return
    pages = PdfReader(pdf).pages
    number = next(
        (
            i + 1
            for i, p in enumerate(pages)
            if i > 3 and "Initial risk" in (text := p.extract_text()) and "Residual risk" in text
        ),
        min(6, len(pages)),
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", str(number), "-l", str(number), "-singlefile",
         str(pdf), str(SCREENSHOTS / "dossier-page")],
        check=True,
        timeout=120,
    )  # fmt: skip
    shrink_png(SCREENSHOTS / "dossier-page.png")


def test_import_wizard_previews_then_imports(page, tmp_path):
    csv_file = tmp_path / "hazards.csv"
    csv_file.write_text(
        "Title,Category,Hazardous situation,Harm\n"
        "Lead fractures during exercise,safety,Pacing stops during exertion,Syncope\n",
        encoding="utf-8",
    )
    page.goto(f"{CADENCE}/io/")
    page.get_by_role("link", name="Import a hazard log").click()
    page.set_input_files("input[type=file]", str(csv_file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("h1")).to_contain_text("Preview: hazards.csv")
    expect(page.locator("main")).to_contain_text("1 to create")
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messages")).to_contain_text("1")
    page.goto(f"{CADENCE}/hazards/?q=Lead+fractures")
    expect(page.locator("table.data tbody tr")).to_have_count(1)


def test_heat_map_cell_drills_down_to_exactly_its_hazards(page):
    page.goto(f"{AURORA}/")
    cell = page.locator("#map-safety ~ .map-pair table.heatmap").first.locator("a.n").first
    count = int(cell.inner_text())
    cell.click()
    expect(page).to_have_url(re.compile(r"/hazards/\?category=safety&severity=\d&probability=\d"))
    expect(page.locator("table.data tbody tr")).to_have_count(count)
    expect(page.locator(".active-filters")).to_contain_text("Initial probability of harm")


def test_matrix_of_1000_hazards_pages_and_keeps_its_header_in_view(page):
    page.goto("/p/synthetic-1000/matrix/")
    expect(page.locator("h1 .count")).to_contain_text(re.compile(r"\d[\d,]* hazards"))
    rows = page.locator("table.matrix tbody tr")
    assert rows.count() >= 50  # 25 hazards a page, each with several chains
    expect(page.locator(".pagination")).to_contain_text("Page 1 of")
    wrap = page.locator(".table-wrap").first
    wrap.evaluate("el => { el.scrollTop = 3000; el.scrollLeft = 400; }")
    header = page.locator("table.matrix thead th").first.bounding_box()
    first_cell = rows.nth(40).locator("th").first.bounding_box()
    box = wrap.bounding_box()
    assert abs(header["y"] - box["y"]) < 3  # sticky header row
    assert abs(first_cell["x"] - box["x"]) < 3  # sticky first column
    page.get_by_role("link", name="Next ›").click()
    expect(page.locator(".pagination")).to_contain_text("Page 2 of")


def test_sort_reverses_with_an_indicator(page):
    page.goto(f"{AURORA}/hazards/")
    header = page.locator("th.sortable", has_text="Code")
    expect(header).to_have_attribute("aria-sort", "ascending")
    first = page.locator("table.data tbody tr th").first.inner_text()
    header.locator("a").click()
    expect(page.locator("th.sortable", has_text="Code")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert page.locator("table.data tbody tr th").first.inner_text() != first


def test_link_picker_suggests_as_you_type(page):
    page.goto(f"{VELA}/hazards/HAZ-018/")
    picker = page.locator("#id_control[data-picker]")
    picker.fill("RC-00")
    options = page.locator("[role=listbox] [role=option]")
    expect(options.first).to_be_visible()
    expect(options.filter(has_not_text="RC-00")).to_have_count(0)
    picker.press("ArrowDown")
    picker.press("Enter")
    assert re.fullmatch(r"RC-00\d", picker.input_value())


AUDITOR_PAGES = [
    f"{AURORA}/",
    f"{AURORA}/hazards/",
    f"{AURORA}/hazards/HAZ-001/",
    f"{AURORA}/controls/",
    f"{AURORA}/controls/RC-001/",
    f"{AURORA}/requirements/",
    f"{AURORA}/requirements/SRS-001/",
    f"{AURORA}/tests/TC-001/",
    f"{AURORA}/software/",
    f"{AURORA}/policy/",
    f"{AURORA}/baselines/",
    f"{AURORA}/suspect-links/",
    f"{AURORA}/io/",
]
EDIT_WORDS = re.compile(r"^(New |Edit|Delete|Import|Record a run|Submit for review|Link|Sign)")


def test_auditor_is_offered_no_edit_control(open_page):
    page = open_page(user="auditor")
    for path in AUDITOR_PAGES:
        page.goto(path)
        offered = [
            text.strip()
            for text in page.locator("main a.btn, main button").all_inner_texts()
            if EDIT_WORDS.match(text.strip())
        ]
        assert not offered, (path, offered)
        forms = page.locator("main form[method=post]")
        actions = [forms.nth(i).get_attribute("action") or path for i in range(forms.count())]
        # The only POST an auditor may make here: generating a dossier (it changes nothing).
        assert all("/dossier/generate/" in a for a in actions), (path, actions)
    assert not page.problems.csp_violations


def test_readme_screenshots(open_page):
    """The pictures in the README (written with `make screenshots`; a no-op otherwise)."""
    page = open_page(width=1366, height=768)
    page.goto(f"{AURORA}/")
    save_screenshot(page, "dashboard", full_page=True)
    page.goto(f"{AURORA}/hazards/")
    save_screenshot(page, "hazard-log")
    page.goto(f"{AURORA}/hazards/HAZ-003/")
    page.locator(
        ".trace-picture img, img[alt^='Trace neighbourhood']"
    ).first.scroll_into_view_if_needed()
    save_screenshot(page, "hazard-detail", full_page=True)
    page.goto(f"{AURORA}/matrix/")
    save_screenshot(page, "traceability-matrix")


@pytest.mark.parametrize("path", [f"{AURORA}/hazards/", f"{AURORA}/matrix/"])
def test_hazard_log_and_matrix_print_whole(page, path):
    """Printed, the page is its content: no navigation or filters, every row on paper (no
    scroll box), the header row repeated on each page."""
    page.goto(path)
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator("form.toolbar").is_visible()
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("el => getComputedStyle(el).overflow") == "visible"
    assert wrap.evaluate("el => getComputedStyle(el).maxHeight") == "none"
    head = page.locator("table.data thead").first
    assert head.evaluate("el => getComputedStyle(el).display") == "table-header-group"
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF")
