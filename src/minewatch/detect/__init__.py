"""Detectors: pure functions from input frames to findings frames, with reason codes.

Detectors never touch the database; the service layer turns their findings into leads.
"""
