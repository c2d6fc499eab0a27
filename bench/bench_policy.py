"""Measure what approving a product's risk policy costs: every hazard of the product is
re-evaluated under the newly approved criteria, each changed row with its own history row, in
one transaction that holds the product's hazards locked.

Builds a synthetic product of 1,000 hazards (bench/synthetic.py) in a throw-away SQLite database
under bench/out/, edits its working criteria (a stricter safety matrix: nothing changes yet),
then approves the new version with a signature. Prints:

    policy_edit_s_n1000: X s          (working criteria saved; no hazard written)
    policy_approve_reevaluate_s_n1000: X s
    policy_reevaluated_rows_n1000: N rows

Run from the repository root: .venv/bin/python bench/bench_policy.py
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB = OUT / "bench_policy.sqlite3"
N = 1_000


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

    from bench.synthetic import generate_product
    from hazards import services
    from hazards.models import Hazard, Membership
    from riskbench import roles, signatures
    from riskbench.models import Status

    password = "bench-password-123"  # noqa: S105
    user = User.objects.create_user("bench", password=password)
    user.groups.add(Group.objects.get(name=roles.QUALITY_ENGINEER))
    admin = User.objects.create_superuser("bench-admin", password=password)
    product = generate_product(N, slug="policy-bench")
    services.membership_add(product=product, user=user, by=admin, reason="Bench")
    assert Membership.objects.filter(product=product, user=user).exists()
    # Segregation of duties: the author of the new criteria cannot approve them himself.
    approver = User.objects.create_user("bench-approver", password=password)
    approver.groups.add(Group.objects.get(name=roles.QUALITY_ENGINEER))
    services.membership_add(product=product, user=approver, by=admin, reason="Bench")

    policy = product.risk_policy
    stricter = [["unacceptable"] * len(row) for row in policy.safety_matrix]
    start = time.perf_counter()
    policy = services.policy_update(
        policy=policy,
        by=user,
        reason="Stricter plan",
        safety_matrix=stricter,
        expected_version=policy.version,
    )
    edit_seconds = time.perf_counter() - start
    before = Hazard.history.filter(product_id=product.pk).count()

    start = time.perf_counter()
    policy = services.record_set_status(
        record=policy, status=Status.IN_REVIEW, by=user, reason="Bench",
        expected_version=policy.version,
    ) if policy.status != Status.IN_REVIEW else policy  # fmt: skip
    signatures.record_sign(
        record=policy, by=approver, username="bench-approver", password=password,
        meaning="approved", expected_version=policy.version,
    )  # fmt: skip
    approve_seconds = time.perf_counter() - start
    rows = Hazard.history.filter(product_id=product.pk).count() - before
    assert rows > 0

    print(f"policy_edit_s_n{N}: {edit_seconds:.2f} s")
    print(f"policy_approve_reevaluate_s_n{N}: {approve_seconds:.2f} s")
    print(f"policy_reevaluated_rows_n{N}: {rows} rows")


if __name__ == "__main__":
    main()
