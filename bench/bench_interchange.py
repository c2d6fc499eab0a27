"""Bench: bringing a full-size risk file in, whole command (issue 13 §3).

Prints, one `name: value unit` line each:
- import_workbook_s_n1000 — `manage.py import_workbook` of the workbook (.xlsx) exported from a
  synthetic product of N = 1,000 hazards (2,000 controls, 3,000 requirements with texts, 4,000
  tests with procedures and their runs, every link) into a new, empty product;
- import_reqif_s_n1000 — `manage.py import_reqif` of the same product's ReqIF export into a new
  product (requirements, controls, test cases and their relations);
- import_junit_s_4k — `manage.py import_junit` of a JUnit report of 4,000 test cases, each with
  its own timestamp, into the synthetic product;
- import_workbook_reimport_s_n1000 — the same workbook imported again (nothing to write);
- the same names with `_cpu_s_` — the best CPU time (user + system) of the command's process.

Each figure is the wall-clock time of a child process running the command, Django start-up
included (what a CI job or a person at the shell waits for). Best of `RUNS` (the machine may be
shared); each run imports into a fresh product.

Runs on a throw-away SQLite file under bench/out/ by default; set BENCH_DATABASE_URL (e.g.
postgresql://postgres@127.0.0.1:5432/rb_interchange_bench) to measure on PostgreSQL.
Run from the repository root: `.venv/bin/python bench/bench_interchange.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

N = int(os.environ.get("BENCH_N", "1000"))
JUNIT_CASES = int(os.environ.get("BENCH_JUNIT_CASES", "4000"))
NAME = "bench_interchange"
RUNS = int(os.environ.get("BENCH_RUNS", "2"))


def junit_report(test_codes: list[str], n: int) -> bytes:
    """A CI report of `n` cases, each naming a test case code, each with its own timestamp."""
    start = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    cases = []
    for i in range(n):
        code = test_codes[i % len(test_codes)]
        when = (start + dt.timedelta(minutes=7 * i)).isoformat()
        failure = '<failure message="boom">AssertionError</failure>' if i % 97 == 0 else ""
        cases.append(
            f'<testcase classname="tests.suite{i % 40}" name="test_{code}_{i}" '
            f'timestamp="{when}" time="0.01">{failure}</testcase>'
        )
    body = "\n".join(cases)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ci">\n'
        f'<testsuite name="bench" timestamp="{start.isoformat()}" tests="{n}">\n'
        f'<properties><property name="software_version" value="3.0.0"/></properties>\n'
        f"{body}\n</testsuite>\n</testsuites>\n"
    ).encode()


CPU: dict[str, list[float]] = {}


def timed(name: str, args: list[str], env: dict) -> float:
    """Wall-clock seconds of the command in a child process; its CPU seconds (user + system)
    go to `CPU` under the command's name: on a shared, loaded machine the CPU time says what
    the command costs, the wall clock what a person waits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(name, []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return seconds


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        from server import setup_postgres

        url = setup_postgres(url.rsplit("/", 1)[-1])
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskbench.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
    else:
        from synthetic import setup_django

        setup_django(NAME)
    from django.contrib.auth import get_user_model
    from synthetic import _bulk, generate_product

    from hazards.models import Membership
    from traceability.integrations import reqif, workbook
    from traceability.models import SoftwareItem

    out = HERE / "out"
    out.mkdir(exist_ok=True)
    product = generate_product(N, slug="bench-source")
    user = get_user_model().objects.create_user("bench-importer")
    book = out / f"{NAME}.xlsx"
    workbook.export_to(product, book)
    reqif_file = out / f"{NAME}.reqif"
    reqif_file.write_bytes(reqif.export_reqif(product))
    junit_file = out / f"{NAME}-junit.xml"
    codes = sorted(product.test_cases.values_list("code", flat=True))
    junit_file.write_bytes(junit_report(codes, JUNIT_CASES))

    def fresh(slug: str) -> str:
        target = generate_product(0, slug=slug)  # an empty product with an approved policy
        Membership.objects.create(product=target, user=user)
        # Software items are not created by an import: the target has the source's.
        have = set(target.software_items.values_list("code", flat=True))
        _bulk(
            SoftwareItem,
            [
                SoftwareItem(product=target, code=i.code, name=i.name, safety_class=i.safety_class)
                for i in product.software_items.all()
                if i.code not in have
            ],
        )
        return slug

    # The ReqIF export of 1,000 hazards is ≈20 MB, just over the default upload limit (20 MB):
    # the bench raises the limit (RISKBENCH_MAX_UPLOAD_BYTES) rather than measure a refusal.
    env = {
        **os.environ,
        "RISKBENCH_USER": user.get_username(),
        "RISKBENCH_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
    }
    figures: dict[str, list[float]] = {}
    for i in range(RUNS):
        slug = fresh(f"bench-wb-{i}")
        figures.setdefault("import_workbook_s_n1000", []).append(
            timed("import_workbook_s_n1000", ["import_workbook", slug, str(book)], env)
        )
        figures.setdefault("import_workbook_reimport_s_n1000", []).append(
            timed("import_workbook_reimport_s_n1000", ["import_workbook", slug, str(book)], env)
        )
        slug = fresh(f"bench-reqif-{i}")
        figures.setdefault("import_reqif_s_n1000", []).append(
            timed("import_reqif_s_n1000", ["import_reqif", slug, str(reqif_file)], env)
        )
        # A JUnit report is imported once per product: a fresh copy of its bytes each run.
        junit_copy = out / f"{NAME}-junit-{i}.xml"
        junit_copy.write_bytes(junit_file.read_bytes() + f"<!-- run {i} -->\n".encode())
        figures.setdefault("import_junit_s_4k", []).append(
            timed("import_junit_s_4k", ["import_junit", product.slug, str(junit_copy)], env)
        )
    for name, values in figures.items():
        print(f"{name}: {min(values):.2f} s", flush=True)
    for name, values in CPU.items():
        print(f"{name.replace('_s_', '_cpu_s_')}: {min(values):.2f} s", flush=True)


if __name__ == "__main__":
    main()
