"""What postmarket contributes to the shared pieces of the apps below it — release-gate checks,
dossier sections, demo data — registered once the apps are loaded, so that no app below imports
this one (DESIGN.md §1). The dashboard panel and the navigation are listed in
`riskbench.navigation` by dotted path."""

from __future__ import annotations


def register_all() -> None:
    from postmarket import checks, demo, dossier
    from traceability import gate
    from traceability.demo import EXTENSIONS
    from traceability.dossier import extensions

    kinds = dict(checks.KINDS)
    gate_kinds = {**getattr(gate, "RECORD_KINDS", {}), **getattr(gate, "KINDS", {})}
    own = list(checks.CHECKS)
    if "soup_end_of_support" not in gate_kinds:  # the gate may check end of support itself
        kinds.update(checks.END_OF_SUPPORT_KIND)
        own.append(checks.soup_end_of_support)
    for check in own:
        gate.register(check, kinds=kinds)
    for provider in dossier.SECTIONS:
        extensions.register(provider)
    if demo.load not in EXTENSIONS:
        EXTENSIONS.append(demo.load)
