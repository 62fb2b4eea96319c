"""IP address allocations: which enterprise used which block of addresses, where, and when."""
