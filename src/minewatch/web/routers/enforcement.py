"""Enforcement: the measures of the region's cases, the differential-surcharge list, screening
against the watch list, and credit commitments and records (notice 1283 clauses 九-十七).

One router gathering the four screens of :mod:`minewatch.web.enforcement`, each a page set and
its JSON API under ``/api/v1``.
"""

from __future__ import annotations

from fastapi import APIRouter

from minewatch.web.deps import TextRoute
from minewatch.web.enforcement import credit, measures, screening, surcharge

router = APIRouter(route_class=TextRoute)
for part in (measures, surcharge, screening, credit):
    router.include_router(part.router)
