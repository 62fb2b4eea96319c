"""Credit supervision of data-centre enterprises (notice 1283, clause （九）).

Data-centre enterprises sign a credit commitment (信用承诺书) not to take part in mining
(:class:`~minewatch.domain.credit.models.Commitment`). When a case confirms mining by an
enterprise whose commitment was in force when the mining began, the broken commitment becomes a
credit record (失信/违诺记录, :class:`~minewatch.domain.credit.models.CreditRecord`) with the
facts of the case, the measure 不履行承诺 and the restriction; records are exported in the
layout of the credit-information sharing platform (:mod:`minewatch.domain.credit.export`).
Every change to a commitment or a record goes through the audit chain.
"""
