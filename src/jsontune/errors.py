"""User errors: something a user gave (an argument, a path, a schema, a data row, a recipe) is wrong.

Every check that finds a user's mistake raises a `JsontuneError` (or a subclass of it) whose message
names the input and the reason, with file:line where there is one. The command line prints the message
as `error: ...` and exits with `EXIT_CODE`; `jsontune --debug ...` or JSONTUNE_DEBUG=1 prints the
traceback too. Any other exception is a bug and keeps its traceback.

The checks of a command run in one order, so the cheapest mistake is found first and none is found
after minutes of work: arguments, paths, schemas, data, then the model (`models.loading`).
"""

from __future__ import annotations

EXIT_CODE = 2  # what argparse and click give a usage error


class JsontuneError(ValueError):
    """A user's input is wrong; the message says which and why. (A ValueError, as these always were.)"""


class MissingFileError(JsontuneError, FileNotFoundError):
    """A file or folder the user named does not exist (or is of the wrong kind)."""
