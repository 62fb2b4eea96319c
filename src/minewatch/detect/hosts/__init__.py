"""Mining on the servers of a state-owned unit, seen from the host itself: rules as data over
the report of the host probe (issue: server-room self-inspection)."""
