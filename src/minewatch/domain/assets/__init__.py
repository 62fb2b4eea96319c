"""State-owned units' server inventories (资产台账) for the self-inspection."""
