"""MineWatch: find, ledger and clear crypto-mining under NDRC notice 发改运行〔2021〕1283号."""

__version__ = "0.1.0"
