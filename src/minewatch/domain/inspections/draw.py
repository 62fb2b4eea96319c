"""The double-random inspection draw (双随机、一公开) that anyone holding the pools can re-run.

Notice 1283 (发改运行〔2021〕1283号), clause （十）, asks for spot checks of power-connection
applications by "双随机、一公开": random targets, random inspectors, results published. This module
makes such a draw a pure function of published inputs, so that nobody — not even the office that
runs it — can steer it, and so that anyone holding the pools can check it afterwards.

Construction (scheme ``minewatch-draw-v1``)
-------------------------------------------
1. **Pools.** Each pool is serialised canonically: its rows sorted by id (Unicode code-point
   order), each row a JSON object, the list written as UTF-8 JSON with sorted keys, no whitespace
   and non-ASCII characters as themselves (see :func:`target_pool_json`,
   :func:`inspector_pool_json`). ``*_pool_sha256`` is the SHA-256 (hex) of those bytes. The
   inspector rows include their private conflict data, so the inspector pool's hash commits to it.
2. **Seed.** ``seed = SHA-256(UTF-8(canonical JSON of``
   ``{"scheme": "minewatch-draw-v1", "seed_source": {"text": …, "description": …},``
   ``"target_pool_sha256": …, "inspector_pool_sha256": …, "parameters": …}))``, 32 bytes; the
   parameters are spelled as in :meth:`DrawParameters.to_json_object` (the draw date among them).
   The seed source is a public string fixed before the draw and out of the drawer's control, such
   as a named lottery result or a block hash.
3. **Stream.** Block ``c`` (``c = 0, 1, 2, …``) is ``SHA-256(seed ‖ uint64_be(c))``; each block
   gives four 64-bit big-endian words, used in order. A uniform integer in ``[0, n)`` takes the
   next word ``x``; if ``x ≥ 2**64 − (2**64 mod n)`` the word is rejected and the next one is
   taken (no modulo bias); otherwise the integer is ``x mod n``. Every call uses at least one word.
4. **Targets.** Sampling without replacement by a forward Fisher–Yates over the pool in canonical
   order: for ``i = 0 … k−1``, ``j = i + uniform(n − i)``, swap items ``i`` and ``j``; the picks
   are items ``0 … k−1`` in that order. A stratified draw does this per region, regions in
   ascending code order, all from one stream.
5. **Inspectors.** Then, for each pick in draw order, the inspectors not recused (see
   :class:`RecusalReason`) in canonical order are the candidates. If there are too few (or, when
   distinct agencies are required, too few agencies) the target is left unstaffed with its reason
   and no words are used. Otherwise each of the ``inspectors_per_target`` slots takes
   ``candidates[uniform(len(candidates))]`` where, unless the agency rule is ``any``, the
   candidates are those whose agency is not yet on the team (all remaining ones when none is
   left under ``prefer_distinct``).

Order of publication matters: whoever runs the draw controls the pools and the parameters, and
so could try variations of them until a known seed source gives a draw they like. Publish
:func:`draw_commitment` (both pool hashes, the parameters and which seed source will be used)
*before* the seed source value exists; the record then shows the draw used exactly those.

The record (:class:`DrawRecord`) holds everything needed to recompute the draw;
:func:`verify_draw` does so and names every mismatch; :func:`public_summary` is what may be
published: the pools without the inspectors' conflict data, and the hashes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from minewatch.reference import credit_code, regions

__all__ = [
    "SCHEME",
    "AgencyRule",
    "Assignment",
    "DrawParameters",
    "DrawProblem",
    "DrawProblemKind",
    "DrawRecord",
    "Inspector",
    "Recusal",
    "RecusalReason",
    "SeedSource",
    "Target",
    "UnstaffedReason",
    "VerifyResult",
    "canonical_json",
    "derive_seed",
    "draw_commitment",
    "draw_inspections",
    "hash_stream_words",
    "inspector_pool_json",
    "inspector_pool_sha256",
    "public_summary",
    "target_pool_json",
    "target_pool_sha256",
    "uniform_index",
    "verify_draw",
]

SCHEME = "minewatch-draw-v1"
"""Name and version of the construction described in this module's docstring."""

_WORD_BYTES = 8
_WORD_SPACE = 1 << (8 * _WORD_BYTES)
_REGION_CODE = re.compile(r"\d{6}")

JsonObject = dict[str, Any]


def canonical_json(value: Any) -> str:
    """The one JSON spelling that is hashed: sorted keys, no whitespace, non-ASCII kept as is.

    The same spelling as the audit chain's; encode the result as UTF-8 before hashing.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted(value.items())))


def _check_region_code(code: str, what: str) -> None:
    if not _REGION_CODE.fullmatch(code):
        raise ValueError(f"{what}: region code {code!r} is not 6 digits (GB/T 2260)")
    if not regions.is_valid_code(code, include_retired=True):
        raise ValueError(f"{what}: region code {code!r} is not a GB/T 2260 division code")


def _normal_uscc(code: str, what: str) -> str:
    try:
        return credit_code.validate(code)
    except credit_code.InvalidCreditCodeError as error:
        raise ValueError(f"{what}: {error}") from error


def _check_whole(value: object, minimum: int, what: str) -> None:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{what} must be a whole number ≥ {minimum}, got {value!r}")


def _nonblank(text: object, what: str) -> None:
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, got {text!r}")
    if not text.strip():
        raise ValueError(f"{what} is empty")


# ── inputs ───────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Target:
    """One item of the target pool, e.g. one power-connection application.

    Parameters
    ----------
    target_id : str
        Stable id, unique in the pool (e.g. the grid company's application number).
    region_code : str
        GB/T 2260 code of the county where the site is.
    enterprise_uscc : str
        Unified social credit code (GB 32100) of the applicant; stored normalised.
    attributes : Mapping[str, str]
        Optional public attributes (capacity applied for, voltage level …), text only so that
        the canonical spelling has no floating-point ambiguity. Part of the pool hash.
    """

    target_id: str
    region_code: str
    enterprise_uscc: str
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _nonblank(self.target_id, "a target id")
        what = f"target {self.target_id!r}"
        _check_region_code(self.region_code, what)
        object.__setattr__(
            self, "enterprise_uscc", _normal_uscc(self.enterprise_uscc, f"{what}: enterprise_uscc")
        )
        for key, value in self.attributes.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"{what}: attribute {key!r} must map text to text")
        object.__setattr__(self, "attributes", _frozen_mapping(self.attributes))

    def to_json_object(self) -> JsonObject:
        """The row as it is hashed and published (targets have no private fields)."""
        return {
            "target_id": self.target_id,
            "region_code": self.region_code,
            "enterprise_uscc": self.enterprise_uscc,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class Inspector:
    """One law-enforcement officer of the inspector pool (执法检查人员名录库).

    Parameters
    ----------
    inspector_id : str
        Stable id, unique in the pool (e.g. the enforcement certificate number).
    name : str
        Name as published with the results.
    region_code : str
        GB/T 2260 code of the officer's home county. The home-county rule compares codes exactly
        (no look-up in the region table, whose versions change), so give a county code.
    agency : str
        The officer's agency (发改, 能源, 市场监管, 电网 …); teams mix agencies when possible.
    related_usccs : frozenset[str]
        Private. Credit codes of enterprises the officer is related to or previously worked for.
    past_inspections : Mapping[str, int]
        Private. Target id → how many draws ago the officer inspected it (1 = the previous draw).
    """

    inspector_id: str
    name: str
    region_code: str
    agency: str
    related_usccs: frozenset[str] = frozenset()
    past_inspections: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _nonblank(self.inspector_id, "an inspector id")
        what = f"inspector {self.inspector_id!r}"
        _nonblank(self.name, f"{what}: name")
        _nonblank(self.agency, f"{what}: agency")
        _check_region_code(self.region_code, what)
        related = frozenset(
            _normal_uscc(code, f"{what}: related_usccs") for code in self.related_usccs
        )
        object.__setattr__(self, "related_usccs", related)
        for target_id, draws_ago in self.past_inspections.items():
            _nonblank(target_id, f"{what}: a past inspection's target id")
            if type(draws_ago) is not int or draws_ago < 1:
                raise ValueError(
                    f"{what}: past inspection of {target_id!r} is {draws_ago!r} draws ago; "
                    "expected a whole number ≥ 1 (1 = the previous draw)"
                )
        object.__setattr__(self, "past_inspections", _frozen_mapping(self.past_inspections))

    def to_json_object(self) -> JsonObject:
        """The full row as it is hashed, conflict data included."""
        return {**self.public_json_object(), "related_usccs": sorted(self.related_usccs),
                "past_inspections": dict(self.past_inspections)}  # fmt: skip

    def public_json_object(self) -> JsonObject:
        """The row without its private conflict data, as published."""
        return {
            "inspector_id": self.inspector_id,
            "name": self.name,
            "region_code": self.region_code,
            "agency": self.agency,
        }


@dataclass(frozen=True)
class SeedSource:
    """The public randomness: text fixed before the draw and not controllable by the drawer.

    Parameters
    ----------
    text : str
        The value exactly as published, e.g. the winning numbers of a named lottery draw or a
        block hash. Hashed as given (no trimming or case folding).
    description : str
        Where and when it was published, so anyone can look it up; also hashed into the seed.
    """

    text: str
    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError("the seed source text is empty; a draw needs a published value")
        if not isinstance(self.description, str) or not self.description.strip():
            raise ValueError("the seed source needs a description saying where it was published")

    def to_json_object(self) -> JsonObject:
        return {"text": self.text, "description": self.description}


class AgencyRule(StrEnum):
    """How agencies are mixed on one target's team."""

    PREFER_DISTINCT = "prefer_distinct"
    """Each slot is drawn from agencies not yet on the team while any eligible one is left."""
    REQUIRE_DISTINCT = "require_distinct"
    """Every member from a different agency; otherwise the target is left unstaffed."""
    ANY = "any"
    """Agencies are ignored."""


@dataclass(frozen=True)
class DrawParameters:
    """What is drawn. Exactly one of ``target_count``, ``target_share`` and
    ``region_target_counts`` is given.

    Parameters
    ----------
    draw_date : date
        Local (Asia/Shanghai) date of the draw.
    target_count : int, optional
        Number of targets to draw from the whole pool.
    target_share : float, optional
        Share of the pool in (0, 1]; the count is ``ceil(share × pool size)``, the share read as
        its shortest decimal spelling (0.07 of 100 gives 7, not 8).
    region_target_counts : Mapping[str, int], optional
        Stratified draw: region code → number of targets among the pool's targets of exactly that
        region code.
    inspectors_per_target : int
        Team size; law enforcement needs at least two officers, hence the default.
    agency_rule : AgencyRule
        How agencies are mixed on a team.
    recent_draws_excluded : int
        An officer who inspected a target in the last this many draws is recused from it
        (0 turns the rule off).
    recuse_home_county : bool
        Recuse officers from targets in their own home county.
    """

    draw_date: date
    target_count: int | None = None
    target_share: float | None = None
    region_target_counts: Mapping[str, int] | None = field(default=None, hash=False)
    inspectors_per_target: int = 2
    agency_rule: AgencyRule = AgencyRule.PREFER_DISTINCT
    recent_draws_excluded: int = 3
    recuse_home_county: bool = True

    def __post_init__(self) -> None:
        given = [
            name
            for name in ("target_count", "target_share", "region_target_counts")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of target_count, target_share and region_target_counts; "
                f"got {', '.join(given) if given else 'none'}"
            )
        if self.target_count is not None:
            _check_whole(self.target_count, 1, "target_count")
        if self.target_share is not None and not 0 < self.target_share <= 1:
            raise ValueError(f"target_share must be in (0, 1], got {self.target_share!r}")
        if self.region_target_counts is not None:
            if not self.region_target_counts:
                raise ValueError("region_target_counts is empty")
            for code, count in self.region_target_counts.items():
                _check_region_code(code, "region_target_counts")
                if type(count) is not int or count < 1:
                    raise ValueError(
                        f"region_target_counts[{code!r}] must be a whole number ≥ 1, got {count!r}"
                    )
            object.__setattr__(
                self, "region_target_counts", _frozen_mapping(self.region_target_counts)
            )
        _check_whole(self.inspectors_per_target, 1, "inspectors_per_target")
        _check_whole(self.recent_draws_excluded, 0, "recent_draws_excluded")
        object.__setattr__(self, "agency_rule", AgencyRule(self.agency_rule))

    def to_json_object(self) -> JsonObject:
        """The parameters as hashed into the seed; the share as its shortest decimal text."""
        return {
            "draw_date": self.draw_date.isoformat(),
            "target_count": self.target_count,
            "target_share": None if self.target_share is None else repr(float(self.target_share)),
            "region_target_counts": (
                None if self.region_target_counts is None else dict(self.region_target_counts)
            ),
            "inspectors_per_target": self.inspectors_per_target,
            "agency_rule": self.agency_rule.value,
            "recent_draws_excluded": self.recent_draws_excluded,
            "recuse_home_county": self.recuse_home_county,
        }

    @classmethod
    def from_json_object(cls, data: Mapping[str, Any]) -> DrawParameters:
        share = data["target_share"]
        return cls(
            draw_date=date.fromisoformat(data["draw_date"]),
            target_count=data["target_count"],
            target_share=None if share is None else float(share),
            region_target_counts=data["region_target_counts"],
            inspectors_per_target=data["inspectors_per_target"],
            agency_rule=AgencyRule(data["agency_rule"]),
            recent_draws_excluded=data["recent_draws_excluded"],
            recuse_home_county=data["recuse_home_county"],
        )


# ── outputs ──────────────────────────────────────────────────────────────────────────────────


class RecusalReason(StrEnum):
    """Why an officer may not inspect a target (回避). Each is a hard rule, never relaxed."""

    RELATED_ENTERPRISE = "related_enterprise"
    """The target's enterprise is among the officer's related or former employers."""
    RECENTLY_INSPECTED = "recently_inspected"
    """The officer inspected this target within the last ``recent_draws_excluded`` draws."""
    HOME_COUNTY = "home_county"
    """The target is in the officer's home county (when ``recuse_home_county``)."""


class UnstaffedReason(StrEnum):
    """Why a drawn target has no team."""

    TOO_FEW_ELIGIBLE = "too_few_eligible"
    """Fewer officers are left after recusals than ``inspectors_per_target``."""
    TOO_FEW_AGENCIES = "too_few_agencies"
    """Distinct agencies are required and the eligible officers come from too few of them."""


@dataclass(frozen=True)
class Recusal:
    """One officer recused from one drawn target, with every reason that applies. Private."""

    target_id: str
    inspector_id: str
    reasons: tuple[RecusalReason, ...]

    def to_json_object(self) -> JsonObject:
        return {
            "target_id": self.target_id,
            "inspector_id": self.inspector_id,
            "reasons": [r.value for r in self.reasons],
        }

    @classmethod
    def from_json_object(cls, data: Mapping[str, Any]) -> Recusal:
        return cls(
            target_id=data["target_id"],
            inspector_id=data["inspector_id"],
            reasons=tuple(RecusalReason(r) for r in data["reasons"]),
        )


@dataclass(frozen=True)
class Assignment:
    """The team drawn for one picked target, or why there is none.

    ``inspector_ids`` is in draw order and empty exactly when ``unstaffed_reason`` is set;
    ``eligible_count`` is the number of officers left after recusals.
    """

    target_id: str
    inspector_ids: tuple[str, ...]
    eligible_count: int
    unstaffed_reason: UnstaffedReason | None = None

    @property
    def staffed(self) -> bool:
        return self.unstaffed_reason is None

    def to_json_object(self) -> JsonObject:
        return {
            "target_id": self.target_id,
            "inspector_ids": list(self.inspector_ids),
            "eligible_count": self.eligible_count,
            "unstaffed_reason": None
            if self.unstaffed_reason is None
            else self.unstaffed_reason.value,
        }

    @classmethod
    def from_json_object(cls, data: Mapping[str, Any]) -> Assignment:
        reason = data["unstaffed_reason"]
        return cls(
            target_id=data["target_id"],
            inspector_ids=tuple(data["inspector_ids"]),
            eligible_count=data["eligible_count"],
            unstaffed_reason=None if reason is None else UnstaffedReason(reason),
        )


@dataclass(frozen=True)
class DrawRecord:
    """Everything needed to recompute a draw, and its outcome.

    ``picks`` are target ids in draw order; ``assignments`` follow the same order, one per pick;
    ``recusals`` list, per pick in order and per officer in canonical order, every officer
    recused from it. ``seed_sha256`` is the seed in hex.
    """

    parameters: DrawParameters
    seed_source: SeedSource
    target_pool_sha256: str
    inspector_pool_sha256: str
    target_pool_size: int
    inspector_pool_size: int
    seed_sha256: str
    picks: tuple[str, ...]
    assignments: tuple[Assignment, ...]
    recusals: tuple[Recusal, ...]
    scheme: str = SCHEME

    @property
    def unstaffed(self) -> tuple[Assignment, ...]:
        """The picked targets that could not be staffed."""
        return tuple(a for a in self.assignments if not a.staffed)

    def to_json_object(self) -> JsonObject:
        return {
            "scheme": self.scheme,
            "parameters": self.parameters.to_json_object(),
            "seed_source": self.seed_source.to_json_object(),
            "target_pool_sha256": self.target_pool_sha256,
            "inspector_pool_sha256": self.inspector_pool_sha256,
            "target_pool_size": self.target_pool_size,
            "inspector_pool_size": self.inspector_pool_size,
            "seed_sha256": self.seed_sha256,
            "picks": list(self.picks),
            "assignments": [a.to_json_object() for a in self.assignments],
            "recusals": [r.to_json_object() for r in self.recusals],
        }

    def to_json(self) -> str:
        """The record as canonical JSON text (UTF-8 when written)."""
        return canonical_json(self.to_json_object())

    @classmethod
    def from_json(cls, text: str) -> DrawRecord:
        """Read a record written by :meth:`to_json`; a ValueError names what is missing or bad."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("a draw record is a JSON object")
            scheme = data["scheme"]
            if scheme != SCHEME:
                raise ValueError(f"unknown draw scheme {scheme!r}; this version reads {SCHEME!r}")
            source = data["seed_source"]
            return cls(
                scheme=scheme,
                parameters=DrawParameters.from_json_object(data["parameters"]),
                seed_source=SeedSource(text=source["text"], description=source["description"]),
                target_pool_sha256=data["target_pool_sha256"],
                inspector_pool_sha256=data["inspector_pool_sha256"],
                target_pool_size=data["target_pool_size"],
                inspector_pool_size=data["inspector_pool_size"],
                seed_sha256=data["seed_sha256"],
                picks=tuple(data["picks"]),
                assignments=tuple(Assignment.from_json_object(a) for a in data["assignments"]),
                recusals=tuple(Recusal.from_json_object(r) for r in data["recusals"]),
            )
        except KeyError as error:
            raise ValueError(f"draw record: missing field {error.args[0]!r}") from error
        except (TypeError, AttributeError) as error:
            raise ValueError(f"draw record: malformed ({error})") from error


# ── pools and seed ───────────────────────────────────────────────────────────────────────────


def _unique_sorted(items: Sequence[Any], key: str, what: str) -> list[Any]:
    counts = Counter(getattr(item, key) for item in items)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"{what} has duplicate ids: {', '.join(map(repr, duplicates))}")
    return sorted(items, key=lambda item: str(getattr(item, key)))


def target_pool_json(target_pool: Sequence[Target]) -> str:
    """Canonical JSON of the target pool: rows sorted by id. Raises ValueError on duplicate ids."""
    rows = _unique_sorted(target_pool, "target_id", "the target pool")
    return canonical_json([t.to_json_object() for t in rows])


def inspector_pool_json(inspector_pool: Sequence[Inspector]) -> str:
    """Canonical JSON of the inspector pool, conflict data included: rows sorted by id."""
    rows = _unique_sorted(inspector_pool, "inspector_id", "the inspector pool")
    return canonical_json([i.to_json_object() for i in rows])


def target_pool_sha256(target_pool: Sequence[Target]) -> str:
    """SHA-256 (hex) of :func:`target_pool_json` in UTF-8."""
    return _sha256_hex(target_pool_json(target_pool))


def inspector_pool_sha256(inspector_pool: Sequence[Inspector]) -> str:
    """SHA-256 (hex) of :func:`inspector_pool_json` in UTF-8."""
    return _sha256_hex(inspector_pool_json(inspector_pool))


def draw_commitment(
    target_pool: Sequence[Target],
    inspector_pool: Sequence[Inspector],
    parameters: DrawParameters,
    seed_source_description: str,
) -> JsonObject:
    """What to publish before the seed source value is known (see the module docstring).

    Returns the scheme, both pool hashes and sizes, the parameters and the description of the
    seed source to come (e.g. "福彩双色球 第2021115期开奖号码, 2021-10-07 21:15"), so that nobody
    can later swap a pool row or a parameter to steer the draw.
    """
    _nonblank(seed_source_description, "the seed source description")
    targets = _unique_sorted(target_pool, "target_id", "the target pool")
    inspectors = _unique_sorted(inspector_pool, "inspector_id", "the inspector pool")
    _check_team_size(inspectors, parameters)
    _strata(targets, parameters)  # refuses counts the pool cannot meet, before anything is public
    return {
        "scheme": SCHEME,
        "seed_source_description": seed_source_description,
        "target_pool_sha256": target_pool_sha256(targets),
        "inspector_pool_sha256": inspector_pool_sha256(inspectors),
        "target_pool_size": len(targets),
        "inspector_pool_size": len(inspectors),
        "parameters": parameters.to_json_object(),
    }


def derive_seed(
    seed_source: SeedSource,
    target_pool_hash: str,
    inspector_pool_hash: str,
    parameters: DrawParameters,
    scheme: str = SCHEME,
) -> bytes:
    """The 32-byte seed: SHA-256 over the canonical JSON of scheme, seed source, both pool
    hashes and the parameters (step 2 of the module docstring)."""
    material = {
        "scheme": scheme,
        "seed_source": seed_source.to_json_object(),
        "target_pool_sha256": target_pool_hash,
        "inspector_pool_sha256": inspector_pool_hash,
        "parameters": parameters.to_json_object(),
    }
    return hashlib.sha256(canonical_json(material).encode("utf-8")).digest()


def hash_stream_words(seed: bytes) -> Iterator[int]:
    """The endless stream of 64-bit words: SHA-256(seed ‖ uint64_be(counter)), four words each."""
    counter = 0
    while True:
        block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        for start in range(0, len(block), _WORD_BYTES):
            yield int.from_bytes(block[start : start + _WORD_BYTES], "big")
        counter += 1


def uniform_index(words: Iterator[int], n: int) -> int:
    """A uniform integer in ``[0, n)`` from the stream, rejecting words that would bias it."""
    if n < 1:
        raise ValueError(f"cannot draw from an empty range (n = {n})")
    limit = _WORD_SPACE - _WORD_SPACE % n
    for word in words:
        if word < limit:
            return word % n
    raise AssertionError("the hash stream is endless")  # pragma: no cover


# ── the draw ─────────────────────────────────────────────────────────────────────────────────


def _share_count(share: float, pool_size: int) -> int:
    exact = Decimal(repr(float(share))) * pool_size
    return int(exact.to_integral_value(rounding=ROUND_CEILING))


def _strata(targets: list[Target], parameters: DrawParameters) -> list[tuple[list[Target], int]]:
    """(sub-pool in canonical order, how many to draw from it), in draw order."""
    size = len(targets)
    if parameters.region_target_counts is None:
        if parameters.target_count is not None:
            count = parameters.target_count
        else:
            assert parameters.target_share is not None
            count = _share_count(parameters.target_share, size)
        if count > size:
            raise ValueError(f"asked for {count} targets but the target pool holds only {size}")
        return [(targets, count)]
    strata = []
    for code, count in sorted(parameters.region_target_counts.items()):
        sub_pool = [t for t in targets if t.region_code == code]
        if count > len(sub_pool):
            raise ValueError(
                f"asked for {count} targets in region {code} but the target pool holds only "
                f"{len(sub_pool)} there"
            )
        strata.append((sub_pool, count))
    return strata


def _sample(pool: list[Any], count: int, words: Iterator[int]) -> list[Any]:
    """The first ``count`` items of a forward Fisher–Yates shuffle of ``pool``."""
    items = list(pool)
    for i in range(count):
        j = i + uniform_index(words, len(items) - i)
        items[i], items[j] = items[j], items[i]
    return items[:count]


def _recusal_reasons(
    inspector: Inspector, target: Target, parameters: DrawParameters
) -> tuple[RecusalReason, ...]:
    reasons = []
    if target.enterprise_uscc in inspector.related_usccs:
        reasons.append(RecusalReason.RELATED_ENTERPRISE)
    draws_ago = inspector.past_inspections.get(target.target_id)
    if draws_ago is not None and draws_ago <= parameters.recent_draws_excluded:
        reasons.append(RecusalReason.RECENTLY_INSPECTED)
    if parameters.recuse_home_county and inspector.region_code == target.region_code:
        reasons.append(RecusalReason.HOME_COUNTY)
    return tuple(reasons)


def _staff(
    target: Target,
    inspectors: list[Inspector],
    parameters: DrawParameters,
    words: Iterator[int],
) -> tuple[Assignment, list[Recusal]]:
    recusals: list[Recusal] = []
    eligible: list[Inspector] = []
    for inspector in inspectors:
        reasons = _recusal_reasons(inspector, target, parameters)
        if reasons:
            recusals.append(Recusal(target.target_id, inspector.inspector_id, reasons))
        else:
            eligible.append(inspector)
    needed = parameters.inspectors_per_target
    unstaffed: UnstaffedReason | None = None
    if len(eligible) < needed:
        unstaffed = UnstaffedReason.TOO_FEW_ELIGIBLE
    elif parameters.agency_rule is AgencyRule.REQUIRE_DISTINCT and (
        len({i.agency for i in eligible}) < needed
    ):
        unstaffed = UnstaffedReason.TOO_FEW_AGENCIES
    if unstaffed is not None:
        return Assignment(target.target_id, (), len(eligible), unstaffed), recusals
    team: list[Inspector] = []
    remaining = list(eligible)
    for _ in range(needed):
        candidates = remaining
        if parameters.agency_rule is not AgencyRule.ANY:
            on_team = {i.agency for i in team}
            fresh = [i for i in remaining if i.agency not in on_team]
            candidates = fresh or remaining
        chosen = candidates[uniform_index(words, len(candidates))]
        team.append(chosen)
        remaining.remove(chosen)
    team_ids = tuple(i.inspector_id for i in team)
    return Assignment(target.target_id, team_ids, len(eligible)), recusals


@dataclass(frozen=True)
class _Outcome:
    picks: tuple[str, ...]
    assignments: tuple[Assignment, ...]
    recusals: tuple[Recusal, ...]


def _run(
    targets: list[Target], inspectors: list[Inspector], parameters: DrawParameters, seed: bytes
) -> _Outcome:
    """Steps 3-5 of the construction over pools already in canonical order."""
    words = hash_stream_words(seed)
    picked: list[Target] = []
    for sub_pool, count in _strata(targets, parameters):
        picked += _sample(sub_pool, count, words)
    assignments: list[Assignment] = []
    recusals: list[Recusal] = []
    for target in picked:
        assignment, recused = _staff(target, inspectors, parameters, words)
        assignments.append(assignment)
        recusals += recused
    return _Outcome(tuple(t.target_id for t in picked), tuple(assignments), tuple(recusals))


def _check_team_size(inspector_pool: Sequence[Inspector], parameters: DrawParameters) -> None:
    if parameters.inspectors_per_target > len(inspector_pool):
        raise ValueError(
            f"inspectors_per_target is {parameters.inspectors_per_target} but the inspector pool "
            f"holds only {len(inspector_pool)}"
        )


def draw_inspections(
    target_pool: Sequence[Target],
    inspector_pool: Sequence[Inspector],
    parameters: DrawParameters,
    seed_source: SeedSource,
) -> DrawRecord:
    """Draw targets and their inspection teams from a published seed source.

    Parameters
    ----------
    target_pool, inspector_pool : sequence
        The pools, in any order (their canonical order is by id).
    parameters : DrawParameters
        How many targets, team size, recusal and agency rules, draw date.
    seed_source : SeedSource
        The public value, fixed before the draw, that the randomness comes from.

    Returns
    -------
    DrawRecord
        Picks in draw order, one assignment per pick (a pick that cannot be staffed under the
        recusal rules says why and gets no team; the rules are never relaxed) and every recusal.

    Raises
    ------
    ValueError
        Duplicate ids in a pool, more targets asked for than the pool (or a region) holds, a team
        larger than the inspector pool.
    """
    targets = _unique_sorted(target_pool, "target_id", "the target pool")
    inspectors = _unique_sorted(inspector_pool, "inspector_id", "the inspector pool")
    _check_team_size(inspectors, parameters)
    targets_hash = target_pool_sha256(targets)
    inspectors_hash = inspector_pool_sha256(inspectors)
    seed = derive_seed(seed_source, targets_hash, inspectors_hash, parameters)
    outcome = _run(targets, inspectors, parameters, seed)
    return DrawRecord(
        parameters=parameters,
        seed_source=seed_source,
        target_pool_sha256=targets_hash,
        inspector_pool_sha256=inspectors_hash,
        target_pool_size=len(targets),
        inspector_pool_size=len(inspectors),
        seed_sha256=seed.hex(),
        picks=outcome.picks,
        assignments=outcome.assignments,
        recusals=outcome.recusals,
    )


# ── verification ─────────────────────────────────────────────────────────────────────────────


class DrawProblemKind(StrEnum):
    """What :func:`verify_draw` found wrong."""

    UNKNOWN_SCHEME = "unknown_scheme"
    TARGET_POOL_CHANGED = "target_pool_changed"
    """The target pool given does not hash to the recorded hash (changed after the draw)."""
    INSPECTOR_POOL_CHANGED = "inspector_pool_changed"
    """The inspector pool given does not hash to the recorded hash (changed after the draw)."""
    SEED_MISMATCH = "seed_mismatch"
    """The recorded seed does not follow from the recorded seed source, hashes and parameters:
    the seed source (or the seed, or the parameters) was altered."""
    PICK_MISMATCH = "pick_mismatch"
    """A recorded pick is not what the seed gives."""
    ASSIGNMENT_MISMATCH = "assignment_mismatch"
    """A recorded team (or unstaffed verdict) is not what the seed and the rules give."""
    RECUSAL_MISMATCH = "recusal_mismatch"
    """The recorded recusals are not those the rules give."""
    INVALID_POOL = "invalid_pool"
    """The pools given cannot be drawn from with the recorded parameters."""
    COMMITMENT_MISMATCH = "commitment_mismatch"
    """The record's pool hashes, pool sizes, parameters or seed source description are not
    those published in the commitment before the draw."""


@dataclass(frozen=True)
class DrawProblem:
    kind: DrawProblemKind
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    """Every mismatch found; the draw checks out when there is none."""

    problems: tuple[DrawProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def kinds(self) -> frozenset[DrawProblemKind]:
        return frozenset(p.kind for p in self.problems)


def _compare_sequence(
    kind: DrawProblemKind, what: str, recorded: Sequence[Any], expected: Sequence[Any]
) -> list[DrawProblem]:
    problems = []
    if len(recorded) != len(expected):
        problems.append(
            DrawProblem(kind, f"{len(recorded)} {what}s recorded; the seed gives {len(expected)}")
        )
    for position, (got, want) in enumerate(zip(recorded, expected, strict=False), start=1):
        if got != want:
            problems.append(
                DrawProblem(kind, f"{what} {position} is {got!r}; the seed gives {want!r}")
            )
    return problems


def verify_draw(
    record: DrawRecord,
    target_pool: Sequence[Target],
    inspector_pool: Sequence[Inspector],
) -> VerifyResult:
    """Recompute a draw from its record and the pools, and report every mismatch.

    Three checks together prove the outcome follows from published inputs: the pools hash to the
    recorded hashes; the recorded seed is :func:`derive_seed` of the recorded seed source, hashes
    and parameters; and the picks, teams and recusals are what that seed gives over these pools.
    Each failure is reported with its kind and a detail naming the item.
    """
    problems: list[DrawProblem] = []
    if record.scheme != SCHEME:
        problems.append(
            DrawProblem(
                DrawProblemKind.UNKNOWN_SCHEME,
                f"record uses scheme {record.scheme!r}; this version verifies {SCHEME!r}",
            )
        )
        return VerifyResult(tuple(problems))
    try:
        targets = _unique_sorted(target_pool, "target_id", "the target pool")
        inspectors = _unique_sorted(inspector_pool, "inspector_id", "the inspector pool")
    except ValueError as error:
        return VerifyResult((DrawProblem(DrawProblemKind.INVALID_POOL, str(error)),))
    for kind, name, recorded, actual, size_recorded, size_actual in (
        (DrawProblemKind.TARGET_POOL_CHANGED, "target", record.target_pool_sha256,
         target_pool_sha256(targets), record.target_pool_size, len(targets)),
        (DrawProblemKind.INSPECTOR_POOL_CHANGED, "inspector", record.inspector_pool_sha256,
         inspector_pool_sha256(inspectors), record.inspector_pool_size, len(inspectors)),
    ):  # fmt: skip
        if recorded != actual:
            problems.append(
                DrawProblem(
                    kind,
                    f"the {name} pool given hashes to {actual}, the record says {recorded} "
                    f"({size_actual} rows given, {size_recorded} recorded): it changed after "
                    "the draw",
                )
            )
    seed = derive_seed(
        record.seed_source, record.target_pool_sha256, record.inspector_pool_sha256,
        record.parameters,
    )  # fmt: skip
    if seed.hex() != record.seed_sha256:
        problems.append(
            DrawProblem(
                DrawProblemKind.SEED_MISMATCH,
                f"the recorded seed {record.seed_sha256} is not the seed of the recorded seed "
                f"source {record.seed_source.text!r} ({record.seed_source.description}), pool "
                f"hashes and parameters, which is {seed.hex()}: the seed source or the seed was "
                "altered",
            )
        )
    try:
        recorded_seed = bytes.fromhex(record.seed_sha256)
    except ValueError:
        recorded_seed = b""
    if len(recorded_seed) != len(seed):
        # Not a seed at all; SEED_MISMATCH is already reported and nothing can be re-run from it.
        return VerifyResult(tuple(problems))
    try:
        _check_team_size(inspectors, record.parameters)
        outcome = _run(targets, inspectors, record.parameters, recorded_seed)
    except ValueError as error:
        problems.append(DrawProblem(DrawProblemKind.INVALID_POOL, str(error)))
        return VerifyResult(tuple(problems))
    problems += _compare_sequence(
        DrawProblemKind.PICK_MISMATCH, "pick", record.picks, outcome.picks
    )
    problems += _compare_sequence(
        DrawProblemKind.ASSIGNMENT_MISMATCH, "assignment", record.assignments, outcome.assignments
    )
    if record.recusals != outcome.recusals:
        recorded_set, expected_set = set(record.recusals), set(outcome.recusals)
        extra = sorted((r.target_id, r.inspector_id) for r in recorded_set - expected_set)
        missing = sorted((r.target_id, r.inspector_id) for r in expected_set - recorded_set)
        problems.append(
            DrawProblem(
                DrawProblemKind.RECUSAL_MISMATCH,
                f"recusals recorded but not given by the rules: {extra}; given by the rules but "
                f"not recorded: {missing}"
                + ("" if extra or missing else "; same recusals in a different order"),
            )
        )
    return VerifyResult(tuple(problems))


# ── publication ──────────────────────────────────────────────────────────────────────────────


def public_summary(
    record: DrawRecord,
    target_pool: Sequence[Target],
    inspector_pool: Sequence[Inspector],
) -> JsonObject:
    """What may be published (一公开): the draw without the inspectors' conflict data.

    Holds the scheme, parameters, seed source, both pool hashes and the seed; the target pool
    (whose rows are public, so anyone can recompute its hash, the seed and the picks); the
    inspectors' public fields (id, name, home county, agency); and per pick its team or why it
    has none, and how many officers were recused — not who or why, which would reveal their
    relations. Refuses pools that are not the ones drawn from.
    """
    targets = _unique_sorted(target_pool, "target_id", "the target pool")
    inspectors = _unique_sorted(inspector_pool, "inspector_id", "the inspector pool")
    if target_pool_sha256(targets) != record.target_pool_sha256:
        raise ValueError("the target pool given is not the one this draw was made from")
    if inspector_pool_sha256(inspectors) != record.inspector_pool_sha256:
        raise ValueError("the inspector pool given is not the one this draw was made from")
    recused = Counter(r.target_id for r in record.recusals)
    return {
        "scheme": record.scheme,
        "parameters": record.parameters.to_json_object(),
        "seed_source": record.seed_source.to_json_object(),
        "target_pool_sha256": record.target_pool_sha256,
        "inspector_pool_sha256": record.inspector_pool_sha256,
        "seed_sha256": record.seed_sha256,
        "target_pool": [t.to_json_object() for t in targets],
        "inspectors": [i.public_json_object() for i in inspectors],
        "picks": list(record.picks),
        "assignments": [
            {**a.to_json_object(), "recused_count": recused[a.target_id]}
            for a in record.assignments
        ],
    }
