"""The send engine: calendar, limits, planner, sender and reconciliation."""
