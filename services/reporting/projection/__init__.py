"""The projection: stored events applied to the read tables (rounds, visits, sheets, problems,
results), the same code path for an event arriving and for a replay of the whole store."""
