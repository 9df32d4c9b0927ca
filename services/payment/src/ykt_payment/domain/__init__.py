"""Payment domain: batch and order states, readiness for review, errors (no I/O)."""
