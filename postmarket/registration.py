"""What postmarket contributes to the shared pieces of the apps below it — release-gate checks,
dossier sections, dashboard panel, demo data — registered once the apps are loaded, so that no
app below imports this one (DESIGN.md §1)."""


def register_all() -> None:
    pass
