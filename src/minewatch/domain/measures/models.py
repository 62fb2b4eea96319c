"""The surcharge list (clause 十三): listed accounts, their bills and what was collected.

Money is stored in fen and energy in watt-hours, as integers: exact on every backend (SQLite has
no decimal type), converted to ``Decimal`` yuan and kWh at the service boundary.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minewatch.domain.db import Base, UTCDateTime


class SurchargeAccount(Base):
    """An electricity account on the surcharge list: the whole account is surcharged from the
    day mining started."""

    __tablename__ = "surcharge_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str] = mapped_column(String(40), unique=True)
    case_no: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    mining_start_date: Mapped[date] = mapped_column(Date)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    bills: Mapped[list[SurchargeBill]] = relationship(
        back_populates="account", order_by="SurchargeBill.period_start", lazy="selectin"
    )
    payments: Mapped[list[SurchargePayment]] = relationship(
        back_populates="account", order_by="SurchargePayment.paid_date", lazy="selectin"
    )


class SurchargeBill(Base):
    """The surcharge of one billing period."""

    __tablename__ = "surcharge_bill"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("surcharge_account.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    metered_wh: Mapped[int] = mapped_column(BigInteger)
    surcharged_wh: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    detail_json: Mapped[str] = mapped_column(Text)
    """The rates applied, their days and sources (the statement line)."""
    due_date: Mapped[date] = mapped_column(Date)
    billed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[SurchargeAccount] = relationship(back_populates="bills")


class SurchargePayment(Base):
    __tablename__ = "surcharge_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("surcharge_account.id"), index=True)
    paid_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[SurchargeAccount] = relationship(back_populates="payments")
