"""The one exception for bad input: its message is the one line the user sees (exit 2), never a traceback."""


class InputError(Exception):
    """The input cannot be used; the message says why, in one line."""
