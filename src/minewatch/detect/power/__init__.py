"""Hash rate ↔ power (notice 1283 clauses 三, 四: every project's hash rate and power).

* :mod:`~minewatch.detect.power.site` — a site's power from its machines or its hash rate, and
  its hash rate from its power, each with lower, best and upper bounds;
* :mod:`~minewatch.detect.power.cbeci` — the whole bitcoin network's power by the Cambridge
  (CBECI) method;
* :mod:`~minewatch.detect.power.metered` — metered energy per grid account from load curves;
* :mod:`~minewatch.detect.power.declarations` — ledger projects whose declared hash rate or
  power falls short of what their meter or their machines imply.
"""
