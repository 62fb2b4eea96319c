"""Leads: what a detector or a report says deserves a look, before anyone has looked."""
