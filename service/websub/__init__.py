"""The WebSub hub (W3C WebSub): subscriptions to our feeds, verified intent, leases."""
