"""The one error type a command raises for a mistake the user can fix."""


class UserError(Exception):
    """A mistake the user can fix (bad pin, missing file, bad config): one line, exit 2."""
