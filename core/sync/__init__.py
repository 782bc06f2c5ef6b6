"""Syncing: the composition root, runs, the vendor session, the customer and subscription imports, locks, the daemon."""
