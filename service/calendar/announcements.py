"""The reminder kind (``reminder.due``), decision 0032: words written when it was planned.

A reminder's words come from its key date's templates (an admin may write them per
locale) or the default ones, rendered for every locale when the reminder is announced
(``reminders._announce``); each recipient gets its own locale's, else the Vietnamese.
"""

from __future__ import annotations

from service.announcements.compose import prepared_words
from service.announcements.kinds import Kind
from service.i18n import N_

REMINDER_DUE = "reminder.due"

KINDS = (Kind(REMINDER_DUE, prepared_words, label=N_("Nhắc ngày kỷ niệm")),)
