"""Cases: leads fused into sites, carried from assignment to cleared (notice 1283 十二-十七)."""
