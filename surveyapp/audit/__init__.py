"""Who did what to which data, and when: an append-only log, viewable by admins."""
