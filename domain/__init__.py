"""The domain: what the Secretariat tracks, as aggregates and past-tense events. No I/O."""
