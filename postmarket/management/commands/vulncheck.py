"""`manage.py vulncheck PRODUCT --osv PATH [--kev FILE] [--format text|json] [--user U]`

Match an offline OSV feed (a folder of advisories, one JSON file, or the ZIP that OSV publishes
per ecosystem) and optionally CISA's KEV catalogue against the product's SOUP; record one
vulnerability per (advisory, SOUP item) to be assessed (`postmarket.vulncheck`). Exit 1 while
any vulnerability of the product is under investigation, or affected with neither a security
hazard nor a problem report (KEV-listed first); 0 when none; 2 when the feed cannot be read or
an advisory in it is unreadable (the check is then incomplete — what could be read is still
recorded). Re-running on the same feed changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from postmarket import feeds, vulncheck
from riskbench.commands import CannotRun, Findings, RiskBenchCommand


def describe(v) -> dict:
    return {
        "code": v.code,
        "advisory": v.advisory_id,
        "aliases": v.aliases,
        "soup": {"code": v.software_item.code, "name": v.software_item.name},
        "version": v.matched_version,
        "state": v.analysis_state,
        "kev": v.in_kev,
        "cvss_score": None if v.cvss_score is None else float(v.cvss_score),
        "cvss_vector": v.cvss_vector,
        "match": v.match_basis,
        "problem": "unassessed"
        if v.needs_assessment
        else "affected without a hazard or problem report",
    }


class Command(RiskBenchCommand):
    help = (
        "Match an offline OSV vulnerability feed (and CISA KEV) against the product's SOUP; "
        "exit 1 while a vulnerability is unassessed or affected without a link."
    )
    takes_product = True
    writes = True
    reports = True
    # Django's system checks (URLs, models, admin…) belong to deployment and `manage.py check`;
    # run before every scheduled feed check they cost about a second of CPU for nothing.
    requires_system_checks = []

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--osv", required=True, help="Folder, JSON file or ZIP of advisories.")
        parser.add_argument("--kev", help="CISA Known Exploited Vulnerabilities JSON.")

    def handle(self, *args, product, user, **options):
        kev = None
        if options.get("kev"):
            try:
                kev = feeds.read_kev(Path(options["kev"]).read_bytes(), options["kev"])
            except OSError as exc:
                raise CannotRun(f"Cannot read {options['kev']}: {exc.strerror or exc}.") from exc
            except feeds.FeedError as exc:
                raise CannotRun(f"KEV file refused: {exc}") from exc
        index, unmatchable = vulncheck.index_soup(product)
        try:
            result = vulncheck.scan(feeds.read_feed(options["osv"]), index)
        except feeds.FeedError as exc:
            raise CannotRun(f"Feed refused: {exc}. Nothing was recorded.") from exc
        source = f"vulncheck {Path(options['osv']).name}"
        applied = vulncheck.apply(product, result, by=user, kev=kev, source=source)
        open_items = vulncheck.outstanding(product)
        if options["format"] == "json":
            self.json(self.document(product, result, applied, open_items, unmatchable))
        else:
            self.text(product, result, applied, open_items, unmatchable)
        if result.unreadable:
            shown = "; ".join(f"{where}: {why}" for where, why in result.unreadable[:5])
            more = len(result.unreadable) - 5
            raise CannotRun(
                f"{len(result.unreadable)} advisor{'ies' if len(result.unreadable) != 1 else 'y'}"
                f" could not be read, so the check is incomplete: {shown}"
                + (f" (and {more} more)" if more > 0 else "")
            )
        if open_items:
            raise Findings(
                f"{len(open_items)} vulnerabilit{'ies' if len(open_items) != 1 else 'y'} "
                "unassessed or affected without a security hazard or problem report."
            )

    def document(self, product, result, applied, open_items, unmatchable) -> dict:
        return {
            "product": {"id": product.pk, "slug": product.slug, "name": str(product)},
            "ok": not open_items and not result.unreadable,
            "advisories_read": result.advisories,
            "advisories_matched_by_package": result.parsed,
            "unreadable": [{"where": w, "error": e} for w, e in result.unreadable],
            "soup_without_purl": unmatchable,
            "recorded": [v.code for v in applied.created],
            "updated": [v.code for v in applied.updated],
            "fixed": [v.code for v in applied.fixed],
            "withdrawn": [v.code for v in applied.withdrawn],
            "unchanged": applied.unchanged,
            "outstanding": [describe(v) for v in open_items],
        }

    def text(self, product, result, applied, open_items, unmatchable) -> None:
        out = self.stdout
        out.write(f"Vulnerability check of {product} ({product.slug})")
        out.write(
            f"{result.advisories} advisories read, {result.parsed} name a SOUP package; "
            f"{len(applied.created)} new, {len(applied.updated)} updated, "
            f"{len(applied.fixed)} fixed by a SOUP update, {len(applied.withdrawn)} withdrawn, "
            f"{applied.unchanged} unchanged."
        )
        if unmatchable:
            out.write(f"SOUP without a package URL (not checked): {', '.join(unmatchable)}")
        for v in open_items:
            kev = " [CISA KEV]" if v.in_kev else ""
            score = f" CVSS {v.cvss_score}" if v.cvss_score is not None else ""
            aliases = f" ({', '.join(v.aliases)})" if v.aliases else ""
            what = (
                "unassessed"
                if v.needs_assessment
                else "affected, no security hazard or problem report"
            )
            out.write(
                f"  - {v.code}{kev} {v.advisory_id}{aliases}{score}: {v.software_item.code} "
                f"{v.software_item.name} {v.matched_version} — {what}; {v.match_basis}"
            )
        if open_items:
            out.write(self.style.ERROR(f"FAIL: {len(open_items)} vulnerabilities to handle."))
        else:
            out.write(self.style.SUCCESS("OK: every matched vulnerability is assessed."))
