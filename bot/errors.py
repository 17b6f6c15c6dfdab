"""Errors that feature logic raises for the user to read.

A `UserError` is expected (bad input, unknown id, not allowed): its message is shown to the member,
ephemerally, as it is, and nothing was changed. Anything else is a bug and gets a reference id.
"""

from __future__ import annotations


class UserError(Exception):
    """An expected problem; `str(error)` is a plain sentence telling the member what to do next."""


class NotFound(UserError):
    pass


class InvalidInput(UserError):
    pass


class NotAllowed(UserError):
    pass


class Conflict(UserError):
    """The thing already exists or already happened (a duplicate, a closed poll)."""
