"""Typed routers, one per domain."""
