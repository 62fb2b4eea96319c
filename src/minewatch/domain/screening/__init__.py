"""Screening parties against the mining watch list (notice 1283 clauses 十, 十四, 十六)."""
