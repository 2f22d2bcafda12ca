"""Visit days and calendars: each team's and each inspector's visits (JSON and iCalendar)."""
