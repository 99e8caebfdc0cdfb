"""Build a minimal dom0 kernel from a source tree: ``rig kernel build`` and ``src:PATH``.

``make tinyconfig`` plus a Kconfig fragment (images/dom0-minimal.config), out of tree (``O=``)
in rig's cache. The build folder is kept per (tree, fragment, patches), so touching one file
rebuilds in seconds; the bzImage of every tree state is kept too, so an unchanged tree is never
rebuilt. A failed build is an infrastructure error (exit 125: ``git bisect run`` skips it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rig.errors import ArtifactError, UsageError
from rig.files import write_atomic
from rig.machine import host, images
from rig.machine.images import Artifact, Record
from rig.machine.images.store import Store, sha256_file
from rig.progress import say, step
from rig.resources import data_dir

DEFAULT_FRAGMENT = "dom0-minimal.config"


def default_fragment() -> Path:
    return data_dir("images") / DEFAULT_FRAGMENT


@dataclass(frozen=True)
class Built:
    bzimage: Path
    state: str  # the tree state the image was built from
    reused: bool
    seconds: float
    log: Path | None
    #: the .config this image was built with (the model reads the kernel's options from it)
    config: Path | None = None


def tree_state(src: Path) -> str:
    """A hash of what the tree holds now: for git, HEAD plus the uncommitted diff and untracked
    files; otherwise the path, size and mtime of every file (fast enough for a kernel tree)."""
    h = hashlib.sha256()
    if (src / ".git").exists():
        def git(*args: str) -> bytes:
            return subprocess.run(["git", "-C", str(src), *args], capture_output=True,
                                  check=True).stdout
        try:
            h.update(git("rev-parse", "HEAD"))
            h.update(git("diff", "HEAD"))
            h.update(git("status", "--porcelain", "--untracked-files=all"))
            return h.hexdigest()
        except (subprocess.CalledProcessError, FileNotFoundError):
            h = hashlib.sha256()  # not a usable git tree: fall back to the file walk
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            h.update(f"{os.path.relpath(p, src)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(cmd: Sequence[str], log: Path, cwd: Path | None = None) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(list(cmd), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise ArtifactError(f"kernel build step failed (exit status {proc.returncode}); "
                            f"full log: {log}", command=list(cmd), output="\n".join(tail))


#: an option given inline to --kconfig-add, as a fragment holds it
_OPTION = re.compile(r"^CONFIG_\w+=\S*$")
#: a make variable given after ``--`` (LLVM=1, CC=clang)
_MAKE_VAR = re.compile(r"^[A-Za-z_]\w*=.*$")


def kconfig_adds(items: Sequence[str]) -> tuple[list[Path], list[str]]:
    """``--kconfig-add`` values (tuxmake's): a fragment FILE, or CONFIG_X=VALUE inline; the
    files and the inline options, in order."""
    files, options = [], []
    for item in items:
        if _OPTION.match(item):
            options.append(item)
        elif Path(item).expanduser().is_file():
            files.append(Path(item).expanduser())
        else:
            raise UsageError(f"--kconfig-add {item!r}: expected CONFIG_NAME=VALUE or a "
                             "fragment file that exists")
    return files, options


@dataclass(frozen=True)
class BuildRecipe:
    """What a kernel is built with besides its tree; each value is part of the build's
    recipe: another value is another build folder. ``fragment``: the Kconfig fragment merged
    on tinyconfig (default: rig's minimal dom0); ``extra_config``: fragments merged after it
    (a registry entry's options, e.g. CONFIG_XEN_PVH=y); ``patches``: applied to a
    hard-linked copy of the tree first; ``options``: CONFIG_X=VALUE lines merged last;
    ``make_vars``: NAME=VALUE given to every make (LLVM=1)."""

    fragment: Path | None = None
    extra_config: tuple[Path, ...] = ()
    patches: tuple[Path, ...] = ()
    options: tuple[str, ...] = ()
    make_vars: tuple[str, ...] = ()

    def fragments(self) -> list[Path]:
        """The fragment files merged on tinyconfig, in order."""
        return [(self.fragment or default_fragment()).resolve(),
                *(p.resolve() for p in self.extra_config)]

    def key(self, src: Path) -> str:
        """What makes a build, hashed: the tree's place, its fragments, patches, options and
        make variables (each checked first: a usage error names it)."""
        bad = [v for v in self.make_vars if not _MAKE_VAR.match(v)]
        if bad:
            raise UsageError(f"make variable {bad[0]!r}: expected NAME=VALUE (e.g. LLVM=1)")
        fragments = self.fragments()
        for p in (*fragments, *self.patches):
            if not p.is_file():
                raise UsageError(f"{p}: no such file")
        recipe = hashlib.sha256(str(src).encode())
        for f in (*fragments, *self.patches):
            recipe.update(f.read_bytes())
        for line in (*self.options, *self.make_vars):  # absent: the recipes of before
            recipe.update(f"\0{line}".encode())
        return recipe.hexdigest()


def build(src: Path, recipe: BuildRecipe | None = None, *, jobs: int | None = None,
          store: Store | None = None) -> Built:
    """``src`` built as ``recipe`` says (default: rig's minimal dom0, as the tree is). ccache,
    when installed, compiles unless the recipe's make variables name the compiler."""
    recipe = recipe or BuildRecipe()
    src = src.expanduser().resolve()
    if not (src / "Makefile").is_file() or not (src / "arch" / "x86").is_dir():
        raise UsageError(f"{src}: not a Linux source tree (no Makefile and arch/x86)")
    key = recipe.key(src)
    fragments = recipe.fragments()
    patches, options, make_vars = recipe.patches, recipe.options, recipe.make_vars
    store = store or Store()
    work = store.root / "builds" / key[:16]
    make = ["make", *_compiler(make_vars), *make_vars]
    if options:
        work.mkdir(parents=True, exist_ok=True)
        inline = work / "kconfig-add.config"
        inline.write_text("".join(f"{o}\n" for o in options))
        fragments.append(inline)
    t0 = time.monotonic()
    with _locked(work):
        state = hashlib.sha256((tree_state(src) + key).encode()).hexdigest()
        image = work / "images" / f"{state[:16]}.bzImage"
        kept_config = image.with_suffix(".config")
        if image.is_file():
            return Built(image, state, True, round(time.monotonic() - t0, 3), None,
                         kept_config if kept_config.is_file() else None)
        host.require(host.BUILD_TOOLS, "building a kernel from source")
        log = work / f"build-{time.strftime('%Y%m%d-%H%M%S')}.log"
        tree = src
        if patches:
            tree = _patched_tree(src, patches, work, log)
        out = work / "out"
        config = out / ".config"
        if not config.exists():
            say(f"configuring {tree} (tinyconfig + {' + '.join(f.name for f in fragments)})")
            out.mkdir(parents=True, exist_ok=True)
            _run([*make, "-C", str(tree), f"O={out}", "tinyconfig"], log)
            _run([str(tree / "scripts/kconfig/merge_config.sh"), "-m", "-O", str(out),
                  str(config), *map(str, fragments)], log, cwd=tree)
            _run([*make, "-C", str(tree), f"O={out}", "olddefconfig"], log)
            for f in fragments:
                _check_config(config, f, log)
        with step(f"building bzImage of {tree} (log: {log})"):
            _run([*make, "-C", str(tree), f"O={out}", f"-j{jobs or os.cpu_count() or 1}",
                  "bzImage"], log)
        image.parent.mkdir(exist_ok=True)
        write_atomic(image, (out / "arch/x86/boot/bzImage").read_bytes())
        shutil.copyfile(config, kept_config)
        seconds = round(time.monotonic() - t0, 3)
        # what built it, beside it (tuxmake's metadata.json, in short)
        write_atomic(image.with_suffix(".json"), (json.dumps({
            "source": str(src), "state": state, "patches": list(map(str, patches)),
            "fragments": [str(f) for f in fragments], "options": list(options),
            "make": make, "seconds": seconds, "log": str(log)}, indent=2) + "\n").encode())
        return Built(image, state, False, seconds, log, kept_config)


def _compiler(make_vars: Sequence[str]) -> list[str]:
    """``CC=ccache gcc`` when ccache is installed and the user named no compiler: a rebuild
    of another tree state compiles what did not change from the cache."""
    named = any(v.split("=", 1)[0] in ("CC", "LLVM", "HOSTCC") for v in make_vars)
    return [] if named or shutil.which("ccache") is None else ["CC=ccache gcc"]


def _patched_tree(src: Path, patches: Sequence[Path], work: Path, log: Path) -> Path:
    """A hard-linked copy of ``src`` with the patches applied (patch writes new files, so the
    original tree is never touched). Made anew when the source changed."""
    tree = work / "src"
    stamp = work / "src.state"
    want = tree_state(src)
    if tree.is_dir() and stamp.exists() and stamp.read_text() == want:
        return tree
    if tree.exists():
        shutil.rmtree(tree)
    _run(["cp", "-al", str(src), str(tree)], log)
    for p in patches:
        _run(["patch", "-p1", "--forward", "--batch", "-d", str(tree), "-i", str(p.resolve())],
             log)
    stamp.write_text(want)
    return tree


def _check_config(config: Path, fragment: Path, log: Path) -> None:
    """Kconfig silently drops options whose dependencies are unmet: say which."""
    have = config.read_text()
    lost = [line for line in fragment.read_text().splitlines()
            if line.startswith("CONFIG_") and line.strip() not in have.splitlines()]
    if lost:
        raise ArtifactError(f"the kernel config lacks {', '.join(lost[:6])} after merging "
                            f"{fragment.name} (unmet dependencies?); full log: {log}")


def debian_source(name: str, store: Store | None = None, offline: bool = False) -> Path:
    """Unpack Debian's linux-source-NAME (fetched like any artifact) into the cache, once."""
    store = store or Store()
    art = images.fetch("source", name, store=store, offline=offline)
    dest = store.root / "sources" / art.record.sha256[:16]
    with _locked(dest):
        tops = [p for p in dest.iterdir() if p.is_dir() and (p / "Makefile").is_file()]
        if tops:
            return tops[0]
        say(f"unpacking {art.record.package} {art.record.version}")
        tmp = dest / "unpacking"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        proc = subprocess.run(["tar", "-xJf", str(art.path), "-C", str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ArtifactError("unpacking the kernel source failed",
                                command=["tar", "-xJf", str(art.path)], output=proc.stderr)
        (top,) = list(tmp.iterdir())
        final = dest / top.name
        top.rename(final)
        tmp.rmdir()
        return final


def source_ref(value: str) -> tuple[Path, str | None]:
    """``src:TREE`` or ``src:TREE@REF``: the tree, and the commit asked for (None: the tree as
    it is). A folder whose own name holds '@' is taken whole."""
    text = value[4:]
    tree, sep, ref = text.rpartition("@")
    if sep and ref and Path(tree).expanduser().is_dir() and not Path(text).is_dir():
        return Path(tree).expanduser(), ref
    return Path(text).expanduser(), None


def worktree(tree: Path, store: Store | None = None) -> tuple[Path, Path]:
    """(the tree's top, the worktree rig keeps for it in its cache): one path per tree, so the
    kernel build folder of every commit built there is one, and a commit near the last
    rebuilds only what changed (rig bisect and ``src:TREE@REF`` share it)."""
    store = store or Store()
    top = Path(_git(tree, "rev-parse", "--show-toplevel").strip())
    return top, store.root / "worktrees" / hashlib.sha256(str(top).encode()).hexdigest()[:16]


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} in {repo}: {proc.stderr.strip()}")
    return proc.stdout


def build_at(tree: Path, ref: str, store: Store | None = None) -> Built:
    """``src:TREE@REF``: that commit built in rig's worktree of the tree (its checkout moved
    to the commit, the user's checkout untouched)."""
    commit = _git(tree, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    top, wt = worktree(tree, store)
    with _locked(wt.parent / f"{wt.name}.lock.d"):
        if (wt / ".git").exists():
            _git(wt, "checkout", "--quiet", "--detach", "--force", commit)
        else:
            _git(top, "worktree", "prune")
            wt.parent.mkdir(parents=True, exist_ok=True)
            _git(top, "worktree", "add", "--detach", str(wt), commit)
        return build(wt, store=store)


def resolve(kind: str, value: str, *, offline: bool = False) -> Artifact:
    """A scenario's ``xen.version`` / ``dom0.kernel``: an artifact key, a path, or (kernels)
    ``src:TREE``, a source tree built here (offline builds nothing new: an unchanged tree's
    image is reused), or ``src:TREE@REF``, a commit of it built in rig's worktree."""
    if kind == "kernel" and value.startswith("src:"):
        tree, ref = source_ref(value)
        built = build_at(tree, ref) if ref else build(tree)
        rec = Record(f"kernel={value}", "(built from source)", built.state[:16], "-",
                     built.state, 0, str(built.bzimage), sha256_file(built.bzimage),
                     built.bzimage.stat().st_size)
        how = "reused the build of this tree state" if built.reused else \
            f"built in {built.seconds:.0f} s (log: {built.log})"
        return Artifact(rec, built.bzimage, how, built.config)
    return images.resolve(kind, value, offline=offline)


def check(kind: str, value: str, said: str | None = None) -> None:
    """Fail fast on a value the user can fix (exit 2): an unknown key, a missing file, a
    ``src:`` that is no kernel tree. ``said``: how the user gave the value (e.g. "--kernel
    'src:linux'"), for the message; default its scenario field."""
    if kind == "kernel" and value.startswith("src:"):
        tree, ref = source_ref(value)
        where = images.named(kind, value, said)
        if not (tree / "Makefile").is_file() or not (tree / "arch" / "x86").is_dir():
            raise UsageError(f"{where}: {tree} is not a Linux source tree (no Makefile and "
                             "arch/x86)")
        if ref is not None and subprocess.run(
                ["git", "-C", str(tree), "rev-parse", "--verify", "--quiet",
                 f"{ref}^{{commit}}"], capture_output=True).returncode != 0:
            raise UsageError(f"{where}: {ref!r} is no commit of {tree}")
        return
    images.check(kind, value, said)
