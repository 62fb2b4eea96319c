"""The host probe handed out to state-owned units (a single standard-library file)."""
