"""API keys: machine-to-machine access for grid companies and ISPs, scoped to a role and region."""
