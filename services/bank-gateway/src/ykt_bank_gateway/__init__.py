"""Bank-gateway service: the only place that speaks bank protocols (steps 4-5)."""
