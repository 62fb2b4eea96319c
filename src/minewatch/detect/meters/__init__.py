"""Find mining in smart-meter load curves (notice 1283 clause 五), date it and size it."""
