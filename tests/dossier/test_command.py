"""`manage.py export_dossier PRODUCT -o FILE.pdf`."""

import hashlib

import pytest
from django.core.management import CommandError, call_command

from riskbench import roles
from tests.factories import MembershipFactory, UserFactory
from traceability.dossier import clauses, renderer
from traceability.dossier.models import DossierExport, ExportStatus


def test_export_by_slug_writes_the_pdf_and_records_it(risk_file, tmp_path, capsys):
    author = UserFactory(username="release-bot", role=roles.QUALITY_ENGINEER)
    MembershipFactory(product=risk_file, user=author)
    out = tmp_path / "rmf.pdf"
    call_command("export_dossier", risk_file.slug, "-o", str(out), "--user", "release-bot")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    export = DossierExport.objects.get()
    assert export.status == ExportStatus.DONE and export.created_by == author
    assert export.sha256 == hashlib.sha256(pdf).hexdigest()
    assert f"SHA-256 {export.sha256}" in capsys.readouterr().out


def test_export_by_id_twice_gives_identical_files(risk_file, tmp_path):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    call_command("export_dossier", str(risk_file.pk), "-o", str(first), "--no-record")
    call_command("export_dossier", str(risk_file.pk), "-o", str(second), "--no-record")
    assert first.read_bytes() == second.read_bytes()
    assert not DossierExport.objects.exists()


def test_an_unknown_product_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="No product"):
        call_command("export_dossier", "no-such-product", "-o", str(tmp_path / "x.pdf"))


def test_every_clause_points_at_existing_sections_and_the_issue_list_is_covered():
    keys = {key for key, _ in renderer.SECTIONS}
    for clause in clauses.CLAUSES:
        assert set(clause.sections) <= keys, clause
    iso = {c.number for c in clauses.CLAUSES if c.standard == clauses.ISO_14971}
    iec = {c.number for c in clauses.CLAUSES if c.standard == clauses.IEC_62304}
    assert {"4.4", "4.5", "5.2", "5.4", "5.5", "6", "7.1", "7.4", "8", "9", "10"} <= iso
    assert {"4.3", "5.3.3", "7.1", "7.2", "7.3", "7.4", "8.1.2"} <= iec
