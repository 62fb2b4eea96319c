"""Inspections: the double-random spot checks (双随机、一公开) of notice 1283, clause （十）."""
