"""Weekly bulletins (周报/通报) of the crackdown, per region, for notice 1283 clause （二十）.

Clause （二十） asks each region for a work ledger, progress tracking, a notification mechanism
(信息通报机制) and assessment by third parties. A bulletin is the notification: the figures of one
ISO week (Asia/Shanghai) and cumulative to its end, for a region and each of its child regions,
every one of them read back from the database — case transitions from the audit chain, measures,
leads and public reports from their tables, the ledger from :mod:`minewatch.domain.ledger.weekly`
— so a past week's bulletin is reproduced exactly, and an assessor given the per-case export
(:mod:`minewatch.domain.bulletins.assessment`) can recompute every count.

Modules: :mod:`.figures` (the figures and their definitions), :mod:`.xlsx` and :mod:`.pdf` (the
writers), :mod:`.assessment` (the per-case export for third-party assessment).
"""
