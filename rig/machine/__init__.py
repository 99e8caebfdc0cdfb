"""The machine: QEMU and its console, rendered files, Debian's artifacts and kernel builds,
recorded boot times."""
