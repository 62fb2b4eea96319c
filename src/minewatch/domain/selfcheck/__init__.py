"""The server-room self-inspection of state-owned units (机房自查): unit keys, probe reports,
actions taken, and the clearance report that says whether a unit is at "dynamic zero"."""
