"""Every table, imported in one place so the metadata is complete (Alembic, tests)."""

from minewatch.domain.accounts.models import User
from minewatch.domain.allocations.models import IpAllocation
from minewatch.domain.apikeys.models import ApiKey
from minewatch.domain.assets.models import AssetAddress, AssetMac, ServerAsset
from minewatch.domain.audit.models import AuditEvent, AuditHead
from minewatch.domain.cases.models import Case, CaseLead, Measure, SiteCheck
from minewatch.domain.credit.models import Commitment, CreditRecord
from minewatch.domain.db import Base
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.inspections.models import InspectionDraw, InspectionResult, InspectionRound
from minewatch.domain.leads.models import Lead
from minewatch.domain.ledger.models import Project, ProjectMachine
from minewatch.domain.measures.models import SurchargeAccount, SurchargeBill, SurchargePayment
from minewatch.domain.reports.models import PublicReport
from minewatch.domain.selfcheck.models import HostAction, HostCheck, UnitKey

__all__ = [
    "ApiKey",
    "AssetAddress",
    "AssetMac",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "CaseLead",
    "Commitment",
    "CreditRecord",
    "Enterprise",
    "HostAction",
    "HostCheck",
    "InspectionDraw",
    "InspectionResult",
    "InspectionRound",
    "IpAllocation",
    "Lead",
    "Measure",
    "Project",
    "ProjectMachine",
    "PublicReport",
    "ServerAsset",
    "SiteCheck",
    "SurchargeAccount",
    "SurchargeBill",
    "SurchargePayment",
    "UnitKey",
    "User",
]
