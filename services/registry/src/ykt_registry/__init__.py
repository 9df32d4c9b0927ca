"""Registry service: beneficiaries, one-card accounts, programs, batch intake (step 1)."""
