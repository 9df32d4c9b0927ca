"""Payment service: review, funding, instructions, settlement ledger (steps 3-5)."""
