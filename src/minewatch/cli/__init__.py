"""The command line: parse, call domain services, render. No logic of its own."""
