"""Measure `manage.py vulncheck` on 50,000 OSV advisories against 200 SOUP items.

Builds a deterministic ZIP in the shape OSV publishes per ecosystem (50,000 advisories over
2,000 PyPI / npm / Maven packages, 200 of which are the product's SOUP; ECOSYSTEM and SEMVER
ranges, some explicit version lists, a few withdrawn), a fresh SQLite database with a product
whose 200 SOUP items carry purls, then times the whole process — `manage.py vulncheck` as a
subprocess, Python start-up and Django set-up included — twice: the first run records the
matches, the second (same feed) must change nothing. Prints:

    vulncheck_s_50k: X s            (wall clock of the whole process)
    vulncheck_cpu_s_50k: X s        (its CPU time: what a core costs, whatever the machine's load)
    vulncheck_rerun_s_50k: X s
    vulncheck_rerun_cpu_s_50k: X s
    vulncheck_matches_50k: N vulnerabilities

Run from the repository root: .venv/bin/python bench/bench_postmarket.py
"""

import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB = OUT / "bench_postmarket.sqlite3"
FEED = OUT / "osv-50k.zip"
ADVISORIES = 50_000
PACKAGES = 2_000
SOUP = 200
ECOSYSTEMS = ("PyPI", "npm", "Maven")


def package(i: int) -> tuple[str, str, str]:
    """(ecosystem, OSV name, purl without version) of package i."""
    ecosystem = ECOSYSTEMS[i % 3]
    if ecosystem == "Maven":
        return ecosystem, f"org.bench{i}:lib{i}", f"pkg:maven/org.bench{i}/lib{i}"
    if ecosystem == "npm":
        return ecosystem, f"bench-lib-{i}", f"pkg:npm/bench-lib-{i}"
    return ecosystem, f"bench_lib_{i}", f"pkg:pypi/bench-lib-{i}"


def advisory(n: int) -> dict:
    pkg = n % PACKAGES
    ecosystem, name, _ = package(pkg)
    major = n % 7
    affected = {"package": {"ecosystem": ecosystem, "name": name}}
    if n % 10 == 3:
        affected["versions"] = [f"{major}.{m}.0" for m in range(4)]
    else:
        kind = "SEMVER" if ecosystem == "npm" and n % 2 else "ECOSYSTEM"
        affected["ranges"] = [
            {
                "type": kind,
                "events": [
                    {"introduced": f"{major}.0.0"},
                    {"fixed": f"{major}.{n % 5 + 1}.{n % 3}"},
                ],
            }
        ]
    doc = {
        "schema_version": "1.6.0",
        "id": f"BENCH-{n:06d}",
        "modified": "2026-01-01T00:00:00Z",
        "published": "2025-12-01T00:00:00Z",
        "aliases": [f"CVE-2026-{n:05d}"],
        "summary": f"Synthetic advisory {n} for {name}",
        "details": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8,
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N"}],
        "affected": [affected],
        "references": [{"type": "WEB", "url": f"https://example.org/advisories/{n}"}],
        "database_specific": {"cwe_ids": ["CWE-79"], "github_reviewed": True},
    }
    if n % 997 == 0:
        doc["withdrawn"] = "2026-01-02T00:00:00Z"
    return doc


def build_feed() -> None:
    with zipfile.ZipFile(FEED, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(ADVISORIES):
            archive.writestr(f"BENCH-{n:06d}.json", json.dumps(advisory(n), indent=2))


def setup_database(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from hazards import services as hazard_services
    from riskbench import roles
    from traceability import services as trace_services

    user = User.objects.create_user("bench", password="bench-password-123")  # noqa: S106
    user.groups.add(Group.objects.get(name=roles.QUALITY_ENGINEER))
    admin = User.objects.create_superuser("bench-admin", password="bench-password-123")  # noqa: S106
    product = hazard_services.product_create(
        by=admin, name="Bench pump", slug="bench-pump", members=[user]
    )
    for i in range(SOUP):
        pkg = i * (PACKAGES // SOUP) + i % 5
        _, name, purl = package(pkg)
        version = f"{pkg % 7}.3.0"  # inside a few ranges of its package, outside most
        trace_services.software_item_create(
            product=product,
            by=user,
            reason="Bench SOUP",
            name=name,
            is_soup=True,
            safety_class="B",
            soup_version=version,
            purl=f"{purl}@{version}",
        )


def timed(env: dict) -> tuple[float, float, str]:
    """Wall-clock seconds and CPU seconds (user + system) of one whole `manage.py vulncheck`
    process. On a shared machine the wall clock includes waiting for a core; the CPU time
    does not."""
    command = [sys.executable, "manage.py", "vulncheck", "bench-pump", f"--osv={FEED}",
               "--user=bench", "--format=json"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"vulncheck failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, cpu, done.stdout


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if DB.exists():
        DB.unlink()
    if not FEED.exists():
        build_feed()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskbench.settings",
        "DATABASE_URL": f"sqlite:///{DB}",
        "DJANGO_MEDIA_ROOT": str(OUT / "media"),
    }
    setup_database(env)
    first, first_cpu, report = timed(env)
    document = json.loads(report)
    assert document["advisories_read"] == ADVISORIES, document["advisories_read"]
    second, second_cpu, report = timed(env)
    again = json.loads(report)
    assert not again["recorded"] and not again["updated"], "a re-run changed records"
    print(f"vulncheck_s_50k: {first:.2f} s")
    print(f"vulncheck_cpu_s_50k: {first_cpu:.2f} s")
    print(f"vulncheck_rerun_s_50k: {second:.2f} s")
    print(f"vulncheck_rerun_cpu_s_50k: {second_cpu:.2f} s")
    print(f"vulncheck_matches_50k: {len(document['recorded'])} vulnerabilities")


if __name__ == "__main__":
    main()
