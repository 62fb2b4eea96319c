"""Measures notice 1283 orders on mining projects (surcharge, penalties), as pure arithmetic."""
