"""Jobs: the queue kept in the videos table (state changes, reads, ETAs, the worker registry),
the worker, the janitor, and production, the one path from an accepted request to files."""
