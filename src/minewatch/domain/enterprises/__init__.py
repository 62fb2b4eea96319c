"""Enterprises: who owns, operates, supplies or hosts a mining project (GB 32100 credit codes)."""
