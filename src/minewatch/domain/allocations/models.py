"""The IP allocation table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from minewatch.domain.db import Base, UTCDateTime


class IpAllocation(Base):
    """One block of addresses an ISP filed as allocated to an organisation for a period.

    ``first_key``/``last_key`` are the 32-hex-digit keys of
    :func:`minewatch.reference.ip_address.address_key` (IPv4 mapped into IPv6), so blocks of
    both families sort and compare as text on every backend. ``valid_to`` is exclusive; null
    bounds are open.
    """

    __tablename__ = "ip_allocation"
    __table_args__ = (Index("ix_ip_allocation_keys", "first_key", "last_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip_range: Mapped[str] = mapped_column(String(100))
    ip_first: Mapped[str] = mapped_column(String(39))
    ip_last: Mapped[str] = mapped_column(String(39))
    first_key: Mapped[str] = mapped_column(String(32))
    last_key: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    region_code: Mapped[str | None] = mapped_column(String(6))
    isp: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(200))
    source_row: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
