"""Read models as SQL tables, kept current from the event log."""
