"""Writing a file so that a reader never sees half of it, and a failure leaves nothing behind.

Every file rig replaces whole (a result document, the store's objects, apt's configuration)
goes through ``write_atomic``: a temporary file beside it, then a rename. On a full or
read-only disk the temporary file is removed and the error names the file it was for (a
write()'s OSError names none), so rig.errors.os_error can say whose disk it is.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is None:
            exc.filename = str(path)
        raise
