"""Packaged facts: GB/T 2260 regions, credit codes, the ledger's vocabulary, mining hardware.

Nothing here imports any other MineWatch layer.
"""
