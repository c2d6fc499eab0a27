"""Soak: can an update be lost? 8 editors + 1 importer against gunicorn + PostgreSQL.

For SOAK_SECONDS (default 60) eight editors save hazards — four through the REST API (PATCH
with the version they loaded), four through the edit page (the form with its hidden version) —
all on the same small set of "hot" hazards, while one importer uploads, previews and confirms
hazard CSVs that update those hazards and create new ones. A 409 (API), a stale-edit page or an
import refused because records changed since its preview is a *refused* write, not a lost one.

Then, in the database, every acknowledged write is checked (issue 9 §1): its value must be in
the current row, or superseded by a later history row of that hazard. An acknowledged value
found nowhere, or overwritten without a later history row, is a lost update. Also checked: no
two history rows carry one content version of a hazard; every current row equals its newest
history row.

Prints `name: value unit` lines:
soak_lost_updates, soak_5xx, soak_requests, soak_acknowledged, soak_refused,
soak_imports_confirmed, soak_imports_refused, soak_duplicate_versions, soak_current_mismatch,
soak_other_4xx.

Bounded: talks only to 127.0.0.1, stops by itself, always stops gunicorn; own database
(SOAK_DB, default rb_door_bench). Skips (exit 0, one line saying why) without PostgreSQL.
Env: SOAK_SECONDS (60), SOAK_EDITORS (8), SOAK_HOT (40 hot hazards), SOAK_WORKERS (2).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import (  # noqa: E402
    ApiClient,
    Gunicorn,
    PageClient,
    api_token,
    ensure_user,
    pg_available,
    setup_postgres,
)

DATABASE = os.environ.get("SOAK_DB", "rb_door_bench")
PASSWORD = "Bench-soak-password-42"
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
EDITORS = int(os.environ.get("SOAK_EDITORS", "8"))
HOT = int(os.environ.get("SOAK_HOT", "40"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "2"))
IMPORT_UPDATES, IMPORT_CREATES = 5, 50


class Tally:
    """What the clients saw, shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.acknowledged: list[tuple[str, str]] = []  # (hazard code, harm value written)

    def count(self, name: str, n: int = 1):
        with self.lock:
            self.counts[name] += n

    def status(self, code: int):
        self.count("requests")
        if code >= 500:
            self.count("5xx")

    def ack(self, code: str, value: str):
        with self.lock:
            self.acknowledged.append((code, value))
            self.counts["acknowledged"] += 1


def build():
    setup_postgres(DATABASE)
    from hazards import services
    from hazards.models import Product

    admin = ensure_user("soak-admin", PASSWORD, group="Quality engineer", superuser=True)
    product = services.product_create(by=admin, name="Soak pump", slug="soak", reason="Soak bench")
    editors = [
        ensure_user(f"editor{i}", PASSWORD, group="Quality engineer", products=[product])
        for i in range(EDITORS)
    ]
    importer = ensure_user("importer", PASSWORD, group="Quality engineer", products=[product])
    codes = [
        services.hazard_create(
            product=product, by=admin, title=f"Hot hazard {i}", category="safety",
            severity=3, harm="Initial harm",
        ).code
        for i in range(HOT)
    ]  # fmt: skip
    product = Product.objects.get(pk=product.pk)
    return product, codes, editors, importer


def api_editor(url, token, slug, codes, name, tally, stop):
    client = ApiClient(url, token)
    rng, i = random.Random(name), 0
    while not stop.is_set():
        code = rng.choice(codes)
        path = f"/api/products/{slug}/hazards/{code}/"
        got = client.get(path)
        tally.status(got.status_code)
        if got.status_code != 200:
            continue
        i += 1
        value = f"soak {name} {i}"
        response = client.patch(
            path, {"harm": value, "version": got.json()["version"]}, reason=f"Soak {name}"
        )
        tally.status(response.status_code)
        if response.status_code == 200:
            tally.ack(code, value)
        elif response.status_code == 409:
            tally.count("refused")
        elif response.status_code < 500:
            tally.count("other_4xx")


def page_editor(url, slug, codes, name, tally, stop):
    from tests.door.forms import edit_form_data

    client = PageClient(url, name, PASSWORD)
    rng, i = random.Random(name), 0
    while not stop.is_set():
        code = rng.choice(codes)
        path = f"/p/{slug}/hazards/{code}/edit/"
        page = client.get(path)
        tally.status(page.status_code)
        if page.status_code != 200:
            continue
        i += 1
        value = f"soak {name} {i}"
        data = edit_form_data(page.text)
        data["harm"] = [value]
        data["change_reason"] = [f"Soak {name}"]
        response = client.post(path, data)
        tally.status(response.status_code)
        if response.status_code == 302:
            tally.ack(code, value)
        elif response.status_code == 200 and "Not saved" in response.text:
            tally.count("refused")
        elif response.status_code < 500:
            tally.count("other_4xx")


def importer_loop(url, slug, codes, tally, stop):
    from tests.door.forms import post_form_data

    client = PageClient(url, "importer", PASSWORD)
    rng, j = random.Random("importer"), 0
    while not stop.is_set():
        j += 1
        chosen = rng.sample(codes, min(IMPORT_UPDATES, len(codes)))
        values = {code: f"soak import {j} {code}" for code in chosen}
        lines = ["ID,Title,Harm,Sev"]
        lines += [f"{code},,{values[code]}," for code in chosen]  # empty cells keep values
        lines += [f",Imported {j}.{k},Burn,2" for k in range(IMPORT_CREATES)]
        csv = ("\n".join(lines) + "\n").encode()
        upload = client.post(
            f"/p/{slug}/io/hazards/import/", {}, files={"file": (f"soak-{j}.csv", csv)}
        )
        tally.status(upload.status_code)
        if upload.status_code != 302:
            tally.count("other_4xx")
            continue
        location = upload.headers["Location"]
        preview = client.get(location[location.index("/p/") :])
        tally.status(preview.status_code)
        if preview.status_code != 200:
            continue
        data = post_form_data(preview.text, having="planned_versions")
        data["action"] = ["confirm"]
        response = client.post(f"/p/{slug}/io/hazards/preview/", data)
        tally.status(response.status_code)
        location = response.headers.get("Location", "")
        if response.status_code == 302 and location.endswith(f"/p/{slug}/hazards/"):
            tally.count("imports_confirmed")
            for code, value in values.items():
                tally.ack(code, value)
        elif response.status_code == 200 and "changed since the preview" in response.text:
            tally.count("imports_refused")
            tally.count("refused")
        elif response.status_code < 500:
            tally.count("other_4xx")


def verify(product, tally) -> dict[str, int]:
    """Acknowledged writes against the database: current, or superseded by a later history
    row — anything else is a lost update."""
    from hazards.models import Hazard
    from tests.door.concurrency import duplicate_content_versions

    current = {h.code: h for h in Hazard.objects.filter(product=product)}
    lost = 0
    for code, value in tally.acknowledged:
        hazard = current.get(code)
        rows = list(
            Hazard.history.filter(id=hazard.pk).order_by("history_date", "history_id")
            .values_list("history_id", "harm")
        )  # fmt: skip
        written = [i for i, (_, harm) in enumerate(rows) if harm == value]
        if not written:
            lost += 1  # acknowledged, never recorded
        elif hazard.harm != value and written[-1] == len(rows) - 1:
            lost += 1  # recorded as newest, yet not what the row says
    mismatch = 0
    for hazard in current.values():
        newest = hazard.history.order_by("-history_date", "-history_id").first()
        if (newest.harm, newest.version, newest.title) != (
            hazard.harm,
            hazard.version,
            hazard.title,
        ):
            mismatch += 1
    duplicates = len(duplicate_content_versions(Hazard, product_id=product.pk))
    return {"lost": lost, "mismatch": mismatch, "duplicates": duplicates}


def main() -> int:
    if not pg_available():
        print("# bench_soak skipped: PostgreSQL does not answer on 127.0.0.1:5432")
        return 0
    product, codes, editors, importer = build()
    tally = Tally()
    stop = threading.Event()
    with Gunicorn(workers=WORKERS, threads=4) as app:
        threads = []
        for i, user in enumerate(editors):
            if i % 2 == 0:
                target = api_editor
                args = (app.url, api_token(user), product.slug, codes, user.username, tally, stop)
            else:
                target = page_editor
                args = (app.url, product.slug, codes, user.username, tally, stop)
            threads.append(threading.Thread(target=target, args=args, daemon=True))
        threads.append(
            threading.Thread(
                target=importer_loop, args=(app.url, product.slug, codes, tally, stop),
                daemon=True,
            )
        )  # fmt: skip
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join(180)
        elapsed = time.monotonic() - started
        if tally.counts["5xx"]:
            print(app.log_tail(), file=sys.stderr)
    found = verify(product, tally)
    c = tally.counts
    print(f"soak_lost_updates: {found['lost']} count")
    print(f"soak_5xx: {c['5xx']} count")
    print(f"soak_requests: {c['requests']} count")
    print(f"soak_acknowledged: {c['acknowledged']} count")
    print(f"soak_refused: {c['refused']} count")
    print(f"soak_imports_confirmed: {c['imports_confirmed']} count")
    print(f"soak_imports_refused: {c['imports_refused']} count")
    print(f"soak_duplicate_versions: {found['duplicates']} count")
    print(f"soak_current_mismatch: {found['mismatch']} count")
    print(f"soak_other_4xx: {c['other_4xx']} count")
    print(f"soak_seconds: {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
