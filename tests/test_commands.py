"""Every RiskBench management command follows one convention (riskbench.commands, DESIGN.md §9):
PRODUCT by id or slug with one message when missing, `--user` required by commands that write,
`--format text|json` on commands that report findings, exit 0 / 1 / 2 with the message on stderr.

The commands are discovered from the project's apps, so a new command that is not on the base,
or that this table does not exercise, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class

from riskbench import roles
from riskbench.commands import RiskBenchCommand
from tests import factories
from tests.cli import run_command
from tests.integrations.helpers import JUNIT_PASS_FAIL
from tests.postmarket.conftest import OSV_DIR

MISSING = "no-such-product"


def project_commands() -> dict[str, str]:
    """name → app of every management command defined inside this repository."""
    base = Path(settings.BASE_DIR).resolve()
    found = {}
    for name, app in get_commands().items():
        if app.startswith("django.") or app == "django.core":
            continue
        path = Path(__import__(app, fromlist=["__file__"]).__file__).resolve()
        if base in path.parents and "site-packages" not in path.parts:
            found[name] = app
    return found


def _csv(tmp: Path, product) -> list[str]:
    path = tmp / "log.csv"
    path.write_text("ID,Title,Sev\nHAZ-900,Over-delivery,4\n", encoding="utf-8")
    return [str(path)]


def _junit(tmp: Path, product) -> list[str]:
    factories.TestCaseFactory(product=product, code="TC-001")
    path = tmp / "ci.xml"
    path.write_bytes(JUNIT_PASS_FAIL)
    return [str(path)]


def _sbom(tmp: Path, product) -> list[str]:
    path = tmp / "bom.json"
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "version": 1,
                "components": [
                    {"type": "library", "name": "zlib", "version": "1.3",
                     "purl": "pkg:generic/zlib@1.3"}
                ],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    return [str(path)]


def _reqif(tmp: Path, product) -> list[str]:
    factories.RequirementFactory(product=product, code="SRS-001")
    path = tmp / "in.reqif"
    assert run_command("export_reqif", product.slug, "-o", str(path)).code == 0
    return [str(path)]


def _product_json(tmp: Path, product) -> list[str]:
    path = tmp / "product.json"
    assert run_command("export_product", product.slug, "-o", str(path)).code == 0
    return [str(path), "--slug", "imported-copy", "--name", "Imported copy"]


def _workbook(tmp: Path, product) -> list[str]:
    folder = tmp / "risk-file"
    folder.mkdir(exist_ok=True)
    (folder / "tests.csv").write_text("id,title\nT.1,Occlusion test\n", encoding="utf-8")
    return [str(folder)]


def _mapping(tmp: Path, product) -> list[str]:
    path = tmp / "mapping.json"
    path.write_text(json.dumps({"sheets": {"Tests": {"columns": {"id": "Ref"}}}}))
    return ["save", "legacy", str(path)]


# Each command that takes a PRODUCT: the arguments after it (built per test) and the exit codes
# a correct run may give (1 = findings).
PRODUCT_COMMANDS = {
    "riskcheck": (lambda tmp, p: [], {0, 1}),
    "export_dossier": (lambda tmp, p: ["-o", str(tmp / "rmf.pdf")], {0}),
    "baseline": (lambda tmp, p: ["--name", "CI working baseline"], {0}),
    "export_hazards": (lambda tmp, p: ["-o", str(tmp / "log.xlsx")], {0}),
    "export_product": (lambda tmp, p: ["-o", str(tmp / "p.json")], {0}),
    "export_reqif": (lambda tmp, p: ["-o", str(tmp / "r.reqif")], {0}),
    "import_hazards": (_csv, {0}),
    "import_junit": (_junit, {0}),
    "import_sbom": (_sbom, {0}),
    "import_reqif": (_reqif, {0}),
    "vulncheck": (lambda tmp, p: ["--osv", str(OSV_DIR)], {0, 1}),
    "export_sbom": (lambda tmp, p: ["-o", str(tmp / "sbom.json")], {0}),
    "import_workbook": (_workbook, {0}),
    "export_workbook": (lambda tmp, p: [str(tmp / "book.xlsx")], {0}),
    "mappings": (_mapping, {0}),
}
# Commands without a PRODUCT argument: how to run them correctly.
OTHER_COMMANDS = {
    "verify_audit": (lambda tmp, p: [], {0}),
    "baseline_diff": (lambda tmp, p: [f"{p.pk}:now", f"{p.slug}:now"], {0}),
    "import_product": (_product_json, {0}),
    "create_product": (lambda tmp, p: ["new-product", "--name", "New product"], {0}),
    "loaddemo": None,  # exercised by tests/traceability/test_loaddemo.py (slow)
}


@pytest.fixture
def admin(product):
    """Acting user of the convention runs: an administrator, so that role checks never hide a
    convention failure (roles are tested with every write route elsewhere)."""
    user = factories.UserFactory(username="release-bot", role=roles.QUALITY_ENGINEER)
    user.is_superuser = True
    user.save()
    factories.MembershipFactory(product=product, user=user)
    return user


@pytest.fixture(autouse=True)
def no_default_user(monkeypatch):
    monkeypatch.delenv("RISKBENCH_USER", raising=False)


def test_every_project_command_stands_on_the_base_and_is_exercised_here():
    names = project_commands()
    assert set(PRODUCT_COMMANDS) | set(OTHER_COMMANDS) == set(names), (
        "add the new command to PRODUCT_COMMANDS or OTHER_COMMANDS"
    )
    for name, app in names.items():
        command = load_command_class(app, name)
        assert isinstance(command, RiskBenchCommand), name
        assert command.takes_product == (name in PRODUCT_COMMANDS), name


@pytest.mark.parametrize("by", ["id", "slug"])
@pytest.mark.parametrize("name", sorted(PRODUCT_COMMANDS))
def test_product_by_id_or_slug(name, by, product, admin, tmp_path):
    build, codes = PRODUCT_COMMANDS[name]
    ref = str(product.pk) if by == "id" else product.slug
    args = [name, ref, *build(tmp_path, product)]
    if load_command_class(project_commands()[name], name).writes:
        args += ["--user", admin.username]
    result = run_command(*args)
    assert result.code in codes, result.err


@pytest.mark.parametrize("name", sorted(PRODUCT_COMMANDS))
def test_missing_product_exits_2_with_one_message(name, product, admin, tmp_path):
    build, _ = PRODUCT_COMMANDS[name]
    args = [name, MISSING, *build(tmp_path, product)]
    if load_command_class(project_commands()[name], name).writes:
        args += ["--user", admin.username]
    result = run_command(*args)
    assert result.code == 2
    assert result.err.strip() == f"No product with id or slug {MISSING!r}."


def _writing_commands() -> list[str]:
    return sorted(
        name for name, app in project_commands().items() if load_command_class(app, name).writes
    )


@pytest.mark.parametrize("name", _writing_commands())
def test_writing_commands_refuse_to_run_without_an_active_user(name, product, admin, tmp_path):
    build, _ = PRODUCT_COMMANDS.get(name) or OTHER_COMMANDS[name]
    head = [name, product.slug] if name in PRODUCT_COMMANDS else [name]
    args = [*head, *build(tmp_path, product)]

    result = run_command(*args)
    assert result.code == 2
    assert "--user USERNAME" in result.err

    result = run_command(*args, "--user", "ghost")
    assert (result.code, result.err.strip()) == (2, "No user 'ghost'.")

    factories.UserFactory(username="left", is_active=False)
    result = run_command(*args, "--user", "left")
    assert (result.code, result.err.strip()) == (2, "User 'left' is inactive.")


def test_the_default_user_comes_from_the_environment(product, admin, tmp_path, monkeypatch):
    monkeypatch.setenv("RISKBENCH_USER", admin.username)
    assert run_command("baseline", product.slug, "--name", "From env").code == 0


@pytest.mark.parametrize("name", ["riskcheck", "verify_audit", "baseline_diff"])
def test_reporting_commands_speak_json(name, product, admin, tmp_path):
    build, _ = PRODUCT_COMMANDS.get(name) or OTHER_COMMANDS[name]
    head = [name, product.slug] if name in PRODUCT_COMMANDS else [name]
    result = run_command(*head, *build(tmp_path, product), "--format", "json")
    assert result.code in {0, 1}
    assert isinstance(json.loads(result.out), dict)


def test_findings_exit_1_with_the_summary_on_stderr(product):
    factories.HazardFactory(product=product, code="HAZ-777")  # no control, not acceptable
    result = run_command("riskcheck", product.slug)
    assert result.code == 1
    assert result.err.startswith("FAIL: ")


def test_a_usage_error_exits_2(product):
    result = run_command("riskcheck", product.slug, "--format", "yaml")
    assert result.code == 2
    assert "invalid choice" in result.err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["riskcheck", MISSING], 2, f"No product with id or slug {MISSING!r}."),
        (["import_hazards", MISSING, "x.csv", "--user", "ghost"], 2, None),
        (["riskcheck", "--format", "yaml"], 2, "invalid choice"),
    ],
)
def test_from_the_shell_the_message_is_on_stderr_and_the_status_is_the_exit_code(
    product, capsys, argv, code, message
):
    name = argv[0]
    command = load_command_class(project_commands()[name], name)
    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv(["manage.py", *argv])
    assert exit_.value.code == code
    captured = capsys.readouterr()
    assert captured.out == ""
    if message:
        assert message in captured.err
    assert "Traceback" not in captured.err and "CommandError" not in captured.err
