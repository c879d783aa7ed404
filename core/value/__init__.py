"""Value accounting: did the AI work pay off, and where is the waste (issue 6)."""
