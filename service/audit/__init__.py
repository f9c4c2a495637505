"""The append-only audit log (issue 22 §3, decision 0036): who changed what, from where."""
