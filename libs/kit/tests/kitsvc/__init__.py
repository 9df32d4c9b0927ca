"""A tiny service used to test the kit against the real broker and database."""
