"""rig's command line: argparse (rig.cli.parser), then one call into the command's module.

Exit codes (rig.errors): 0 pass, 1 fail / crash / incomplete, 2 usage error, 125 infrastructure
error (``git bisect run`` skips the commit).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType

from rig.cli.options import usage_exit
from rig.cli.parser import parser
from rig.errors import (
    INFRASTRUCTURE_EXIT,
    OS_ERRORS,
    USAGE_EXIT,
    Interrupted,
    RigError,
    os_error,
)

__all__ = ["entry", "main", "parser"]


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # turn SIGTERM into an exception so that every finally (QEMU kill, log write) runs
    raise Interrupted(signum)


#: commands whose arguments after "--" are passed on, and the attribute that gets them
TRAILING = {("kernel", "build"): "make_vars"}


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_signal)
    argv = sys.argv[1:] if argv is None else list(argv)
    passed = next((attr for cmd, attr in TRAILING.items() if tuple(argv[:len(cmd)]) == cmd
                   and "--" in argv), None)
    rest: list[str] = []
    if passed is not None:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1:]
    args = parser().parse_args(argv)
    if passed is not None:
        setattr(args, passed, rest)
    try:
        _machine_options(args)
        return int(args.func(args))
    except RigError as exc:
        print(f"rig: error: {exc}", file=sys.stderr)
        return usage_exit() if exc.exit_code == USAGE_EXIT else exc.exit_code
    except BrokenPipeError:
        # the reader of rig's output went away (rig parse ... | head): no bug of rig's and no
        # verdict; a shell reports a process a closed pipe ended as 128 + SIGPIPE
        return 128 + signal.SIGPIPE
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in OS_ERRORS:
            # a file's problem (a loop of links, a full or read-only disk): the one table in
            # rig.errors says whose, by where the file is
            err = os_error(exc, _own_folders())
            print(f"rig: error: {err}", file=sys.stderr)
            return usage_exit() if err.exit_code == USAGE_EXIT else err.exit_code
        # a bug in rig, not a verdict on the kernel: 125 so that `git bisect run` skips
        import traceback  # only here: it costs every start ~10 ms

        traceback.print_exc()
        print("rig: internal error (the traceback above is a bug in rig; logs are kept)",
              file=sys.stderr)
        return 125
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"rig: interrupted ({str(exc) or 'SIGINT'}); QEMU stopped, logs kept",
              file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)


def _machine_options(args: object) -> None:
    """-v/-q and --qemu, for this process and the cells it starts (a matrix's cells inherit
    $RIG_QEMU)."""
    from rig import progress

    progress.set_level(bool(getattr(args, "verbose", False)), bool(getattr(args, "quiet", False)))
    if getattr(args, "qemu", None):
        from rig.machine.qemu import QEMU_VARIABLE, qemu_binary

        os.environ[QEMU_VARIABLE] = qemu_binary(args.qemu)  # type: ignore[attr-defined]


def _own_folders() -> dict[str, str]:
    """rig's own folders, whose files' problems are never the user's input's."""
    from rig.machine.images.store import cache_root
    from rig.runner.run import results_base

    return {"RIG_CACHE": str(cache_root()), "RIG_RESULTS": str(results_base())}


def entry() -> None:
    """The ``rig`` command (its console script, and ``python -m rig.cli``, which matrix and
    fuzz cells run): ``main``, then the process ends without the interpreter's teardown. Taking
    down its ~250 modules cost every run 45-90 ms (measured from the last line to the
    process's end) and frees nothing the kernel does not. Safe because everything rig writes is
    closed by then (each file in a ``with``, QEMU stopped, the runner's folders removed in its
    ``finally``); standard output and error are flushed here. Tests call ``main``."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    # standard output to a pipe or a file is block-buffered: what main printed may be written
    # only now, and a failure here is the run's to report (the teardown used to report it)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # its reader went away (rig parse ... | head)
        code = code or 128 + signal.SIGPIPE
    except (OSError, ValueError) as exc:
        with contextlib.suppress(OSError, ValueError):
            print(f"rig: error: writing the output: {exc}", file=sys.stderr)
        code = code or INFRASTRUCTURE_EXIT
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
