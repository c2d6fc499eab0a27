"""Cost of the release gate (issue 10): `traceability.gate.product_gaps` at 1,000 hazards.

Builds synthetic products of 1,000 and 100 hazards (bench/synthetic.py) in a throw-away SQLite
file under bench/out/, then prints:

    gate_s_n1000            product_gaps (graph, every analysis, record checks, registered
                            checks), median of 5 runs
    gate_record_checks_s_n1000   the record checks alone over an analysed graph, median of 5
    gate_queries_n1000      SQL queries of one product_gaps call
    gate_queries_n100       the same at 100 hazards — must be equal

Run from the repository root: .venv/bin/python bench/bench_gate.py
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import setup_django  # noqa: E402

setup_django("bench_gate")

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from synthetic import generate_product  # noqa: E402

from traceability import gate, record_checks  # noqa: E402
from traceability import graph as tg  # noqa: E402

RUNS = 5


def median_time(fn) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    big = generate_product(1000, seed=1, slug="gate-1000")
    small = generate_product(100, seed=1, slug="gate-100")
    gate.product_gaps(big)  # warm caches
    print(f"gate_s_n1000: {median_time(lambda: gate.product_gaps(big)):.3f} s")
    analysis = tg.analyse(tg.build_graph(big))
    seconds = median_time(lambda: list(record_checks.run(big, analysis)))
    print(f"gate_record_checks_s_n1000: {seconds:.3f} s")
    for n, product in ((1000, big), (100, small)):
        with CaptureQueriesContext(connection) as q:
            gate.product_gaps(product)
        print(f"gate_queries_n{n}: {len(q.captured_queries)} queries")


if __name__ == "__main__":
    main()
