"""Readers (and the writers that mirror them): one module per source format.

Every reader checks the whole input and reports each bad cell with its file, row and column in
one :class:`minewatch.errors.InputFileError`; it never returns half a file.
"""
