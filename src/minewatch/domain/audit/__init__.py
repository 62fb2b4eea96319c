"""The audit chain: every change as an append-only, hash-linked event."""
