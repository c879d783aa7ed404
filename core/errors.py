"""The base of every error that is a one-line, user-facing problem with something the user
controls (the ledger file, config, price overrides, ledger entries, rate tables): the CLI prints
it as is, with no traceback."""


class TokenRoiError(Exception):
    code = 1   # the exit status when a command stops on it

