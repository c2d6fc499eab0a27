"""Deterministic synthetic products for the bench scripts.

`generate_product(n)` builds a product of `n` hazards with, per hazard, 2 risk controls,
3 requirements and 4 test cases (with runs), every kind of trace link, and a software
architecture with SOUP items — shaped like a real risk file, with a few realistic gaps (a failing
test, a missing benefit-risk justification, a suspect link…) so the analyses have work to do.
The same `n` and `seed` always give the same data.

BULK PATH — the one place in RiskBench allowed to bypass the services: creating thousands of
records one service call at a time would measure the services, not the pages. Every insert goes
through simple-history's `bulk_create_with_history`, so each record still has its "+" history row
(change reason "Synthetic data"), and those rows then join the audit chain (`chain_pending`).
Never import this module from application code.

Use from a bench script:

    from synthetic import setup_django      # bench/ is on sys.path when run as a script
    setup_django("bench_mine")               # throw-away SQLite DB under bench/out/, migrated
    from synthetic import generate_product
    product = generate_product(1000)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

SOUP = [
    # (name, manufacturer, version, purl, licence)
    ("FreeRTOS kernel", "Amazon", "10.6.2", "pkg:github/freertos/freertos-kernel@V10.6.2", "MIT"),
    ("NimBLE BLE stack", "Apache", "1.7.0", "pkg:github/apache/mynewt-nimble@1.7.0", "Apache-2.0"),
    ("Mbed TLS", "Trusted Firmware", "3.6.2", "pkg:github/mbed-tls/mbedtls@v3.6.2", "Apache-2.0"),
    ("SQLite", "SQLite Consortium", "3.46.1", "pkg:generic/sqlite@3.46.1", "blessing"),
    ("zlib", "Jean-loup Gailly, Mark Adler", "1.3.1", "pkg:generic/zlib@1.3.1", "Zlib"),
    ("lwIP TCP/IP stack", "Savannah", "2.2.0", "pkg:generic/lwip@2.2.0", "BSD-3-Clause"),
]
SUBSYSTEMS = [
    "Dose controller",
    "Pump motor driver",
    "Occlusion monitor",
    "Alarm manager",
    "User interface",
    "BLE link",
    "Cloud sync client",
    "Event log",
    "Firmware updater",
    "Battery monitor",
]


# Words of the requirement and test texts: a real risk file's texts are a few sentences each,
# all different (the dossier prints every one of them, so the bench must carry their weight).
ACTIONS = [
    "stop delivery",
    "raise a high-priority alarm",
    "refuse the command",
    "log the event with its cause",
    "switch to the safe state",
    "ask the user to confirm",
    "limit the rate to the programmed maximum",
    "close the pinch valve",
]
TRIGGERS = [
    "detecting an occlusion downstream of the pump",
    "a dose above the hard limit of the drug library",
    "a battery voltage below 3.3 V",
    "a message whose signature does not verify",
    "losing the BLE link for more than 10 s",
    "a watchdog timeout of the dose controller",
    "an air bubble larger than 50 µL",
    "a mismatch between the commanded and the measured motor steps",
]
MEASURES = [
    "The response time is measured from the fault injection to the actuator state.",
    "Both the pump display and the event log show the cause in plain words.",
    "Delivery resumes only after the user acknowledges the alarm.",
    "The behaviour is the same in every infusion mode and at every rate.",
    "No dose is delivered twice after a reset or a power loss.",
]


def _requirement_text(rng: random.Random, n: int) -> str:
    action, trigger = rng.choice(ACTIONS), rng.choice(TRIGGERS)
    return (
        f"The software shall {action} within {rng.choice((0.5, 1, 2, 5))} s of {trigger} "
        f"(requirement {n}). {rng.choice(MEASURES)} {rng.choice(MEASURES)}"
    )


def _procedure(rng: random.Random, n: int) -> str:
    trigger = rng.choice(TRIGGERS)
    return (
        f"1. Set up the pump on the test rig with firmware under test (test {n}).\n"
        f"2. Start an infusion at {rng.randint(1, 120)} mL/h and inject {trigger}.\n"
        f"3. Record the actuator state, the alarm and the event log for {rng.randint(10, 60)} s."
    )


def _acceptance(rng: random.Random) -> str:
    return (
        f"The pump shall {rng.choice(ACTIONS)} within {rng.choice((0.5, 1, 2, 5))} s in "
        f"{rng.choice((10, 20, 50))} of {rng.choice((10, 20, 50))} repetitions. "
        f"{rng.choice(MEASURES)}"
    )


def setup_django(name: str) -> Path:
    """Point Django at a fresh SQLite file `bench/out/<name>.sqlite3`, set it up and migrate.

    Never touches the developer's db.sqlite3 (nor a DATABASE_URL from the environment).
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskbench.settings")
    os.environ.setdefault("DJANGO_MEDIA_ROOT", str(OUT / "media"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return db


def _bulk(model, objs, reason="Synthetic data (bench)"):
    from simple_history.utils import bulk_create_with_history

    return bulk_create_with_history(objs, model, batch_size=500, default_change_reason=reason)


def _estimate(policy, category, severity, likelihood):
    from hazards import risk

    return risk.estimate(policy, category, severity, likelihood=likelihood)


def generate_product(n_hazards: int, *, seed: int = 1, slug: str | None = None, chain: bool = True):
    """Create and return a synthetic Product of `n_hazards` hazards (see module docstring).

    With `chain` (the default) every history row joins the audit chain, as after any real bulk
    write, so benches see a database of realistic size and pay the real cost; `bench_audit`
    passes `chain=False` to time `audit.chain_pending` itself.

    Per hazard i: controls A and B reduce it; A is implemented by requirements R0 and R1, B by R2;
    R0–R2 are verified by tests T0–T2; A's implementation is verified by T0, B's by T2, and the
    effectiveness of both by the validation test T3. One software item contributes to each
    hazard and implements its requirements.
    """
    from django.db import transaction
    from django.utils import timezone

    from hazards.models import (
        Category,
        ControlIntroducedHazard,
        ControlOption,
        Hazard,
        HazardControl,
        HazardTransfer,
        ImplementationStatus,
        Product,
        RiskControl,
        RiskPolicy,
    )
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
        TestResult,
        TestRun,
    )

    rng = random.Random(seed)
    words = random.Random(seed * 7919 + 1)  # texts: their own stream, the data stays the same
    slug = slug or f"synthetic-{n_hazards}-{seed}"
    now = timezone.now().replace(microsecond=0)
    template = RiskPolicy.objects.filter(product__isnull=True).order_by("pk").first()
    policy = template.data

    with transaction.atomic():
        (product,) = _bulk(
            Product,
            [
                Product(
                    name=f"Synthetic pump {n_hazards}",
                    slug=slug,
                    model_number=f"SYN-{n_hazards} v1.0",
                    manufacturer="Bench Medical Ltd",
                    document_number=f"RMF-SYN-{n_hazards}-{seed}",
                    intended_use="Synthetic product for performance measurement.",
                )
            ],
        )
        # The product's own policy: a copy of the template, approved (criteria in force).
        _bulk(
            RiskPolicy,
            [
                RiskPolicy(
                    product=product,
                    name=template.name,
                    template=template,
                    template_version=template.version,
                    status="approved",
                    approved_criteria=policy.criteria(),
                    approved_version=1,
                    **policy.criteria(),
                )
            ],
        )

        # Software architecture: a root system, subsystems, and SOUP under the root.
        n_sub = max(len(SUBSYSTEMS), n_hazards // 10)
        items = [
            SoftwareItem(
                product=product,
                code="SW-001",
                name="Pump firmware",
                safety_class="C",
                safety_class_rationale="Over-delivery of insulin can cause death (IEC 62304 4.3).",
            )
        ]
        items = _bulk(SoftwareItem, items)
        root = items[0]
        children = []
        for j in range(n_sub):
            name = SUBSYSTEMS[j % len(SUBSYSTEMS)]
            children.append(
                SoftwareItem(
                    product=product,
                    code=f"SW-{j + 2:03d}",
                    name=name if j < len(SUBSYSTEMS) else f"{name} {j // len(SUBSYSTEMS) + 1}",
                    parent=root,
                    safety_class="C",
                )
            )
        for k, (name, manufacturer, version, purl, licence) in enumerate(SOUP):
            reviewed = rng.random() > 0.2
            children.append(
                SoftwareItem(
                    product=product,
                    code=f"SW-{n_sub + k + 2:03d}",
                    name=name,
                    parent=root,
                    safety_class="C",
                    is_soup=True,
                    manufacturer=manufacturer,
                    soup_version=version,
                    purl=purl,
                    licence=licence,
                    soup_requirements=f"{name} must provide its documented API within budget.",
                    anomalies_reviewed_at=(now - dt.timedelta(days=30)).date()
                    if reviewed
                    else None,
                    anomalies_notes="Published errata evaluated; none affect safety."
                    if reviewed
                    else "",
                    support_status=SupportStatus.SUPPORTED,
                )
            )
        children = _bulk(SoftwareItem, children)
        subsystems = children[:n_sub]
        soup_items = children[n_sub:]

        # Hazards.
        hazards = []
        for i in range(1, n_hazards + 1):
            roll = rng.random()
            category = (
                Category.SAFETY
                if roll < 0.7
                else Category.SECURITY
                if roll < 0.9
                else Category.PRIVACY
            )
            top = 4 if category == Category.PRIVACY else 5
            severity = rng.randint(1, top)
            likelihood = rng.randint(2, top)
            residual_likelihood = max(1, likelihood - rng.randint(1, 3))
            initial = _estimate(policy, category, severity, likelihood)
            residual = _estimate(policy, category, severity, residual_likelihood)
            justified = residual.acceptability == "acceptable" or rng.random() > 0.1
            hazards.append(
                Hazard(
                    product=product,
                    code=f"HAZ-{i:03d}",
                    category=category,
                    title=f"Synthetic hazard {i}: {'over' if i % 2 else 'under'}-delivery",
                    hazard_type="performance",
                    hazard="Incorrect dose",
                    sequence_of_events="Software fault during a bolus",
                    hazardous_situation="Patient receives the wrong dose",
                    harm="Hypo- or hyperglycaemia",
                    severity=severity,
                    probability=initial.probability,
                    initial_risk_index=initial.index,
                    initial_acceptability=initial.acceptability,
                    residual_severity=severity,
                    residual_probability=residual.probability,
                    residual_risk_index=residual.index,
                    residual_acceptability=residual.acceptability,
                    benefit_risk_justification=""
                    if residual.acceptability == "acceptable" or not justified
                    else "Clinical benefit of automated delivery outweighs the residual risk.",
                    status=rng.choice(["draft", "in_review", "approved", "approved"]),
                )
            )
        hazards = _bulk(Hazard, hazards)

        options = list(ControlOption.values)
        controls, requirements, tests = [], [], []
        for i, hazard in enumerate(hazards):
            for k in range(2):
                controls.append(
                    RiskControl(
                        product=product,
                        code=f"RC-{2 * i + k + 1:03d}",
                        title=f"Control {2 * i + k + 1} of {hazard.code}",
                        option=options[(i + k) % len(options)],
                        implementation_status=ImplementationStatus.IMPLEMENTED,
                        status=hazard.status,
                    )
                )
            item = subsystems[i % len(subsystems)]
            level = (
                RequirementLevel.SECURITY
                if hazard.category == Category.SECURITY
                else RequirementLevel.PRIVACY
                if hazard.category == Category.PRIVACY
                else RequirementLevel.SOFTWARE
            )
            for k in range(3):
                # ~2 % of requirements have moved on since their links were reviewed (suspect).
                version = 2 if rng.random() < 0.02 else 1
                requirements.append(
                    Requirement(
                        product=product,
                        code=f"SRS-{3 * i + k + 1:03d}",
                        level=level,
                        title=f"Requirement {3 * i + k + 1} for {hazard.code}",
                        text=_requirement_text(words, 3 * i + k + 1),
                        software_item=item,
                        version=version,
                    )
                )
            for k in range(4):
                tests.append(
                    TestCase(
                        product=product,
                        code=f"TC-{4 * i + k + 1:03d}",
                        title=f"Test {4 * i + k + 1} for {hazard.code}",
                        level=TestLevel.VALIDATION if k == 3 else TestLevel.SYSTEM,
                        procedure=_procedure(words, 4 * i + k + 1),
                        acceptance_criteria=_acceptance(words),
                    )
                )
        controls = _bulk(RiskControl, controls)
        requirements = _bulk(Requirement, requirements)
        tests = _bulk(TestCase, tests)

        # Runs: a tester, the version tested, a CI reference and, for most runs, the evidence
        # file's name, size and SHA-256 (a CI job's JUnit file is shared by the runs it holds;
        # only the metadata is stored — the dossier prints the manifest, not the files).
        from django.contrib.auth import get_user_model

        tester, _ = get_user_model().objects.get_or_create(
            username="bench-tester", defaults={"first_name": "Tess", "last_name": "Tester"}
        )

        def evidence(name: str, size: int) -> dict:
            digest = hashlib.sha256(f"{slug}/{name}".encode()).hexdigest()
            return {
                "evidence": f"evidence/{slug}/{name}",
                "evidence_name": name,
                "evidence_size": size,
                "evidence_sha256": digest,
            }

        runs = []
        for test in tests:
            roll = rng.random()
            if roll < 0.01:
                continue  # never run
            if rng.random() < 0.3:  # an older run, superseded
                runs.append(
                    TestRun(
                        test_case=test,
                        result=TestResult.FAIL,
                        executed_at=now - dt.timedelta(days=10),
                        executed_by=tester,
                        software_version="0.9.0",
                        notes="Delivery stopped 0.4 s late; see the attached report.",
                        external_reference=f"TR-{test.code}-1",
                        **evidence(f"report-{test.code}-0.9.0.pdf", 40_000 + len(test.code)),
                    )
                )
            result = (
                TestResult.PASS
                if roll < 0.95
                else TestResult.FAIL
                if roll < 0.985
                else TestResult.BLOCKED
            )
            job = rng.randint(1000, 9999)
            runs.append(
                TestRun(
                    test_case=test,
                    result=result,
                    executed_at=now - dt.timedelta(days=1, minutes=rng.randint(0, 600)),
                    executed_by=tester,
                    software_version="1.0.0",
                    external_reference=f"ci/job/{job}",
                    **(evidence(f"junit-{job}.xml", 100_000 + job) if words.random() < 0.8 else {}),
                )
            )
        _bulk(TestRun, runs)

        links = {
            HazardControl: [],
            ControlRequirement: [],
            RequirementTest: [],
            ControlImplementationTest: [],
            ControlEffectivenessTest: [],
            SoftwareItemHazard: [],
            HazardTransfer: [],
            ControlIntroducedHazard: [],
        }
        causes = list(CauseType.values)
        for i, hazard in enumerate(hazards):
            ca, cb = controls[2 * i], controls[2 * i + 1]
            r0, r1, r2 = requirements[3 * i : 3 * i + 3]
            t0, t1, t2, t3 = tests[4 * i : 4 * i + 4]
            links[HazardControl] += [
                HazardControl(hazard=hazard, control=ca),
                HazardControl(hazard=hazard, control=cb),
            ]
            links[ControlRequirement] += [
                ControlRequirement(control=ca, requirement=r0),
                ControlRequirement(control=ca, requirement=r1),
                ControlRequirement(control=cb, requirement=r2),
            ]
            links[RequirementTest] += [
                RequirementTest(requirement=r0, test_case=t0),
                RequirementTest(requirement=r1, test_case=t1),
                RequirementTest(requirement=r2, test_case=t2),
            ]
            links[ControlImplementationTest] += [
                ControlImplementationTest(control=ca, test_case=t0),
                ControlImplementationTest(control=cb, test_case=t2),
            ]
            links[ControlEffectivenessTest] += [
                ControlEffectivenessTest(control=ca, test_case=t3),
                ControlEffectivenessTest(control=cb, test_case=t3),
            ]
            links[SoftwareItemHazard].append(
                SoftwareItemHazard(
                    software_item=subsystems[i % len(subsystems)],
                    hazard=hazard,
                    cause_type=causes[i % len(causes)],
                    cause="Synthetic cause",
                )
            )
            if i % 25 == 0:
                links[SoftwareItemHazard].append(
                    SoftwareItemHazard(
                        software_item=soup_items[i % len(soup_items)],
                        hazard=hazard,
                        cause_type=CauseType.SOUP_FAILURE,
                        cause="SOUP returns an unexpected result",
                    )
                )
        # Security hazards that can lead to a safety hazard, and a few introduced hazards.
        safety = [h for h in hazards if h.category == Category.SAFETY]
        for i, hazard in enumerate(hazards):
            if hazard.category == Category.SECURITY and safety:
                links[HazardTransfer].append(
                    HazardTransfer(security_hazard=hazard, safety_hazard=safety[i % len(safety)])
                )
            if i % 50 == 49 and i + 1 < len(hazards):
                links[ControlIntroducedHazard].append(
                    ControlIntroducedHazard(control=controls[2 * i], hazard=hazards[i + 1])
                )
        for model, objs in links.items():
            for link in objs:
                link.source_version = 1
                link.target_version = 1
            _bulk(model, objs)
        if chain:
            from riskbench import audit

            audit.chain_pending()
    return product
