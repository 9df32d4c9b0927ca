"""Bank simulator: a separate process that behaves like an agent bank."""
