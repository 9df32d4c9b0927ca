"""Gateway: the one operator-facing API (auth, roles, OpenAPI)."""
