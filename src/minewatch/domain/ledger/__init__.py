"""The mining-project ledger (项目台账): projects, weekly snapshots, rollups, Excel exchange."""
