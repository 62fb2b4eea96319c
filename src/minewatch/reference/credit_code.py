"""Unified social credit codes (统一社会信用代码, GB 32100-2015): normalise, validate, check.

A code has 18 characters from a 31-character alphabet (digits and capitals without I, O, S, V,
Z): registration authority, kind of entity, the GB/T 2260 region of registration (positions
3-8), the organisation code (9-17) and a check character (18) computed modulo 31.
"""

from __future__ import annotations

import re
import unicodedata

from minewatch.errors import MineWatchError
from minewatch.reference import regions

__all__ = [
    "ALPHABET",
    "NATIONAL_REGION",
    "InvalidCreditCodeError",
    "check_character",
    "is_valid",
    "region_code_of",
    "validate",
    "with_check_character",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The characters a credit code may use; a character's value is its index here."""

NATIONAL_REGION = "100000"
"""Region part of codes issued by national authorities."""

LENGTH = 18
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
_AUTHORITIES = "123456789ABCDEFGNY"
_KINDS = ALPHABET[1:]
_SPACES = re.compile(r"\s+")


class InvalidCreditCodeError(MineWatchError):
    """A string that is not a valid unified social credit code; ``reason`` says why."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code!r} is not a valid unified social credit code: {reason}")


def _normalise(code: str) -> str:
    """NFKC (full-width → half-width), without whitespace, upper-case."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", code)).upper()


def _first_foreign(text: str) -> tuple[int, str] | None:
    """1-based position and character of the first character outside the alphabet."""
    for position, char in enumerate(text, start=1):
        if char not in _VALUES:
            return position, char
    return None


def _check(body: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(body, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def check_character(body17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code."""
    body = _normalise(body17)
    if len(body) != LENGTH - 1:
        raise InvalidCreditCodeError(body17, f"has {len(body)} characters; the body has 17")
    foreign = _first_foreign(body)
    if foreign is not None:
        raise InvalidCreditCodeError(body17, _foreign_reason(*foreign))
    return _check(body)


def with_check_character(body17: str) -> str:
    """The normalised 17-character body followed by its check character."""
    return _normalise(body17) + check_character(body17)


def organisation_check_character(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body (positions 9-16 of a
    credit code are the organisation code body, position 17 its check character)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body8, weights, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def _foreign_reason(position: int, char: str) -> str:
    return (
        f"position {position} is {char!r}, which credit codes never use "
        "(only digits and capitals other than I, O, S, V, Z)"
    )


def validate(code: str) -> str:
    """The normalised code (half-width, no spaces, upper-case) if valid.

    Raises :class:`InvalidCreditCodeError` naming the first problem: length, a forbidden
    character, registration authority, kind, region code, or the check character (with the one
    it should be).
    """
    normal = _normalise(code)
    if len(normal) != LENGTH:
        raise InvalidCreditCodeError(code, f"has {len(normal)} characters; a credit code has 18")
    foreign = _first_foreign(normal)
    if foreign is not None:
        raise InvalidCreditCodeError(code, _foreign_reason(*foreign))
    if normal[0] not in _AUTHORITIES:
        raise InvalidCreditCodeError(
            code,
            f"position 1 (registration authority) is {normal[0]!r}; expected 1-9, A-G, N or Y",
        )
    if normal[1] not in _KINDS:
        raise InvalidCreditCodeError(
            code, f"position 2 (kind of entity) is {normal[1]!r}; expected 1-9 or a letter"
        )
    region = normal[2:8]
    if not region.isdigit():
        raise InvalidCreditCodeError(
            code, f"positions 3-8 ({region}) are not a 6-digit region code"
        )
    if region != NATIONAL_REGION and not regions.is_valid_code(region, include_retired=True):
        raise InvalidCreditCodeError(
            code, f"positions 3-8 ({region}) are not a GB/T 2260 region code"
        )
    expected = _check(normal[:-1])
    if normal[-1] != expected:
        raise InvalidCreditCodeError(
            code, f"check character (position 18) is {normal[-1]!r}; it should be {expected!r}"
        )
    return normal


def is_valid(code: str) -> bool:
    """True when :func:`validate` accepts the code."""
    try:
        validate(code)
    except InvalidCreditCodeError:
        return False
    return True


def region_code_of(code: str) -> str:
    """The region code of registration: characters 3-8 of the normalised code."""
    normal = _normalise(code)
    if len(normal) != LENGTH:
        raise InvalidCreditCodeError(code, f"has {len(normal)} characters; a credit code has 18")
    return normal[2:8]
