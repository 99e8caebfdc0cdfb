"""rig's command line: argparse (rig.cli.parser), then one call into the command's module.

Exit codes (rig.errors): 0 pass, 1 fail / crash / incomplete, 2 usage error, 125 infrastructure
error (``git bisect run`` skips the commit).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from rig.cli.parser import parser
from rig.errors import Interrupted, RigError

__all__ = ["main", "parser"]


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # turn SIGTERM into an exception so that every finally (QEMU kill, log write) runs
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_signal)
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RigError as exc:
        print(f"rig: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception:
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
