"""Running a pipeline step from a Snakemake ``script:`` job: the log, readable input errors, and one sentence for
a fault of the machine (full disk, unwritable folder, out of memory)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any

from umbrella.core.errors import InputError
from umbrella.core.faults import describe_fault


def run(snakemake: Any, main: Callable[[Any], None]) -> None:
    """Call ``main(snakemake)`` with stderr sent to the job's log.

    An :class:`InputError` is written to the log and to the terminal as one block, and the job exits with
    status 1 (Snakemake then removes the job's outputs, so nothing partial is left). A fault of the machine (a
    full disk, a folder that cannot be written, no memory left: :func:`~umbrella.core.faults.describe_fault`)
    ends the same way, with one sentence naming the cause and the path. Other errors keep their traceback in
    the log.
    """
    terminal = sys.stderr
    try:
        _run(snakemake, main, terminal)
    except OSError as exc:  # the log itself could not be opened or flushed
        message = describe_fault(exc, snakemake.log[0])
        if message is None:
            raise
        terminal.write("\n" + message + "\n\n")
        sys.exit(1)


def _run(snakemake: Any, main: Callable[[Any], None], terminal: Any) -> None:
    with open(snakemake.log[0], "w", encoding="utf-8") as log:
        sys.stderr = log
        try:
            main(snakemake)
        except InputError as exc:
            message = exc.format() + "\n"
            log.write(message)
            terminal.write("\n" + message + "\n")
            sys.exit(1)
        except (OSError, MemoryError) as exc:
            message = describe_fault(exc, _first_output(snakemake))
            if message is None:
                traceback.print_exc(file=log)
                terminal.write(f"\nUnexpected error; the traceback is in {snakemake.log[0]}\n")
                raise
            _try_write(log, message + "\n")
            terminal.write("\n" + message + "\n\n")
            sys.exit(1)
        except Exception:
            traceback.print_exc(file=log)
            terminal.write(f"\nUnexpected error; the traceback is in {snakemake.log[0]}\n")
            raise
        finally:
            sys.stderr = terminal


def _first_output(snakemake: Any) -> str | None:
    try:
        return str(snakemake.output[0])
    except (AttributeError, IndexError, TypeError):
        return None


def _try_write(log: Any, text: str) -> None:
    """Write to the log unless the disk refuses that too (the terminal still gets the message)."""
    try:
        log.write(text)
        log.flush()
    except OSError:
        pass
