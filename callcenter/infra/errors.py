"""Start-up problems that the operator fixes: reported as one line, never a traceback."""


class StartupError(Exception):
    """A dependency is missing or misconfigured; the message says which and how to fix it."""
