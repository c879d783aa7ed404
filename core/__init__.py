"""token-roi: a local-first ledger of AI coding agent work.

Pipeline, one folder a stage: adapters/ (each agent's files -> UsageRow) -> store/ (the SQLite
ledger) -> pricing/ -> reports/ and the accounting modules -> cli/, hooks, dashboard.

Importing this package must stay cheap and standard-library only: the Claude Code hooks load it
straight from the plugin folder before anything is pip-installed.
"""

__version__ = "0.1.0"
