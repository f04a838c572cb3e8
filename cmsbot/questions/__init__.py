"""The question engine: parsing, entity resolution and answers."""
