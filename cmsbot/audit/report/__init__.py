"""`cmsbot report`: the Secretariat's "Synergies and Partnerships" overview, from the log."""
