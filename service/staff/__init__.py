"""Staff: the review workflow\x27s stages, notification addresses and what staff are told (decision 0042)."""
