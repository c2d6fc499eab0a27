"""Measure the hazard-log spreadsheet import and export at 10,000 rows.

Builds a deterministic 10,000-row CSV (safety, security and privacy rows, each with a control
reference), imports it into a fresh product in a throw-away SQLite database under bench/out/,
then exports the log again. Prints:

    import_10k_hazards_s: X s
    export_10k_hazards_s: X s

Run from the repository root: .venv/bin/python bench/bench_integrations.py
"""

import csv
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB = OUT / "bench_integrations.sqlite3"
ROWS = 10_000
CVSS = "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H"


def build_csv(n: int) -> bytes:
    headers = [
        "ID", "Category", "Title", "Hazard", "Hazardous Situation", "Harm", "Sev", "P1", "P2",
        "Probability", "Residual Sev", "Residual P1", "Residual P2", "CVSS", "Data elements",
        "Risk Control Measures",
    ]  # fmt: skip
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers)
    for i in range(1, n + 1):
        kind = i % 10
        control = f"RC-{(i % 50) + 1:03d}"
        if kind < 7:  # safety
            row = ["safety", f"Over-delivery {i}", "Excess insulin", "Large bolus",
                   "Hypoglycaemia", str(1 + i % 5), str(1 + i % 5), str(1 + (i // 5) % 5), "",
                   str(1 + i % 5), "1", "1", "", ""]  # fmt: skip
        elif kind < 9:  # security
            row = ["security", f"Spoofed command {i}", "", "", "Wrong dose", str(1 + i % 5),
                   "", "", "", "", "", "", CVSS, ""]  # fmt: skip
        else:  # privacy
            row = ["privacy", f"History leak {i}", "", "", "Disclosure", str(1 + i % 4), "",
                   "", str(1 + (i // 3) % 4), "", "", "", "", "names; dates"]  # fmt: skip
        writer.writerow([f"HAZ-{i:05d}", *row, control])
    return out.getvalue().encode()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if DB.exists():
        DB.unlink()
    os.environ["DJANGO_SETTINGS_MODULE"] = "riskbench.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
    os.environ.setdefault("DJANGO_MEDIA_ROOT", str(OUT / "media"))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from hazards import services as hazard_services
    from hazards.models import Hazard
    from riskbench import roles, signatures
    from riskbench.models import Status
    from traceability.integrations import hazard_table

    password = "bench-password-123"  # noqa: S105
    user = User.objects.create_user("bench", password=password)
    user.groups.add(Group.objects.get(name=roles.QUALITY_ENGINEER))
    admin = User.objects.create_superuser("bench-admin", password=password)
    product = hazard_services.product_create(
        by=admin, name="Bench pump", slug="bench-pump", members=[user]
    )
    # The product's policy approved by signature, so imported risks are evaluated.
    policy = hazard_services.record_set_status(
        record=product.risk_policy,
        status=Status.IN_REVIEW,
        by=user,
        reason="Bench",
        expected_version=product.risk_policy.version,
    )
    signatures.record_sign(
        record=policy, by=user, username="bench", password=password, meaning="approved",
        expected_version=policy.version,
    )  # fmt: skip
    for _ in range(50):
        hazard_services.control_create(
            product=product, by=user, title="Control", option="protective_measure"
        )
    data = build_csv(ROWS)

    start = time.perf_counter()
    table = hazard_table.read_table(data)
    plan = hazard_table.import_hazards(
        product=product,
        table=table,
        mapping=hazard_table.suggest_mapping(table.headers),
        by=user,
        reason="Bench import",
    )
    import_seconds = time.perf_counter() - start
    assert plan.created == ROWS, plan.summary()
    assert Hazard.objects.filter(product=product).count() == ROWS
    assert Hazard.history.filter(product_id=product.pk).count() == ROWS

    start = time.perf_counter()
    exported = hazard_table.export_hazards(product, "xlsx")
    export_seconds = time.perf_counter() - start
    assert len(exported) > 0

    print(f"import_10k_hazards_s: {import_seconds:.2f} s")
    print(f"export_10k_hazards_s: {export_seconds:.2f} s")


if __name__ == "__main__":
    main()
