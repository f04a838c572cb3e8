"""`cmsbot report`: a document's report (in the outline its history file declared) or an
overview of every item, as at a date, from the log."""
