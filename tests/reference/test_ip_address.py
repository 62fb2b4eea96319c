"""Address ranges as ISPs write them, and the 16-byte keys both families share."""

from __future__ import annotations

import ipaddress

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minewatch.reference.ip_address import address_key, address_keys, key_text, parse_range

networks = st.one_of(
    st.builds(
        lambda value, prefix: ipaddress.ip_network(
            (value >> (32 - prefix) << (32 - prefix), prefix)
        ),
        st.integers(0, 2**32 - 1),
        st.integers(0, 32),
    ),
    st.builds(
        lambda value, prefix: ipaddress.ip_network(
            (value >> (128 - prefix) << (128 - prefix), prefix)
        ),
        st.integers(0, 2**128 - 1),
        st.integers(0, 128),
    ),
)


@given(networks)
def test_cidr_and_first_last_spellings_agree(network: ipaddress.IPv4Network) -> None:
    block = parse_range(str(network))
    assert (block.first, block.last) == (network.network_address, network.broadcast_address)
    assert parse_range(f"{block.first} - {block.last}") == block
    assert parse_range(f"{block.first}～{block.last}") == block
    assert str(block) == str(network)
    assert block.size == network.num_addresses


@given(st.lists(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)), min_size=2, max_size=30))
def test_keys_sort_like_numbers_within_a_family(
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> None:
    keys, ok = address_keys([str(a) for a in addresses])
    assert ok.all()
    for address, key in zip(addresses, keys.tolist(), strict=True):
        assert key_text(key) == str(address) or address.version == 6
    v4 = [i for i, a in enumerate(addresses) if a.version == 4]
    order = sorted(v4, key=lambda i: int(addresses[i]))
    assert [int(addresses[i]) for i in order] == [
        int(addresses[i]) for i in sorted(v4, key=lambda i: keys[i])
    ]
    assert np.array_equal(np.sort(keys), keys[np.argsort(keys, kind="stable")])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10.0.0.1/24", "did you mean 10.0.0.0/24"),
        ("10.0.0.9-10.0.0.1", r"ends \(10.0.0.1\) before it starts"),
        ("10.0.0.1-::1", "mixes IPv4 and IPv6"),
        ("10.0.0.0/33", "not a CIDR block"),
        ("10.0.0", "not an IPv4 or IPv6 address"),
        ("", "is empty"),
    ],
)
def test_bad_ranges_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_range(text)


def test_full_width_and_single_addresses() -> None:
    assert str(parse_range("６１.１３９.８.１６／２９")) == "61.139.8.16/29"
    assert parse_range("240e::1").size == 1
    assert address_key("1.2.3.4") == bytes(10) + b"\xff\xff\x01\x02\x03\x04"
    _, ok = address_keys(["1.2.3.4", "", None, "nonsense"])
    assert ok.tolist() == [True, False, False, False]
