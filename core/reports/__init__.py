"""Usage reports (daily, weekly, monthly, session, blocks): the query layer in query.py, 5-hour
windows in blocks.py, ccusage-compatible JSON in shapes.py, terminal tables in table.py."""
