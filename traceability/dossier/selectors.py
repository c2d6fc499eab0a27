"""Gather one product's risk management file into `data.DossierData` (ISO 14971 4.5).

This is the only step of the dossier that touches the database, and it does so in a fixed
number of queries whatever the size of the product: the trace graph (`traceability.graph`, whose
links, verification states, gaps and coverage the dossier prints, so the dossier and the coverage
page never disagree), one `values()` query per table for the text the graph does not carry, one
per historied table for the audit-trail extract, and the signatures and baselines
(`integration`), and the sections registered by apps above (`extensions`).
`tests/dossier/test_selectors.py` holds the count: 46 queries with postmarket's sections, 63
once the product has a baseline, for 10 hazards as for 200.

Everything comes out sorted (natural code order, then primary key) so that the same data always
gives the same dossier, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from hazards import risk
from hazards.models import (
    Category,
    ControlIntroducedHazard,
    ControlOption,
    Hazard,
    HazardControl,
    HazardTransfer,
    HazardType,
    HipaaIdentifier,
    ImplementationStatus,
    Linddun,
    Membership,
    Product,
    RiskControl,
    RiskPolicy,
    SecurityControlCategory,
    Stride,
)
from riskbench.models import Status
from traceability import gate
from traceability import graph as tg
from traceability.dossier import data as d
from traceability.dossier import extensions, integration
from traceability.models import (
    CauseType,
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementLevel,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    SupportStatus,
    TestCase,
    TestLevel,
    TestMethod,
    TestResult,
    TestRun,
)

NO_RUN = "No run"
RESULT_LABELS = dict(TestResult.choices)
STATUS_LABELS = dict(Status.choices)


def _label(labels: dict, value) -> str:
    """The label of a choice (`labels`: `dict(X.choices)`, made once per gather)."""
    if value in (None, ""):
        return ""
    return str(labels.get(value, value))


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _person(first: str | None, last: str | None, username: str | None) -> str:
    name = f"{first or ''} {last or ''}".strip()
    return name or username or ""


def _codes(graph, nodes: Iterable) -> tuple[str, ...]:
    """Codes of `nodes`, which come sorted from the graph's index."""
    return tuple(graph.nodes[n].get("code", "") for n in nodes)


def _result_label(value: str | None) -> str:
    return RESULT_LABELS.get(value, value) if value else NO_RUN


def _test_ref(graph, node) -> d.TestRef:
    attrs = graph.nodes[node]
    return d.TestRef(
        code=attrs.get("code", ""),
        title=attrs.get("title", ""),
        result=_result_label(attrs.get("latest_result")),
        executed_at=attrs.get("latest_run_at"),
    )


# --------------------------------------------------------------------------------------------
# Risk policy (ISO 14971 4.4 d)
# --------------------------------------------------------------------------------------------


def _levels(levels) -> tuple[d.Level, ...]:
    return tuple(
        d.Level(int(lvl["value"]), str(lvl.get("name", "")), str(lvl.get("description", "")))
        for lvl in levels
    )


def policy_info(policy: RiskPolicy) -> d.PolicyInfo:
    """The criteria in force: the approved ones (a working copy not yet approved evaluates
    nothing, so the file does not print it as the plan's criteria)."""
    data = policy.approved_data or policy.data
    scales = (
        d.Scale(
            "severity", "Severity of harm (safety and security)", _levels(data.severity_levels)
        ),
        d.Scale("probability", "Probability of harm P (safety)", _levels(data.probability_levels)),
        d.Scale(
            "p1", "P1 — probability that the hazardous situation occurs", _levels(data.p1_levels)
        ),
        d.Scale("p2", "P2 — probability that the situation leads to harm", _levels(data.p2_levels)),
        d.Scale(
            "exploitability",
            "Exploitability (security, from the CVSS v3.1 exploitability sub-score)",
            _levels(data.exploitability_levels),
        ),
        d.Scale(
            "privacy_impact",
            "Impact on data subjects (privacy)",
            _levels(data.privacy_impact_levels),
        ),
        d.Scale(
            "privacy_likelihood", "Likelihood (privacy)", _levels(data.privacy_likelihood_levels)
        ),
    )
    matrices = []
    for category, title in (
        (Category.SAFETY, "Safety: severity × probability of harm"),
        (Category.SECURITY, "Security: severity × exploitability"),
        (Category.PRIVACY, "Privacy: impact × likelihood"),
    ):
        cat = risk.Category(category)
        axes = risk.AXIS_NAMES[cat]
        matrices.append(
            d.Matrix(
                category=str(category),
                title=title,
                severity_axis=axes[0],
                likelihood_axis=axes[1],
                severity_levels=_levels(data.severity_scale(cat)),
                likelihood_levels=_levels(data.likelihood_scale(cat)),
                cells=tuple(tuple(str(c) for c in row) for row in data.matrix(cat)),
                region_labels=tuple(
                    (str(region), label) for region, label in risk.ACCEPTABILITY_LABELS[cat].items()
                ),
            )
        )
    return d.PolicyInfo(
        name=policy.name,
        version=policy.approved_version or policy.version,
        status=(
            str(STATUS_LABELS.get("approved", "approved"))
            if policy.is_approved
            else "not approved — risks not evaluated"
        ),
        description=_text(policy.description),
        scales=scales,
        probability_mapping=tuple(tuple(int(v) for v in row) for row in data.probability_mapping),
        matrices=tuple(matrices),
    )


def plan_approval_text(product: Product) -> str:
    """Who approved the plan's current content with a signature (ISO 14971 4.4), as printed."""
    from hazards.selectors import plan_approval

    signature = plan_approval(product)
    if signature is None:
        return (
            f"Not approved: no “Approved” signature on the plan's current content (version "
            f"{product.version})."
        )
    return f"Approved: {signature.manifestation} (version {signature.record_version})."


def product_info(product: Product) -> d.ProductInfo:
    return d.ProductInfo(
        pk=product.pk,
        name=product.name,
        slug=product.slug,
        model_number=_text(product.model_number),
        manufacturer=_text(product.manufacturer),
        document_number=_text(product.document_number) or f"RMF-{product.slug.upper()}",
        description=_text(product.description),
        intended_use=_text(product.intended_use),
        reasonably_foreseeable_misuse=_text(product.reasonably_foreseeable_misuse),
        intended_users=_text(product.intended_users),
        use_environment=_text(product.use_environment),
        connectivity=_text(product.connectivity),
        safety_characteristics=_text(product.safety_characteristics),
        software_safety_class=product.software_safety_class,
        verification_plan=_text(product.verification_plan),
        overall_residual_risk_method=_text(product.overall_residual_risk_method),
        post_production_plan=_text(product.post_production_plan),
        review_conclusion=_text(product.review_conclusion),
        version=product.version,
        responsibilities_and_authorities=_text(product.responsibilities_and_authorities),
        review_requirements=_text(product.review_requirements),
        plan_approval=plan_approval_text(product),
    )


# --------------------------------------------------------------------------------------------
# The audit-trail extract (21 CFR 11.10(e))
# --------------------------------------------------------------------------------------------

AUDIT_IGNORED = {"id", "version", "created_at", "updated_at", "source_version", "target_version"}
# Consecutive creations by the same person, of the same kind, for the same reason and on the same
# day are printed as one line (a bulk import is one event, not a thousand); above this many the
# line names the first and last code only.
LIST_ALL_UP_TO = 10
TRUNCATE = 80


def _short(value) -> str:
    if value in (None, "", [], {}):
        return "—"
    text = str(value).replace("\n", " ")
    return text if len(text) <= TRUNCATE else text[: TRUNCATE - 1] + "…"


class _AuditSource:
    """One historied table: how to find the product's rows and how to name a record."""

    def __init__(self, model, label: str, where, name):
        self.model = model
        self.label = label
        self.where = where  # product -> Q on the historical model
        self.name = name  # (row dict, codes) -> record name


def _audit_sources(product: Product) -> list[_AuditSource]:
    def coded(row, codes):
        return row.get("code") or f"#{row['id']}"

    def link(src_kind, src_field, phrase, tgt_kind, tgt_field):
        def name(row, codes):
            src = codes[src_kind].get(row[f"{src_field}_id"], f"#{row[f'{src_field}_id']}")
            tgt = codes[tgt_kind].get(row[f"{tgt_field}_id"], f"#{row[f'{tgt_field}_id']}")
            return f"{src} {phrase} {tgt}"

        return name

    def of(model):
        """Primary keys of the product's records of `model`, deleted ones included (subquery)."""
        return model.history.filter(product_id=product.pk).values("id")

    return [
        _AuditSource(Product, "Product", lambda: Q(id=product.pk), lambda r, c: r["name"]),
        _AuditSource(
            RiskPolicy, "Risk policy", lambda: Q(product_id=product.pk), lambda r, c: r["name"]
        ),
        _AuditSource(
            Membership,
            "Membership",
            lambda: Q(product_id=product.pk),
            lambda r, c: f"{c['user'].get(r['user_id'], '#' + str(r['user_id']))}",
        ),
        _AuditSource(Hazard, "Hazard", lambda: Q(product_id=product.pk), coded),
        _AuditSource(RiskControl, "Risk control", lambda: Q(product_id=product.pk), coded),
        _AuditSource(SoftwareItem, "Software item", lambda: Q(product_id=product.pk), coded),
        _AuditSource(Requirement, "Requirement", lambda: Q(product_id=product.pk), coded),
        _AuditSource(TestCase, "Test case", lambda: Q(product_id=product.pk), coded),
        _AuditSource(
            TestRun,
            "Test run",
            lambda: Q(test_case_id__in=of(TestCase)),
            lambda r, c: (
                f"{c['test'].get(r['test_case_id'], '#')} run of {r['executed_at']:%Y-%m-%d %H:%M}"
            ),
        ),
        _AuditSource(
            HazardControl,
            "Link",
            lambda: Q(hazard_id__in=of(Hazard)),
            link("control", "control", "reduces", "hazard", "hazard"),
        ),
        _AuditSource(
            ControlIntroducedHazard,
            "Link",
            lambda: Q(hazard_id__in=of(Hazard)),
            link("control", "control", "introduces", "hazard", "hazard"),
        ),
        _AuditSource(
            HazardTransfer,
            "Link",
            lambda: Q(security_hazard_id__in=of(Hazard)),
            link("hazard", "security_hazard", "can lead to", "hazard", "safety_hazard"),
        ),
        _AuditSource(
            ControlRequirement,
            "Link",
            lambda: Q(control_id__in=of(RiskControl)),
            link("control", "control", "implemented by", "requirement", "requirement"),
        ),
        _AuditSource(
            RequirementTest,
            "Link",
            lambda: Q(requirement_id__in=of(Requirement)),
            link("requirement", "requirement", "verified by", "test", "test_case"),
        ),
        _AuditSource(
            ControlImplementationTest,
            "Link",
            lambda: Q(control_id__in=of(RiskControl)),
            link("control", "control", "implementation verified by", "test", "test_case"),
        ),
        _AuditSource(
            ControlEffectivenessTest,
            "Link",
            lambda: Q(control_id__in=of(RiskControl)),
            link("control", "control", "effectiveness verified by", "test", "test_case"),
        ),
        _AuditSource(
            SoftwareItemHazard,
            "Link",
            lambda: Q(software_item_id__in=of(SoftwareItem)),
            link("software_item", "software_item", "contributes to", "hazard", "hazard"),
        ),
    ]


ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


# The history columns the extract reads besides the compared fields (`_audit`).
HISTORY_READ = {"id", "history_id", "history_date", "history_type", "history_change_reason"}


def _history_rows(source: _AuditSource, fields: list[str]):
    """The history rows of one source, read in chunks (one query): the extract of a large file
    is built without holding every history row of every table at once. Only the columns the
    extract reads (`fields`, compared between versions, and `HISTORY_READ`): the others
    (timestamps, versions) cost a conversion per row for nothing."""
    return (
        source.model.history.filter(source.where())
        .order_by("id", "history_date", "history_id")
        .values(
            *[
                f.attname
                for f in source.model.history.model._meta.concrete_fields
                if f.attname in HISTORY_READ or f.attname in fields
            ],
            "history_user__username",
            "history_user__first_name",
            "history_user__last_name",
        )
        .iterator(chunk_size=2000)
    )


CODED = {
    Hazard: "hazard",
    RiskControl: "control",
    Requirement: "requirement",
    TestCase: "test",
    SoftwareItem: "software_item",
}


def _audit(
    product: Product, since: dt.datetime | None, codes: dict
) -> tuple[list, dt.datetime | None]:
    """The extract (rows in the period) and the latest change of all (the document date).

    Sources are read one at a time, records before the links and runs that name them, so the
    codes of deleted records are known (`codes`) when a link to one of them is named."""
    entries = []  # (when, source index, history_id, AuditEntry-ish tuple)
    latest = None
    people: dict[tuple, str] = {}  # (first name, last name, username) -> printed name
    shared: dict[str, str] = {}
    for index, source in enumerate(_audit_sources(product)):
        kind = CODED.get(source.model)
        fields = [
            f.attname
            for f in source.model.history.model._meta.concrete_fields
            if not f.attname.startswith("history_") and f.attname not in AUDIT_IGNORED
        ]
        previous: dict | None = None
        for row in _history_rows(source, fields):
            if kind:
                codes[kind].setdefault(row["id"], row["code"])
            when = row["history_date"]
            if latest is None or when > latest:
                latest = when
            if previous is not None and previous["id"] != row["id"]:
                previous = None
            action = ACTIONS.get(row["history_type"], row["history_type"])
            what = ""
            if row["history_type"] == "~" and previous is not None:
                changed = [f for f in fields if row[f] != previous[f]]
                what = "; ".join(
                    f"{f.removesuffix('_id')}: {_short(previous[f])} → {_short(row[f])}"
                    for f in changed
                )
                if not changed:
                    what = "No field changed"
            previous = row
            if since is not None and when <= since:
                continue
            person = (
                row["history_user__first_name"],
                row["history_user__last_name"],
                row["history_user__username"],
            )
            who = people.get(person)
            if who is None:
                who = people[person] = _person(*person) or "system"
            name = source.name(row, codes)
            why = _text(row.get("history_change_reason"))
            entries.append(
                (
                    when,
                    index,
                    row["history_id"],
                    source.label,
                    shared.setdefault(name, name),  # one string per name, reason…: memory
                    action,
                    shared.setdefault(what, what),
                    shared.setdefault(why, why),
                    who,
                )
            )
    # (when, source, history id) is unique: sorted by the tuples themselves, without a key
    # tuple per entry (a large file's audit extract was the peak of its memory)
    entries.sort()
    return _group_creations(entries), latest


def _group_creations(entries) -> list[d.AuditEntry]:
    result: list[d.AuditEntry] = []
    run: list = []

    def flush():
        if not run:
            return
        when, _, _, label, _, action, _, why, who = run[0]
        names = [e[4] for e in run]
        if len(run) == 1:
            record = f"{label} {names[0]}"
        elif len(run) <= LIST_ALL_UP_TO:
            record = f"{len(run)} × {label.lower()}: " + ", ".join(names)
        else:
            record = f"{len(run)} × {label.lower()}: {names[0]} … {names[-1]}"
        result.append(d.AuditEntry(when, who, record, action, "", why))
        run.clear()

    for entry in entries:
        when, _, _, label, name, action, what, why, who = entry
        if action == "Created":
            if run:
                first = run[0]
                same = (first[3], first[8], first[7], first[0].date()) == (
                    label,
                    who,
                    why,
                    when.date(),
                )
                if not same:
                    flush()
            run.append(entry)
            continue
        flush()
        result.append(d.AuditEntry(when, who, f"{label} {name}", action, what, why))
    flush()
    return result


# --------------------------------------------------------------------------------------------
# The product
# --------------------------------------------------------------------------------------------


def gather(product: Product | int) -> d.DossierData:
    """Everything the dossier prints, in a fixed number of queries (see module docstring)."""
    pk = product.pk if isinstance(product, Product) else product
    product = Product.objects.select_related("risk_policy").get(pk=pk)
    graph = tg.build_graph(product)
    nodes = graph.nodes
    an = tg.analyse(graph)
    ix = an.index
    cv, hv, required = an.controls, an.hazards, an.required_classes
    # The open-gaps section lists every check of the release gate (DESIGN.md §8).
    checked = gate.product_gaps(product, analysis=an)
    gaps, cov = checked.gaps, checked.coverage

    codes: dict[str, dict] = defaultdict(dict)
    for node, attrs in nodes.items():
        codes[node[0]][node[1]] = attrs.get("code", "")
    latest_change: list[dt.datetime] = [product.updated_at, product.risk_policy.updated_at]

    # Software causes (IEC 62304 7.1.2): the graph knows the cause type, not the words.
    causes: dict[int, list[d.SoftwareCause]] = defaultdict(list)
    cause_labels = dict(CauseType.choices)
    for row in (
        SoftwareItemHazard.objects.filter(software_item__product=product)
        .order_by("pk")
        .values("hazard_id", "software_item__code", "software_item__name", "cause_type", "cause")
    ):
        causes[row["hazard_id"]].append(
            d.SoftwareCause(
                item_code=row["software_item__code"],
                item_name=row["software_item__name"],
                hazard_code=codes["hazard"].get(row["hazard_id"], ""),
                cause_type=cause_labels.get(row["cause_type"], row["cause_type"]),
                cause=_text(row["cause"]),
            )
        )

    hazard_rows = {
        row["id"]: row
        for row in Hazard.objects.filter(product=product)
        .order_by()
        .values(
            *[f.attname for f in Hazard._meta.concrete_fields],
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
    }
    hipaa = dict(HipaaIdentifier.choices)
    hazard_types, threats = dict(HazardType.choices), dict(Stride.choices)
    linddun = dict(Linddun.choices)
    hazards = []
    for node in ix.nodes(tg.HAZARD):
        row = hazard_rows[node[1]]
        latest_change.append(row["updated_at"])
        score = row["cvss_base_score"]
        hazards.append(
            d.Hazard(
                pk=row["id"],
                code=row["code"],
                category=row["category"],
                title=row["title"],
                hazard_type=_label(hazard_types, row["hazard_type"]),
                hazard=_text(row["hazard"]),
                sequence_of_events=_text(row["sequence_of_events"]),
                hazardous_situation=_text(row["hazardous_situation"]),
                harm=_text(row["harm"]),
                status=STATUS_LABELS.get(row["status"], row["status"]),
                revision=row["revision"],
                owner=_person(
                    row["owner__first_name"], row["owner__last_name"], row["owner__username"]
                ),
                severity=row["severity"],
                p1=row["p1"],
                p2=row["p2"],
                probability=row["probability"],
                initial_index=row["initial_risk_index"],
                initial_acceptability=row["initial_acceptability"] or "",
                residual_severity=row["residual_severity"],
                residual_p1=row["residual_p1"],
                residual_p2=row["residual_p2"],
                residual_probability=row["residual_probability"],
                residual_index=row["residual_risk_index"],
                residual_acceptability=row["residual_acceptability"] or "",
                benefit_risk_justification=_text(row["benefit_risk_justification"]),
                asset=_text(row["asset"]),
                threat=_label(threats, row["threat"]),
                vulnerability=_text(row["vulnerability"]),
                cvss_vector=_text(row["cvss_vector"]),
                cvss_base_score="" if score is None else f"{score:.1f}",
                residual_cvss_vector=_text(row["residual_cvss_vector"]),
                data_elements=tuple(hipaa.get(e, str(e)) for e in (row["data_elements"] or [])),
                linddun_category=_label(linddun, row["linddun_category"]),
                controls=_codes(graph, ix.succ(node, tg.REDUCES)),
                introduced_by=_codes(graph, ix.pred(node, tg.INTRODUCES)),
                leads_to=_codes(graph, ix.succ(node, tg.CAN_LEAD_TO)),
                caused_by_security=_codes(graph, ix.pred(node, tg.CAN_LEAD_TO)),
                software_causes=tuple(causes.get(row["id"], ())),
                verification=hv.get(node, ""),
            )
        )

    control_rows = {
        row["id"]: row
        for row in RiskControl.objects.filter(product=product)
        .order_by()
        .values(
            "id",
            "description",
            "security_category",
            "updated_at",
        )
    }
    options = dict(ControlOption.choices)
    security_categories = dict(SecurityControlCategory.choices)
    implementation_states = dict(ImplementationStatus.choices)
    controls = []
    for node in ix.nodes(tg.CONTROL):
        attrs = nodes[node]
        row = control_rows[node[1]]
        latest_change.append(row["updated_at"])
        state = cv[node]
        controls.append(
            d.Control(
                pk=node[1],
                code=attrs["code"],
                title=attrs["title"],
                description=_text(row["description"]),
                option=attrs["option"],
                option_label=options.get(attrs["option"], attrs["option"]),
                security_category=_label(security_categories, row["security_category"]),
                implementation_status=_label(implementation_states, attrs["implementation_status"]),
                status=STATUS_LABELS.get(attrs["status"], attrs["status"]),
                reduces=_codes(graph, ix.pred(node, tg.REDUCES)),
                introduces=_codes(graph, ix.succ(node, tg.INTRODUCES)),
                requirements=_codes(graph, ix.succ(node, tg.IMPLEMENTED_BY)),
                implementation_tests=tuple(
                    _test_ref(graph, t) for t, _ in state["implementation_tests"]
                ),
                effectiveness_tests=tuple(
                    _test_ref(graph, t) for t, _ in state["effectiveness_tests"]
                ),
                verification=(
                    f"implementation {state['implementation']}, "
                    f"effectiveness {state['effectiveness']}"
                ),
            )
        )

    requirement_rows = {
        row["id"]: row
        for row in Requirement.objects.filter(product=product)
        .order_by()
        .values("id", "text", "updated_at")
    }
    levels = dict(RequirementLevel.choices)
    requirements = []
    for node in ix.nodes(tg.REQUIREMENT):
        attrs = nodes[node]
        row = requirement_rows[node[1]]
        latest_change.append(row["updated_at"])
        item = attrs.get("software_item")
        requirements.append(
            d.Requirement(
                pk=node[1],
                code=attrs["code"],
                level=levels.get(attrs["level"], attrs["level"]),
                title=attrs["title"],
                text=_text(row["text"]),
                software_item=nodes[item]["code"] if item in nodes else "",
                status=STATUS_LABELS.get(attrs["status"], attrs["status"]),
                tests=_codes(graph, ix.succ(node, tg.VERIFIED_BY)),
            )
        )

    tests = tuple(_test_ref(graph, node) for node in ix.nodes(tg.TEST))

    item_rows = {
        row["id"]: row
        for row in SoftwareItem.objects.filter(product=product)
        .order_by()
        .values(*[f.attname for f in SoftwareItem._meta.concrete_fields])
    }
    support = dict(SupportStatus.choices)
    software_items = []
    for node in ix.nodes(tg.SOFTWARE_ITEM):
        row = item_rows[node[1]]
        latest_change.append(row["updated_at"])
        recorded = row["safety_class"]
        should = required.get(node, "")
        software_items.append(
            d.SoftwareItem(
                pk=row["id"],
                code=row["code"],
                name=row["name"],
                parent=codes["software_item"].get(row["parent_id"], "") if row["parent_id"] else "",
                safety_class=recorded,
                safety_class_rationale=_text(row["safety_class_rationale"]),
                segregation_note=_text(row["segregation_note"]),
                required_class=should
                if tg.CLASS_ORDER.get(should, 0) > tg.CLASS_ORDER.get(recorded, 0)
                else "",
                is_soup=row["is_soup"],
                manufacturer=_text(row["manufacturer"]),
                soup_version=_text(row["soup_version"]),
                purl=_text(row["purl"]),
                licence=_text(row["licence"]),
                soup_requirements=_text(row["soup_requirements"]),
                soup_hardware_software=_text(row["soup_hardware_software"]),
                anomalies_reviewed_at=row["anomalies_reviewed_at"],
                anomalies_notes=_text(row["anomalies_notes"]),
                support_status=support.get(row["support_status"], row["support_status"]),
                end_of_support=row["end_of_support"],
            )
        )

    # Test cases with their texts and every run (IEC 62304 5.7): one query for the texts, one
    # for the runs; the evidence manifest is the runs that carry a file.
    case_rows = {
        row["id"]: row
        for row in TestCase.objects.filter(product=product)
        .order_by()
        .values("id", "procedure", "acceptance_criteria", "updated_at")
    }
    runs_of: dict[int, list[d.Run]] = defaultdict(list)
    evidence = []
    for row in (
        TestRun.objects.filter(test_case__product=product)
        .order_by("test_case_id", "-executed_at", "-id")
        .values(
            "test_case_id",
            "executed_at",
            "result",
            "software_version",
            "notes",
            "evidence",
            "evidence_name",
            "evidence_sha256",
            "evidence_size",
            "external_reference",
            "updated_at",
            "executed_by__username",
            "executed_by__first_name",
            "executed_by__last_name",
        )
    ):
        latest_change.append(row["updated_at"])
        tester = _person(
            row["executed_by__first_name"],
            row["executed_by__last_name"],
            row["executed_by__username"],
        )
        name = (
            (_text(row["evidence_name"]) or row["evidence"].rsplit("/", 1)[-1])
            if row["evidence"]
            else ""
        )
        run = d.Run(
            executed_at=row["executed_at"],
            result=_result_label(row["result"]),
            software_version=_text(row["software_version"]),
            tester=tester,
            external_reference=_text(row["external_reference"]),
            notes=_text(row["notes"]),
            evidence_name=name,
            evidence_sha256=row["evidence_sha256"] if name else "",
        )
        runs_of[row["test_case_id"]].append(run)
        if name:
            evidence.append(
                d.Evidence(
                    test_code=codes["test"].get(row["test_case_id"], ""),
                    executed_at=row["executed_at"],
                    result=run.result,
                    software_version=run.software_version,
                    tester=tester,
                    name=name,
                    sha256=row["evidence_sha256"],
                    size=row["evidence_size"],
                    external_reference=run.external_reference,
                )
            )
    evidence = tuple(sorted(evidence, key=lambda e: (tg.code_key(e.test_code), e.executed_at)))
    methods, test_levels = dict(TestMethod.choices), dict(TestLevel.choices)
    test_cases = []
    for node in ix.nodes(tg.TEST):
        attrs = nodes[node]
        row = case_rows[node[1]]
        latest_change.append(row["updated_at"])
        test_cases.append(
            d.TestCase(
                pk=node[1],
                code=attrs["code"],
                title=attrs["title"],
                method=methods.get(attrs.get("method"), attrs.get("method") or ""),
                level=test_levels.get(attrs.get("level"), attrs.get("level") or ""),
                procedure=_text(row["procedure"]),
                acceptance_criteria=_text(row["acceptance_criteria"]),
                verifies=_codes(graph, ix.pred(node, tg.VERIFIED_BY)),
                runs=tuple(runs_of.get(node[1], ())),
            )
        )

    trace = tuple(
        d.TraceRow(
            hazard=r.hazard_code,
            hazard_title=r.hazard_title,
            control=r.control_code,
            requirement=r.requirement_code,
            test=r.test_code,
            result=_result_label(r.latest_result) if r.test_code else "",
        )
        for r in tg.trace_rows(graph, analysis=an)
    )

    # Signatures and baselines (21 CFR 11.50; ISO 14971 4.5; IEC 62304 7.4) — `integration`.
    versions = {node: attrs.get("version") for node, attrs in nodes.items()}
    record_signatures = integration.record_signatures(product, versions)
    baselines = integration.baselines(product)
    release = integration.release(product, baselines)
    audit_since = release.previous.created_at if release.previous else None

    # The graph and the rows read so far are no longer needed: freed before the audit extract
    # reads the history tables, so a large file's peak memory is one of the two, not both.
    del graph, nodes, an, ix, cv, hv, required, versions
    del hazard_rows, control_rows, requirement_rows, item_rows, case_rows, runs_of

    codes["user"] = {
        m["user_id"]: _person(m["user__first_name"], m["user__last_name"], m["user__username"])
        for m in Membership.history.filter(product_id=product.pk)
        .order_by("user_id")
        .values("user_id", "user__first_name", "user__last_name", "user__username")
    }
    audit, latest_history = _audit(product, audit_since, codes)
    latest_change.extend(
        [latest_history]
        + [s.signed_at for s in record_signatures]
        + [b.created_at for b in baselines]
    )
    as_of = max(t for t in latest_change if t is not None).astimezone(dt.UTC)

    return d.DossierData(
        product=product_info(product),
        policy=policy_info(product.risk_policy),
        as_of=as_of,
        revision=release.revision,
        hazards=tuple(hazards),
        controls=tuple(controls),
        requirements=tuple(requirements),
        tests=tests,
        test_cases=tuple(test_cases),
        software_items=tuple(software_items),
        trace_rows=trace,
        gaps=tuple(d.Gap(g.kind, gate.label(g.kind), g.code, g.message) for g in gaps),
        coverage=tuple(d.CoverageLine(r.label, r.clause, r.checked, r.gaps) for r in cov),
        evidence=evidence,
        record_signatures=record_signatures,
        baselines=tuple(baselines),
        released=release.released,
        previous_baseline=release.previous,
        changes=release.changes,
        audit_since=audit_since,
        audit=tuple(audit),
        extensions=extensions.gather(product),
    )
