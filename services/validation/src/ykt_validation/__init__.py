"""Validation service: rules, duplicate-enjoyment ledger, verdicts (step 2)."""
