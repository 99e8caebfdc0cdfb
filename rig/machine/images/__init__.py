"""Guest artifacts: Xen, dom0 kernels and busybox from real Debian packages, cached by hash.

This package's face; its parts, by what they are:

- recipes.py: the recipe table (images/recipes.toml), artifact keys
- debs.py: ``fetch``: a recipe's package from Debian, the file kept from the .deb
- user.py: a key or a path to the user's own build: ``check`` before a boot, ``resolve``
- store.py: the content-addressed cache (objects, manifest, lock), Record and Artifact
- maintenance.py: ``verify`` and ``gc`` (rig images verify | gc)
- apt.py (the private apt root), vmlinux.py (a bzImage's header and the ELF inside),
  initramfs.py, grub.py (the GRUB ISO), seabios.py (rig's test firmware)
"""

from __future__ import annotations

from rig.machine.images.debs import fetch
from rig.machine.images.maintenance import gc, verify
from rig.machine.images.recipes import ARTIFACT_KINDS, Recipe, named, recipe, recipes
from rig.machine.images.store import Artifact, Record, Store
from rig.machine.images.user import check, is_path, resolve, user_artifact

__all__ = ["ARTIFACT_KINDS", "Artifact", "Recipe", "Record", "Store", "check", "fetch", "gc",
           "is_path", "named", "recipe", "recipes", "resolve", "user_artifact", "verify"]
