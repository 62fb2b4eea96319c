"""The API key table: a public key id and the SHA-256 of the secret, never the secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from minewatch.domain.cases.states import Role
from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.types import coded


class ApiKey(Base):
    """A key a system presents as ``Authorization: Bearer mw_<key_id>_<secret>``."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(coded(Role, "api_key_role"))
    region_code: Mapped[str] = mapped_column(String(6))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
