"""Disclosure service: masked public lists (step 6)."""
