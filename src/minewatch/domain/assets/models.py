"""The server inventory tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from minewatch.domain.db import Base, UTCDateTime


class ServerAsset(Base):
    """One server of a unit's inventory, as last imported."""

    __tablename__ = "server_asset"
    __table_args__ = (UniqueConstraint("unit", "asset_id", name="uq_server_asset_unit_asset"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    asset_id: Mapped[str] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(200))
    room: Mapped[str | None] = mapped_column(String(200))
    rack: Mapped[str | None] = mapped_column(String(100))
    hostname: Mapped[str | None] = mapped_column(String(200))
    ips_json: Mapped[str] = mapped_column(Text)
    macs_json: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(100))
    purpose: Mapped[str | None] = mapped_column(String(300))
    cpu_count: Mapped[int | None] = mapped_column(Integer)
    gpu_count: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    source_row: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AssetAddress(Base):
    """An IP address of a server: how a finding at an internal address finds its server."""

    __tablename__ = "asset_address"
    __table_args__ = (Index("ix_asset_address_ip", "ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("server_asset.id", ondelete="CASCADE"), index=True
    )
    ip: Mapped[str] = mapped_column(String(39))


class AssetMac(Base):
    """A MAC address of a server: how a probe's report and a DHCP-traced finding find it."""

    __tablename__ = "asset_mac"
    __table_args__ = (Index("ix_asset_mac_mac", "mac"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("server_asset.id", ondelete="CASCADE"), index=True
    )
    mac: Mapped[str] = mapped_column(String(17))
