"""The domain layer: database models, services, the audit chain, the ledger.

Detectors never reach this layer; the CLI and the web app call its service functions.
"""
