"""Announcement kinds and the finished message: between the domains that announce and the
channels that carry (decision 0032). Domains register kinds here; deliveries and channels
know only this package's interface."""
