"""Pages under a team's load: gunicorn (2 workers) on PostgreSQL, products of 1,000 and 5,000
hazards (≈10,000 and ≈50,000 items) from the synthetic generator.

Prints, for N in (1000, 5000):
- page_ms_<page>_n<N> / page_kb_<page>_n<N> — one user, median of 5 warm requests, and the size
  of the response, for the six pages a quality team lives in; page_cpu_ms_<page>_n<N> — the CPU
  time the app server (gunicorn workers) spent per request, which a loaded machine does not
  inflate the way it inflates wall times;
- load_rps_n<N>, load_p50_ms_n<N>, load_p95_ms_n<N>, load_errors_n<N> — 8 readers browsing a
  mix of pages while 1 editor saves hazards through the API (with the version it loaded; a 409
  is a refused stale edit, not an error) for LOAD_SECONDS (default 30) seconds;
- load_stale_n<N> — after each round of saves the editor opens the coverage report (the cached
  product analysis) where the hazard it just added must be listed among the hazards without a
  risk control: a save the page does not show yet is a stale analysis. Must be 0.

Bounded: it talks only to 127.0.0.1, stops by itself, and always stops gunicorn. Skips (exit 0,
one line saying why) when PostgreSQL does not answer on 127.0.0.1:5432. BENCH_LOAD_REUSE=1 keeps
the database built by an earlier run (building N=5,000 takes about two minutes).
Env: LOAD_SECONDS, LOAD_READERS (8), LOAD_SIZES ("1000,5000"), BENCH_LOAD_DB (database name).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server import (  # noqa: E402
    ApiClient,
    Gunicorn,
    PageClient,
    api_token,
    database_exists,
    ensure_user,
    pg_available,
    setup_postgres,
)

DATABASE = os.environ.get("BENCH_LOAD_DB", "riskbench_bench_load")
PASSWORD = "Bench-load-password-42"
SIZES = [int(n) for n in os.environ.get("LOAD_SIZES", "1000,5000").split(",")]
SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
READERS = int(os.environ.get("LOAD_READERS", "8"))


def pages(slug: str, hazard_code: str) -> dict[str, str]:
    return {
        "dashboard": f"/p/{slug}/",
        "hazard_log": f"/p/{slug}/hazards/",
        "hazard_detail": f"/p/{slug}/hazards/{hazard_code}/",
        "matrix": f"/p/{slug}/matrix/",
        "coverage": f"/p/{slug}/coverage/",
        "controls": f"/p/{slug}/controls/",
    }


def build(reuse: bool):
    """The database with one synthetic product per size; returns {n: (slug, hazard codes)}."""
    keep = reuse and database_exists(DATABASE)
    setup_postgres(DATABASE, fresh=not keep)
    from synthetic import generate_product

    from hazards.models import Hazard, Product

    products = {}
    for n in SIZES:
        slug = f"load-{n}"
        product = Product.objects.filter(slug=slug).first()
        if product is None:
            started = time.perf_counter()
            product = generate_product(n, slug=slug)
            print(f"# built {slug} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        codes = list(Hazard.objects.filter(product=product).values_list("code", flat=True))
        products[n] = (product, codes)
    every = [p for p, _ in products.values()]
    ensure_user("reader", PASSWORD, group="Quality engineer", products=every)
    editor = ensure_user("editor", PASSWORD, group="Quality engineer", products=every)
    return products, api_token(editor)


def server_cpu_seconds(app) -> float:
    """CPU time (user + system) used so far by gunicorn's master and workers (Linux /proc)."""
    pid = app.process.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for p in [pid, *map(int, children)]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    except (OSError, ValueError):
        return float("nan")
    return total / os.sysconf("SC_CLK_TCK")


def single_page_figures(app, n, slug, codes):
    client = PageClient(app.url, "reader", PASSWORD)
    for name, path in pages(slug, codes[len(codes) // 2]).items():
        client.get(path)  # warm: templates, connections, the analysis cache
        times, size, status = [], 0, 0
        cpu_before = server_cpu_seconds(app)
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            size, status = len(response.content), response.status_code
        cpu = (server_cpu_seconds(app) - cpu_before) / 5 * 1000
        if status != 200:
            print(f"# {name} answered {status}", file=sys.stderr)
        print(f"page_ms_{name}_n{n}: {statistics.median(times):.0f} ms")
        print(f"page_kb_{name}_n{n}: {size / 1024:.0f} KB")
        print(f"page_cpu_ms_{name}_n{n}: {cpu:.0f} ms")


def load_figures(app, n, slug, codes, token):
    latencies: list[float] = []
    errors = [0]
    refused = [0]
    saved = [0]
    stale = [0]
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def reader(seed):
        rng = random.Random(seed)
        client = PageClient(app.url, "reader", PASSWORD)
        while time.monotonic() < stop:
            mix = pages(slug, rng.choice(codes))
            path = mix[rng.choice(list(mix))]
            started = time.perf_counter()
            try:
                status = client.get(path).status_code
            except Exception:
                status = 599
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += status >= 500

    def editor():
        """Each round: edit a hazard's title (with the version it loaded), add a hazard, then
        open the last page of the coverage report's "hazard without a risk control" gaps: the
        new hazard must be there (a missing one is a stale analysis)."""
        rng = random.Random(99)
        api = ApiClient(app.url, token)
        pages_client = PageClient(app.url, "editor", PASSWORD)
        collection = f"/api/products/{slug}/hazards/"
        headers = {"X-Change-Reason": "Bench edit"}
        while time.monotonic() < stop:
            code = rng.choice(codes)
            path = f"{collection}{code}/"
            mark = f"edit{rng.randrange(10**9):09d}"
            timings, statuses, new_code = [], [], None
            try:
                started = time.perf_counter()
                current = api.get(path)
                payload = {"version": current.json()["version"], "title": f"Edited {mark}"}
                statuses.append(api.patch(path, payload, reason="Bench edit").status_code)
                timings.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                created = api.http.post(
                    app.url + collection,
                    json={"category": "safety", "title": f"Added {mark}"},
                    headers=headers,
                    timeout=120,
                )
                timings.append((time.perf_counter() - started) * 1000)
                statuses.append(created.status_code)
                new_code = created.json().get("code") if created.status_code == 201 else None
            except Exception:
                statuses.append(599)
            shown = True
            if new_code:
                started = time.perf_counter()
                try:
                    check = pages_client.get(
                        f"/p/{slug}/coverage/?kind=hazard_without_control&page=999999"
                    )
                    statuses.append(check.status_code)
                    shown = check.status_code == 200 and f">{new_code}<" in check.text
                except Exception:
                    statuses.append(599)
                timings.append((time.perf_counter() - started) * 1000)
            with lock:
                latencies.extend(timings)
                errors[0] += sum(1 for status in statuses if status >= 500)
                refused[0] += statuses.count(409)
                saved[0] += statuses.count(200) + statuses.count(201) - (1 if new_code else 0)
                stale[0] += not shown

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    threads.append(threading.Thread(target=editor))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0
    print(f"load_rps_n{n}: {len(latencies) / elapsed:.1f} requests/s")
    print(f"load_p50_ms_n{n}: {statistics.median(ordered) if ordered else 0:.0f} ms")
    print(f"load_p95_ms_n{n}: {p95:.0f} ms")
    print(f"load_errors_n{n}: {errors[0]} responses")
    print(f"load_stale_n{n}: {stale[0]} pages")
    print(f"# n={n}: {len(latencies)} requests, editor saved {saved[0]}, refused {refused[0]}",
          file=sys.stderr)  # fmt: skip


def main() -> int:
    if not pg_available():
        print("load: skipped (PostgreSQL does not answer on 127.0.0.1:5432)")
        return 0
    products, token = build(reuse=os.environ.get("BENCH_LOAD_REUSE") == "1")
    from django.db import connections

    connections.close_all()
    with Gunicorn(workers=2) as app:
        for n, (product, codes) in products.items():
            single_page_figures(app, n, product.slug, codes)
            load_figures(app, n, product.slug, codes, token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
