"""One rule for item codes and titles, applied by forms, the API and every importer.

A risk file arrives with its own identifiers — `1.10.3`, `GIP 1.1`, `REQ-000123`, `HAZ-012` —
and an auditor follows them from the source document to RiskBench and back, so a code is kept
exactly as given (ISO 14971 4.5 traceability): never upper-cased, renumbered or cut. What a code
may hold is what every route can carry without ambiguity: letters, digits, and the separators
`.`, `-`, `_`, `/` and single inner spaces, starting and ending with a letter or digit, at most
`CODE_MAX_LENGTH` characters (the database column). `;`, `,` and `:` are excluded because link
cells use them to separate codes.

Titles: at most `TITLE_MAX_LENGTH` characters everywhere. A longer title is refused naming the
record's code — never truncated (issue 13: a 226-character ReqIF title was once cut to 200).
"""

from __future__ import annotations

import re

CODE_MAX_LENGTH = 20
TITLE_MAX_LENGTH = 200
CODE_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._/-]| (?! ))*")
CODE_RULE = (
    f"letters, digits, '.', '-', '_', '/' and single inner spaces, starting and ending with a "
    f"letter or digit, at most {CODE_MAX_LENGTH} characters"
)


class CodeError(ValueError):
    """A code or title that breaks the rule; the message names the offending value."""


def code_problem(code: str) -> str:
    """Why `code` is not a valid item code ("" when it is)."""
    if not code:
        return "A code is required."
    if len(code) > CODE_MAX_LENGTH:
        return f"Code {code!r} has {len(code)} characters; at most {CODE_MAX_LENGTH}."
    if not CODE_PATTERN.fullmatch(code) or code.endswith((" ", ".", "-", "_", "/")):
        return f"Code {code!r} is not a valid code ({CODE_RULE})."
    return ""


def check_code(code: str) -> str:
    """Return `code` unchanged, or raise CodeError saying what is wrong with it."""
    problem = code_problem(code)
    if problem:
        raise CodeError(problem)
    return code


def title_problem(title: str, *, code: str = "") -> str:
    """Why `title` is too long ("" when it fits), naming the record by its code."""
    if len(title) > TITLE_MAX_LENGTH:
        who = f"{code}: " if code else ""
        return (
            f"{who}the title has {len(title)} characters; at most {TITLE_MAX_LENGTH}. Nothing is "
            f"cut: shorten it in the source, or move the rest into the text."
        )
    return ""


def check_title(title: str, *, code: str = "") -> str:
    problem = title_problem(title, code=code)
    if problem:
        raise CodeError(problem)
    return title


def split_codes(cell: str) -> list[str]:
    """Codes of a link cell (`RC-001; RC-002`), in order, without repeats or blanks.

    `;` is the separator the workbook writes; `,` and line breaks are accepted too, since no
    code can contain them.
    """
    codes: list[str] = []
    for token in re.split(r"[;,\n]+", cell or ""):
        token = token.strip()
        if token and token not in codes:
            codes.append(token)
    return codes
