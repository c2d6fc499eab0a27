"""Speed of the traceability graph and the matrix page (issue 3).

Builds synthetic products of 1,000 and 100 hazards (bench/synthetic.py) in a throw-away SQLite
file under bench/out/, then prints:

    graph_analyses_s_n1000      build_graph + every analysis (gaps, coverage, verification of
                                hazards and controls, safety classes, matrix rows, one impact
                                analysis), median of 5 runs — target < 1 s
    matrix_page_s_n1000         GET of the traceability matrix page (first page of 200 chains,
                                every status computed over the whole product), median of 5 —
                                target < 2 s
    matrix_page_queries_n1000   SQL queries of that request
    matrix_page_queries_n100    the same at 100 hazards — must be equal
    bench_peak_mb_n1000         peak Python heap (tracemalloc) while building the graph, running
                                every analysis and rendering the matrix page at N = 1,000

Run from the repository root: .venv/bin/python bench/bench_traceability.py
"""

import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import setup_django  # noqa: E402

setup_django("bench_traceability")

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from synthetic import generate_product  # noqa: E402

from traceability import graph as tg  # noqa: E402

RUNS = 5


def all_analyses(product):
    graph = tg.build_graph(product)
    analysis = tg.analyse(graph)
    rows = tg.trace_rows(graph, analysis=analysis)
    tg.impact(graph, analysis.index.nodes(tg.HAZARD)[0])
    return analysis, rows


def median_time(fn) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    big = generate_product(1000, seed=1, slug="bench-1000")
    small = generate_product(100, seed=1, slug="bench-100")
    user = User.objects.create_superuser("bench", "bench@example.org", "bench-password-123")
    client = Client()
    client.force_login(user)

    all_analyses(big)  # warm caches (imports, SQLite pages)
    analyses_s = median_time(lambda: all_analyses(big))

    def get(product):
        response = client.get(reverse("traceability:matrix", args=[product.slug]))
        assert response.status_code == 200, response.status_code
        assert b"HAZ-001" in response.content
        return response

    get(big)
    page_s = median_time(lambda: get(big))

    queries = {}
    for n, product in ((1000, big), (100, small)):
        get(product)
        with CaptureQueriesContext(connection) as captured:
            get(product)
        queries[n] = len(captured.captured_queries)

    tracemalloc.start()
    all_analyses(big)
    get(big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"graph_analyses_s_n1000: {analyses_s:.3f} s")
    print(f"matrix_page_s_n1000: {page_s:.3f} s")
    print(f"matrix_page_queries_n1000: {queries[1000]} queries")
    print(f"matrix_page_queries_n100: {queries[100]} queries")
    print(f"bench_peak_mb_n1000: {peak / (1024 * 1024):.1f} MB")


if __name__ == "__main__":
    main()
