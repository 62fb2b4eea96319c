"""Where a detector runs: in-process here, streaming by row group; Spark later (issue 8)."""
