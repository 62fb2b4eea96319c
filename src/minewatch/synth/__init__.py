"""Synthetic, seeded data for demos, tests and benchmarks.

Nothing here is real: enterprises, people, credit codes, addresses and projects are invented from
a seed (standard-library ``random.Random`` only), so the same seed always gives the same data.
Only the reference tables (GB/T 2260 regions, the mining-hardware catalogue) are real.

* :mod:`minewatch.synth.province`: a province's mining-project ledger (项目台账) week by week
  through the 2021 crackdown (notice 发改运行〔2021〕1283号).
"""
