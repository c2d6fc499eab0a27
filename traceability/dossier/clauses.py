"""Which section of the dossier answers which clause (ISO 14971:2019 4.4–10; IEC 62304:2006+A1
4.3, 5.3.3, 7.1–7.4, 8.1.2), so an auditor can check the file clause by clause.

Section keys are those of `renderer.SECTIONS`; the renderer prints the section numbers and the
pages they start on. A test checks that every key named here exists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    standard: str
    number: str
    title: str
    sections: tuple[str, ...]


ISO_14971 = "ISO 14971:2019"
IEC_62304 = "IEC 62304:2006+A1:2015"

CLAUSES: tuple[Clause, ...] = (
    Clause(ISO_14971, "4.4", "Risk management plan", ("plan",)),
    Clause(ISO_14971, "4.5", "Risk management file", ("document_control", "trace", "evidence")),
    Clause(ISO_14971, "5.2", "Intended use and reasonably foreseeable misuse", ("scope",)),
    Clause(ISO_14971, "5.3", "Identification of characteristics related to safety", ("scope",)),
    Clause(ISO_14971, "5.4", "Identification of hazards and hazardous situations", ("hazards",)),
    Clause(ISO_14971, "5.5", "Risk estimation", ("hazards", "plan")),
    Clause(ISO_14971, "6", "Risk evaluation", ("evaluation", "hazards")),
    Clause(ISO_14971, "7.1", "Risk control option analysis", ("controls",)),
    Clause(
        ISO_14971,
        "7.2",
        "Implementation of risk control measures (verification)",
        ("controls", "trace"),
    ),
    Clause(ISO_14971, "7.3", "Residual risk evaluation", ("hazards", "evaluation")),
    Clause(ISO_14971, "7.4", "Benefit-risk analysis", ("residual",)),
    Clause(ISO_14971, "7.5", "Risks arising from risk control measures", ("controls",)),
    Clause(ISO_14971, "7.6", "Completeness of risk control", ("coverage",)),
    Clause(
        ISO_14971, "8", "Evaluation of overall residual risk", ("report", "residual", "evaluation")
    ),
    Clause(ISO_14971, "9", "Risk management review", ("report", "residual", "document_control")),
    Clause(
        ISO_14971,
        "10",
        "Production and post-production activities",
        ("plan", "extensions", "changes", "audit"),
    ),
    Clause(IEC_62304, "4.3", "Software safety classification", ("safety_class",)),
    Clause(IEC_62304, "5.3.3", "Functional and performance requirements of SOUP items", ("soup",)),
    Clause(IEC_62304, "5.8.2", "Known residual anomalies of a release", ("extensions",)),
    Clause(
        IEC_62304,
        "7.1",
        "Analysis of software contributing to hazardous situations",
        ("safety_class", "hazards", "soup"),
    ),
    Clause(
        IEC_62304,
        "7.2",
        "Risk control measures (implemented as software requirements)",
        ("controls", "trace"),
    ),
    Clause(
        IEC_62304,
        "7.3",
        "Verification of risk control measures; traceability",
        ("trace", "coverage", "evidence"),
    ),
    Clause(IEC_62304, "7.4", "Risk management of software changes", ("changes", "audit")),
    Clause(IEC_62304, "8.1.2", "Identify SOUP (title, manufacturer, version)", ("soup",)),
    Clause(IEC_62304, "9", "Software problem resolution", ("extensions",)),
)
