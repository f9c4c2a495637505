"""The readers' Telegram bot: updates in (webhook or long polling), commands, replies out."""
