"""Official plan limits (5-hour and 7-day windows): the snapshots table, pace, attribution,
alerts, the background refresh the status line starts, and the Claude Code settings the status
line needs. docs/limits.md describes the figures and their method."""
