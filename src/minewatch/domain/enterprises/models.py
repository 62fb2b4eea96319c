"""The enterprise table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.types import coded
from minewatch.reference.ledger import EnterpriseKind


class Enterprise(Base):
    """A legal entity identified by its unified social credit code (统一社会信用代码)."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    state_owned: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[EnterpriseKind] = mapped_column(coded(EnterpriseKind, "enterprise_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
