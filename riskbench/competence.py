"""The role and qualification a signer held when signing (ISO 14971 4.3), shown with every
signature on screen and in print next to the 21 CFR 11.50 manifestation.

Read from the history of `UserProfile`, so that a later change of someone's role does not
rewrite what their earlier signatures say about them.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskbench.models import UserProfile


@dataclass(frozen=True)
class Competence:
    role: str
    qualification: str

    def __str__(self):
        return " — ".join(part for part in (self.role, self.qualification) if part)


NONE = Competence("", "")


def competence_at(pairs) -> dict[tuple[int, object], Competence]:
    """{(user id, when): Competence} for each (user id, aware datetime) in `pairs`: the newest
    profile history row of that user at or before that time (none recorded: empty). One
    query whatever the number of pairs."""
    pairs = list(pairs)
    users = {user_id for user_id, _ in pairs}
    if not users:
        return {}
    rows: dict[int, list] = {}
    history = (
        UserProfile.history.filter(user_id__in=users)
        .order_by("history_date", "history_id")
        .values_list("user_id", "history_date", "history_type", "role_title", "qualification")
    )
    for user_id, at, kind, role, qualification in history:
        rows.setdefault(user_id, []).append((at, kind, role, qualification))
    result = {}
    for user_id, when in pairs:
        found = NONE
        for at, kind, role, qualification in rows.get(user_id, ()):
            if at > when:
                break
            found = NONE if kind == "-" else Competence(role, qualification)
        result[(user_id, when)] = found
    return result


def current_competence(user) -> Competence:
    profile = UserProfile.objects.filter(user=user).first()
    return Competence(profile.role_title, profile.qualification) if profile else NONE
