"""The question engine: words → `Asked` (`parse`) → the intent's function (`intents/`,
dispatched by `engine.INTENTS`) → `Answer`, worded by `phrases`."""
