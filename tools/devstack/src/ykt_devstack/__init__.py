"""Developer stack: starts broker, databases and services; drives the demo cycle."""
