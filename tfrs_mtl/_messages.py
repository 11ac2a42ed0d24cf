"""Error text that stays readable whatever the input: values cut to a bounded length, one line.

A bad value is echoed so that the user can find it, but a value can be a 30 MB garbage line
or a whole file read as a header: messages show its start and its length instead.

Example:
    >>> shorten("a" * 1000, 10)
    'aaaaaaaaaa... (1,000 characters)'
"""

from __future__ import annotations

import re
from typing import Any

#: Characters of one value shown in a message.
VALUE_CHARS = 200
#: Characters of a whole one-line message.
MESSAGE_CHARS = 2000

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_TF_FUNCTION_PREFIX = re.compile(r"^\{\{function_node [^}]*\}\}\s*")
_TF_OP_SUFFIX = re.compile(r"\s*\[Op:[^\]]*\]\s*$")


def shorten(text: str, limit: int = VALUE_CHARS) -> str:
    """`text` itself when at most `limit` characters, else its start and its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def shown(value: Any, limit: int = VALUE_CHARS) -> str:
    """`repr(value)`, shortened: how a message quotes a value it found."""
    return shorten(repr(value), limit)


def one_line(message: str, limit: int = MESSAGE_CHARS) -> str:
    """`message` on one line (line breaks become '; ') and at most about `limit` characters."""
    return shorten(_LINE_BREAKS.sub("; ", message.strip()), limit)


def tensorflow_error_text(error: BaseException) -> str:
    """The text of a TensorFlow `OpError` without its graph-function prefix and op suffix
    (`{{function_node ...}} path; No space left on device [Op:SaveV2]` -> `path; No space
    left on device`); any other error as `str()`."""
    text = str(getattr(error, "message", error))
    return _TF_OP_SUFFIX.sub("", _TF_FUNCTION_PREFIX.sub("", text))


def os_error_text(error: OSError) -> str:
    """`<path>: <reason>` for an `OSError` (both paths of a failed rename), or its message
    when it names no path."""
    if error.filename is None:
        return error.strerror or str(error)
    where = str(error.filename)
    if error.filename2 is not None:
        where += f" -> {error.filename2}"
    return f"{where}: {error.strerror or error}"
