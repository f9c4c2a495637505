"""Anniversary calendar: key dates (solar and Vietnamese lunar), occurrences, reminders, iCalendar."""
