"""`CommandGroup`: every failure of a `tfrs-mtl` command reaches the user as one `Error:` line.

Commands turn the errors they expect (bad data, configs, exports) into `Error: <message>`
themselves (`tfrs_mtl.cli.options.fail`). This group is the net under them:

- every message is put on one line and cut to a readable length (a bad value can be a
  30 MB line);
- an `OSError` (a full disk, a read-only folder, a path that is not what it should be) and
  TensorFlow's file errors become `Error: <path>: <reason>`;
- an error tfrs_mtl raises on purpose (`ConfigError`, `DataError`, `ExportError`, ...) that a
  command did not catch becomes `Error: <its message>`;
- anything else becomes `Error: unexpected <type>: <message>`, with the traceback only when
  `TFRS_MTL_TRACEBACK=1` is set (for a bug report).
"""

from __future__ import annotations

import errno
import os
import warnings
from typing import Any

import click

from tfrs_mtl._messages import one_line, os_error_text, tensorflow_error_text

TRACEBACK_VARIABLE = "TFRS_MTL_TRACEBACK"


def tensorflow_error_message(error: Exception) -> str | None:
    """The text of a TensorFlow `OpError` without its graph-function prefix and op suffix,
    or None when `error` is not one."""
    if not type(error).__module__.startswith("tensorflow.") or not hasattr(error, "message"):
        return None
    return f"TensorFlow: {tensorflow_error_text(error)}"


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """A warning as one `Warning: ...` line (not Python's two lines with the source)."""
    return f"Warning: {one_line(str(message))}\n"


class CommandGroup(click.Group):
    """A `click.Group` whose commands fail with one `Error:` line, never a traceback, and
    warn with one `Warning:` line."""

    def invoke(self, ctx: click.Context) -> Any:
        formatter = warnings.formatwarning
        warnings.formatwarning = _format_warning
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            # Shortened in place (click types `message` as final): a usage error keeps its
            # usage line and exit status 2.
            object.__setattr__(error, "message", one_line(error.message))
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except OSError as error:
            if error.errno == errno.EPIPE:  # the reader of our output went away
                raise
            raise click.ClickException(one_line(os_error_text(error))) from None
        except Exception as error:
            if os.environ.get(TRACEBACK_VARIABLE):
                raise
            message = tensorflow_error_message(error)
            if type(error).__module__.startswith("tfrs_mtl."):
                message = str(error)  # raised on purpose: its message says what to fix
            if isinstance(error, ValueError) and str(error) == "embedded null byte":
                message = "a path given holds a NUL character, which no path can hold"
            if message is None:
                message = (
                    f"unexpected {type(error).__name__}: {error} (set {TRACEBACK_VARIABLE}=1 "
                    "to see where; please report it)"
                )
            raise click.ClickException(one_line(message)) from None
        finally:
            warnings.formatwarning = formatter
