"""The one exception type for mistakes in what a user gave us.

Every problem with an input file (a raw document of the wrong shape, a
changed checksum, a Word or Excel file without a table, a bad mapping
file, an unsafe scheme id) raises :class:`InputError` or a subclass of it.
It names the file, where in the file (a line, a cell, a key) and how to
fix it; the command line prints it on one or two lines and exits with
status 2, never with a traceback.  Anything else that escapes is a bug in
qcompare.

>>> err = InputError("scheme.xlsx", "sheet 考核表, cell C4", "分值 '五分' is not a number", "type the points as digits")
>>> print(err)
scheme.xlsx, sheet 考核表, cell C4: 分值 '五分' is not a number
  fix: type the points as digits
>>> isinstance(err, ValueError)
True

It survives pickling (a parse in a worker process raises it in the parent):

>>> import pickle
>>> again = pickle.loads(pickle.dumps(err))
>>> str(again) == str(err), again.location
(True, 'sheet 考核表, cell C4')
"""

from __future__ import annotations

from typing import Any

__all__ = ["InputError"]


class InputError(ValueError):
    """A user-supplied file or option cannot be used as it is.

    Attributes ``file``, ``location``, ``problem`` and ``fix`` keep the
    parts of the message for programs that want them.
    """

    def __init__(self, file: str, location: str | None, problem: str, fix: str | None = None) -> None:
        self.file, self.location, self.problem, self.fix = str(file), location, problem, fix
        where = f"{self.file}, {location}" if location else self.file
        message = f"{where}: {problem}"
        if fix:
            message += f"\n  fix: {fix}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles as cls(*args), and args holds only the message,
        # which the subclasses' __init__ signatures do not take.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[InputError], args: tuple[Any, ...], state: dict[str, Any]) -> InputError:
    """An unpickled InputError: its message and attributes, without calling ``__init__``."""
    err = cls.__new__(cls, *args)
    err.__dict__.update(state)
    return err
