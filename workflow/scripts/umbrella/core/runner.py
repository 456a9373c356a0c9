"""Running a pipeline step from a Snakemake ``script:`` job: the log, and readable input errors."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any

from umbrella.core.errors import InputError


def run(snakemake: Any, main: Callable[[Any], None]) -> None:
    """Call ``main(snakemake)`` with stderr sent to the job's log.

    An :class:`InputError` is written to the log and to the terminal as one block, and the job exits with
    status 1 (Snakemake then removes the job's outputs, so nothing partial is left). Other errors keep their
    traceback in the log.
    """
    terminal = sys.stderr
    with open(snakemake.log[0], "w", encoding="utf-8") as log:
        sys.stderr = log
        try:
            main(snakemake)
        except InputError as exc:
            message = exc.format() + "\n"
            log.write(message)
            terminal.write("\n" + message + "\n")
            sys.exit(1)
        except Exception:
            traceback.print_exc(file=log)
            terminal.write(f"\nUnexpected error; the traceback is in {snakemake.log[0]}\n")
            raise
        finally:
            sys.stderr = terminal
