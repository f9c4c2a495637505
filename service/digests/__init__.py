"""Digests: daily and weekly e-mails of the articles published since a reader's last one."""
