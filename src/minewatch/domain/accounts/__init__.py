"""User accounts: a role bound to a region, a password hash, throttled logins."""
