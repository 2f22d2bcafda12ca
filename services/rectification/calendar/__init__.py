"""The milestone calendar feed (iCalendar) and its secret tokens."""
