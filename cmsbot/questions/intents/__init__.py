"""One module per kind of answer; each intent is a function of an `Asking` to an `Answer`
(the engine's `INTENTS` table says which answers which intent)."""
