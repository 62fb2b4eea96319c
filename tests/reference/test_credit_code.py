"""Unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minewatch.reference import credit_code, regions
from minewatch.reference.credit_code import ALPHABET, InvalidCreditCodeError

KNOWN_VALID = ["91350100M000100Y43", "911101080628135175", "91110108551385082Q"]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_are_valid(code: str) -> None:
    assert credit_code.validate(code) == code
    assert credit_code.is_valid(code)
    assert credit_code.with_check_character(code[:17]) == code


def test_weights_and_check_character() -> None:
    assert credit_code.check_character("91350100M000100Y4") == "3"
    assert credit_code.check_character("91110108062813517") == "5"
    assert credit_code.region_code_of("91350100M000100Y43") == "350100"


def test_national_region_and_retired_region_are_accepted() -> None:
    assert credit_code.is_valid(credit_code.with_check_character("11100000MB0000000"))
    assert credit_code.is_valid(credit_code.with_check_character("92513321MA0000000"))


@pytest.mark.parametrize(
    "raw",
    [
        "９１３５０１００Ｍ０００１００Ｙ４３",
        " 9135 0100 m000 100y43\n",
        "９１３５０１００m０００１００y４３",
    ],
)
def test_normalisation(raw: str) -> None:
    assert credit_code.validate(raw) == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("9135010", "has 7 characters; a credit code has 18"),
        ("", "has 0 characters; a credit code has 18"),
        ("9135010OM000100Y43", "position 8 is 'O'"),
        ("91350100M000100I43", "position 16 is 'I'"),
        ("91350100M00010-Y43", "position 15 is '-'"),
        ("H1350100M000100Y43", "position 1 (registration authority) is 'H'"),
        ("90350100M000100Y43", "position 2 (kind of entity) is '0'"),
        ("9135A100M000100Y43", "positions 3-8 (35A100) are not a 6-digit region code"),
        ("91999999M000100Y43", "positions 3-8 (999999) are not a GB/T 2260 region code"),
        ("91350100M000100Y44", "check character (position 18) is '4'; it should be '3'"),
    ],
)
def test_each_error_reason(code: str, reason: str) -> None:
    with pytest.raises(InvalidCreditCodeError) as caught:
        credit_code.validate(code)
    assert caught.value.code == code
    assert caught.value.reason.startswith(reason)
    assert not credit_code.is_valid(code)


def test_check_character_rejects_bad_bodies() -> None:
    with pytest.raises(InvalidCreditCodeError):
        credit_code.check_character("9135010")
    with pytest.raises(InvalidCreditCodeError):
        credit_code.check_character("91350100M000100S4")


_REGION_CODES = sorted(r.code for r in regions.all_regions())


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from("123456789ABCDEFGNY"))
    kind = draw(st.sampled_from(ALPHABET[1:]))
    region = draw(st.sampled_from([*_REGION_CODES, "100000"]))
    organisation = draw(st.text(alphabet=ALPHABET, min_size=9, max_size=9))
    return credit_code.with_check_character(authority + kind + region + organisation)


@given(valid_codes())
def test_generated_codes_are_valid(code: str) -> None:
    assert credit_code.validate(code) == code


@given(valid_codes(), st.integers(0, 17), st.sampled_from(ALPHABET + "IOSVZ*"))
def test_every_single_substitution_is_detected(code: str, position: int, char: str) -> None:
    if code[position] == char:
        return
    changed = code[:position] + char + code[position + 1 :]
    assert not credit_code.is_valid(changed)


@given(valid_codes(), st.integers(0, 16))
def test_every_adjacent_transposition_is_detected(code: str, position: int) -> None:
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2 :]
    assert not credit_code.is_valid(swapped)


@given(st.text(max_size=40))
def test_arbitrary_text_only_raises_invalid_credit_code_error(text: str) -> None:
    try:
        normal = credit_code.validate(text)
    except InvalidCreditCodeError:
        return
    assert len(normal) == 18


@given(valid_codes())
def test_full_width_input_normalises(code: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert credit_code.validate(full_width) == code
    assert credit_code.validate(code.lower()) == code
