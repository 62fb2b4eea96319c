"""The dashboard's figures: what stands open, found and removed in a region right now, where, and
how it moved week by week — every figure an SQL aggregate over cases, projects, public reports
and the case events of the audit chain, limited to the region in SQL (:mod:`.figures`)."""
