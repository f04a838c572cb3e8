"""Weekly digests and change notices: what each channel asked for, posted exactly once."""
