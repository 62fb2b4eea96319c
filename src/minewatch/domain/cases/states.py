"""The case state machine: stages, the transitions between them, who may take each, deadlines.

A case carries one suspected site from its first lead to cleared and beyond (the notice's
"dynamic zero": a cleared site is re-checked, and a relapse reopens it)::

    open ─assign─► assigned ─check─► checked ─confirm─► confirmed ─order─► measures_ordered
      ▲                                  │                                      │
      │                               dismiss                                complete
      │                                  ▼                                      ▼
      │                              dismissed                         measures_completed
      │                                                                         │
      └──────────────────── relapse ◄── rechecked ◄─recheck── cleared ◄─clear───┘

Each stage but the last ones has a deadline from the moment the case entered it; a case past
it is overdue and listed for its region. Every transition is one function of
:mod:`minewatch.domain.cases.service`, checked here for the stage it starts from and the role of
the actor who takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaseStatus(StrEnum):
    OPEN = "open"
    """Fused from leads, not yet assigned to a county."""
    ASSIGNED = "assigned"
    """A county must check the site."""
    CHECKED = "checked"
    """The site check is recorded; the county must confirm or dismiss."""
    CONFIRMED = "confirmed"
    """Mining confirmed; the project is in the ledger; measures must be ordered."""
    DISMISSED = "dismissed"
    """No mining; the reason is recorded and the leads become labelled negatives."""
    MEASURES_ORDERED = "measures_ordered"
    MEASURES_COMPLETED = "measures_completed"
    CLEARED = "cleared"
    """Every measure done; the site must be re-checked."""
    RECHECKED = "rechecked"
    """Re-checked clean: dynamic zero for this site."""


class Transition(StrEnum):
    ASSIGN = "assign"
    CHECK = "check"
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ORDER = "order_measures"
    COMPLETE = "complete_measures"
    CLEAR = "clear"
    RECHECK = "recheck"
    RELAPSE = "relapse"
    REOPEN = "reopen"


class Role(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"
    GRID_ANALYST = "grid_analyst"
    INSPECTOR = "inspector"
    AUDITOR = "auditor"
    ADMIN = "admin"


_OFFICIALS = frozenset({Role.NATIONAL, Role.PROVINCIAL, Role.CITY, Role.COUNTY})
_DISPATCHERS = frozenset({Role.NATIONAL, Role.PROVINCIAL, Role.CITY})


@dataclass(frozen=True)
class Rule:
    """One transition: the stages it may start from, where it leads, who may take it."""

    sources: frozenset[CaseStatus]
    target: CaseStatus
    roles: frozenset[Role]
    needs_reason: bool = False


RULES: dict[Transition, Rule] = {
    Transition.ASSIGN: Rule(
        frozenset({CaseStatus.OPEN, CaseStatus.ASSIGNED}), CaseStatus.ASSIGNED, _DISPATCHERS
    ),
    Transition.CHECK: Rule(
        frozenset({CaseStatus.ASSIGNED}),
        CaseStatus.CHECKED,
        frozenset({Role.COUNTY, Role.INSPECTOR}),
    ),
    Transition.CONFIRM: Rule(frozenset({CaseStatus.CHECKED}), CaseStatus.CONFIRMED, _OFFICIALS),
    Transition.DISMISS: Rule(
        frozenset({CaseStatus.OPEN, CaseStatus.ASSIGNED, CaseStatus.CHECKED}),
        CaseStatus.DISMISSED,
        _OFFICIALS,
        needs_reason=True,
    ),
    Transition.ORDER: Rule(
        frozenset({CaseStatus.CONFIRMED, CaseStatus.MEASURES_ORDERED}),
        CaseStatus.MEASURES_ORDERED,
        _OFFICIALS,
    ),
    Transition.COMPLETE: Rule(
        frozenset({CaseStatus.MEASURES_ORDERED}), CaseStatus.MEASURES_COMPLETED, _OFFICIALS
    ),
    Transition.CLEAR: Rule(
        frozenset({CaseStatus.MEASURES_COMPLETED}), CaseStatus.CLEARED, _OFFICIALS
    ),
    Transition.RECHECK: Rule(
        frozenset({CaseStatus.CLEARED, CaseStatus.RECHECKED}),
        CaseStatus.RECHECKED,
        frozenset({Role.COUNTY, Role.INSPECTOR}),
    ),
    Transition.RELAPSE: Rule(
        frozenset({CaseStatus.CLEARED, CaseStatus.RECHECKED}),
        CaseStatus.ASSIGNED,
        frozenset({*_OFFICIALS, Role.INSPECTOR}),
        needs_reason=True,
    ),
    Transition.REOPEN: Rule(
        frozenset({CaseStatus.DISMISSED}), CaseStatus.OPEN, _DISPATCHERS, needs_reason=True
    ),
}
"""Every transition. A county official cannot assign (a case reaches a county from above), an
inspector records checks but decides nothing, an auditor or a grid analyst changes no case."""


STAGE_DAYS: dict[CaseStatus, int] = {
    CaseStatus.OPEN: 3,
    CaseStatus.ASSIGNED: 7,
    CaseStatus.CHECKED: 3,
    CaseStatus.CONFIRMED: 3,
    CaseStatus.MEASURES_ORDERED: 30,
    CaseStatus.MEASURES_COMPLETED: 7,
    CaseStatus.CLEARED: 30,
}
"""Days a case may stay in a stage before it is overdue. The notice sets no day counts; these are
the defaults a province can change (``deadlines=`` of the service): three working days to hand a
lead on or decide after a check, a week for a site visit, a month for the measures to take
effect and for the re-check after clearing. Dismissed and re-checked cases have no deadline."""


def allowed(transition: Transition, status: CaseStatus, role: Role) -> str | None:
    """``None`` if ``role`` may take ``transition`` from ``status``, else why not."""
    rule = RULES[transition]
    if status not in rule.sources:
        starts = ", ".join(sorted(s.value for s in rule.sources))
        return f"{transition.value} is not possible from {status.value} (only from {starts})"
    if role not in rule.roles:
        article = "an" if role.value[0] in "aeiou" else "a"
        return f"{article} {role.value} may not {transition.value}"
    return None


def next_actions(status: CaseStatus, role: Role) -> list[Transition]:
    """The transitions ``role`` may take on a case in ``status`` (for the case page)."""
    return [t for t in Transition if allowed(t, status, role) is None]
