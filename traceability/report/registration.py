"""What the report contributes to the shared pieces below it — a signable kind, a release-gate
check, a dossier section, demo data — registered once the apps are loaded (DESIGN.md §1)."""

from __future__ import annotations


def register_all() -> None:
    from riskbench import signatures
    from traceability import gate
    from traceability.demo import EXTENSIONS
    from traceability.dossier import extensions
    from traceability.report import checks, demo, dossier, services

    signatures.register_signable("report", "report.RiskManagementReport", check=services.sign_check)
    gate.register(checks.report_not_signed, kinds=checks.KINDS)
    extensions.register(dossier.report_section)
    if demo.load not in EXTENSIONS:
        EXTENSIONS.append(demo.load)
