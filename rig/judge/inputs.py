"""The model's inputs, each from the best source that is not the judged kernel, and where each
came from (the document's ``model_inputs``). Pure.

The first rule: every expected value comes from what the machine gave dom0 (Xen's E820, dom0's
nr_pages as Xen built it, dom0_mem, the kernel's version and build configuration). The one
fallback that reads the kernel's own output (its printed map, for the iBFT reservation of a
kernel whose configuration is unknown) is stated as an assumption in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rig.domain.dom0mem import Dom0Mem, Dom0Size
from rig.domain.e820 import E820Entry
from rig.domain.kconfig import KernelConfig
from rig.judge.records import ModelInputs
from rig.model.conflicts import Allocations
from rig.model.kernel import (
    ERA_VERSION,
    IBFT_OPTION,
    IBFT_RESERVE,
    BootedKernel,
    Era,
    Kernel,
    parse_version,
    release_version,
)
from rig.model.prediction import size_on
from rig.parse.collect import ParsedLog
from rig.parse.linux import LinuxInfo
from rig.parse.xen import XenInfo

T = TypeVar("T")


@dataclass
class Inputs:
    machine_map: list[E820Entry]
    nr_pages: int | None
    max_pages: int | None
    kernel: Kernel | None
    #: where Xen put dom0's kernel and what it built (its own lines), when the log says
    allocations: Allocations | None
    size: Dom0Size | None
    mem: Dom0Mem | None
    #: what the log lacks for a prediction
    missing: list[str]
    notes: list[str]
    record: ModelInputs


@dataclass(frozen=True)
class Found(Generic[T]):
    """One of the model's inputs as read: its value, where it came from (None: nowhere), and
    what reading it has to say beside it: ``notes`` for the result (an assumption, a
    disagreement), ``missing``: what the log lacks for it. ``inputs`` gathers them, in order."""

    value: T
    source: str | None = None
    notes: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def inputs(log: ParsedLog, dom0_mem: str | None, booted: BootedKernel) -> Inputs:
    """``dom0_mem`` stands in for Xen's command line when the log has none; ``booted`` what a
    live run knows of the kernel from its artifact."""
    xen = log.xen
    record = ModelInputs()
    machine_map = _machine_map(log)
    record.map_source = machine_map.source

    mem, mem_error, mem_source = _dom0_mem(log, dom0_mem)
    mem_notes = (f"{mem_source}: {mem_error}",) if mem_error else ()
    size = size_on(mem, machine_map.value) if mem is not None and machine_map.value else None
    nr = _nr_pages(xen, size, mem, mem_source)
    nr_pages = nr.value
    max_pages, max_source = None, "unknown (Xen's default is unlimited)"
    if size is not None:
        max_pages, max_source = size.max_pages, f"Xen's sizing of dom0_mem ({mem_source})"
    elif mem is not None and (fixed := mem.max_pages) is not None:
        # dom0's size needs Xen's free memory, its max_pages not (min:X,max:Y)
        max_pages, max_source = fixed, (
            f"dom0_mem's max: ({mem_source}), which no host changes" if mem.max is not None
            else f"dom0_mem without max: ({mem_source}): Xen's UINT_MAX")
    elif mem is not None and xen.dom0_nr_pages is not None and \
            (solved := mem.max_pages_built_with(xen.dom0_nr_pages)) is not None:
        # a relative max: (max:90%) is known once Xen's free memory is, and the nr_pages Xen
        # built tells it: every free memory that gives dom0 those pages gives this max_pages
        max_pages, max_source = solved, (
            f"dom0_mem's max: ({mem_source}) with Xen's free memory solved from the nr_pages "
            "it built")
    record.nr_pages, record.nr_pages_source = nr_pages, nr.source
    record.max_pages, record.max_pages_source = max_pages, max_source

    kernel = _kernel(log.linux, booted, record)
    image = xen.dom0_kernel_paddr
    record.kernel_image = [hex(a) for a in image] if image else None
    allocations = None
    if image is not None:
        allocations = Allocations(image, xen.dom0_physical("Start info"),
                                  xen.dom0_physical("Page tables"))
    missing = [*machine_map.missing, *nr.missing, *kernel.missing]
    notes = [*mem_notes, *nr.notes, *kernel.notes]
    return Inputs(machine_map.value, nr_pages, max_pages, kernel.value, allocations, size, mem,
                  missing, notes, record)


def _machine_map(log: ParsedLog) -> Found[list[E820Entry]]:
    """Xen's E820, whole, or what is missing instead."""
    xen = log.xen
    if xen.e820 and not xen.e820_cut:
        return Found(xen.e820, f"Xen's E820 ({xen.e820_source})")
    if xen.e820_cut:
        return Found([], missing=("Xen's whole E820 map (it is cut by a line wrap that could "
                                  "not be undone)",))
    what = "Xen's E820 map"
    if log.linux.e820:
        what += (" (the kernel's own printed map cannot stand in: its setup code has "
                 "already edited it; give Xen's log too: rig parse LOG --xen XEN-LOG)")
    return Found([], missing=(what,))


def _dom0_mem(log: ParsedLog, given: str | None) -> tuple[Dom0Mem | None, str | None, str]:
    """dom0_mem from Xen's command line, else as given; (value, its error, its source)."""
    values = log.xen.dom0_mem_values
    source = "Xen's command line"
    if not values and given:
        values, source = [given], "--dom0-mem"
    if not values:
        return None, None, source
    try:
        return Dom0Mem.merged(values), None, source
    except ValueError as exc:
        return None, str(exc), source


def _nr_pages(xen: XenInfo, size: Dom0Size | None, mem: Dom0Mem | None,
              mem_source: str) -> Found[int | None]:
    """dom0's nr_pages as Xen built it, else as dom0_mem sizes it; and the source."""
    nr_pages = xen.dom0_nr_pages
    if nr_pages is not None and xen.dom0_kind == "PVH" and xen.dom0_e820:
        # what Xen populated, from the map it printed (dom0=verbose): a build-time output
        return Found(nr_pages,
                     "Xen's Dom0 memory map (its RAM and the page its ACPI tables start in)")
    if nr_pages is not None:
        notes = (f"dom0's nr_pages: {xen.nr_pages_disagreement}; the physical arrangement is "
                 "used",) if xen.nr_pages_disagreement else ()
        return Found(nr_pages, "Xen's Dom0 alloc. and Init. ramdisk lines"
                     if xen.alloc_nr_pages is not None else "the size of Xen's Phys-Mach map",
                     notes)
    if size is not None:
        return Found(size.nr_pages, f"Xen's sizing of dom0_mem={mem.text if mem else ''}")
    if mem is not None and (plenty := mem.with_plenty()) is not None:
        # no map to bound Xen's free memory by: an absolute amount, if Xen had that much
        return Found(plenty.nr_pages, f"dom0_mem={mem.text} ({mem_source}), assuming Xen had "
                     "that much memory free (the log has neither Xen's map nor its Dom0 "
                     "alloc. lines)", (f"dom0's nr_pages is assumed from dom0_mem={mem.text}",))
    return Found(None, missing=("dom0's nr_pages (Xen's Dom0 alloc. lines, or an absolute "
                                "dom0_mem)",))


def _kernel(linux: LinuxInfo, booted: BootedKernel, record: ModelInputs) -> Found[Kernel | None]:
    """The kernel as the model sees it, its version's source, and the notes of its reading;
    ``record`` gets its facts."""
    found = _kernel_version(linux, booted.release, booted.upstream)
    if found is None:
        return Found(None, missing=("the kernel's version (no 'Linux version' line, and its "
                                    "setup messages do not tell the era)",))
    version, source = found.value, found.source or ""
    ibft = _ibft(linux, booted.config, version)
    how = ibft.source or ""
    driver = booted.config.enabled("CONFIG_XEN_BALLOON") if booted.config else None
    kernel = Kernel(version, source, ibft.value, how, booted.layout, driver,
                    Kernel.e820_entries_of(booted.config),
                    Kernel.unpopulated_alloc_of(booted.config))
    record.kernel_version = ".".join(map(str, version))
    record.kernel_version_source = source
    record.ibft_reserve = kernel.ibft_reserve
    record.ibft_source = how
    if booted.layout is not None:
        lay = booted.layout
        record.kernel_sections = [hex(lay.text), hex(lay.bss_stop), hex(lay.end)]
        record.kernel_sections_source = lay.source
    return Found(kernel, source, found.notes + ibft.notes)


def _kernel_version(linux: LinuxInfo, release: str | None,
                    booted_upstream: str | None) -> Found[tuple[int, ...]] | None:
    """The kernel's version and where it came from: its banner, the image's header, or (a
    guess, said so) the format of its setup messages."""
    printed = "printed by the kernel ('Linux version')"
    header = "the booted kernel image's header (the log has no 'Linux version' line)"
    oops = "the release its oops names (the log lost its 'Linux version' line)"
    for text, upstream, where in ((linux.version, linux.upstream_version, printed),
                                  (release, booted_upstream, header),
                                  (linux.oops_release, linux.oops_upstream, oops)):
        if text:
            try:
                version = release_version(text, upstream)
                if version != parse_version(text):
                    where += f"; {text} is {upstream}, as its build string says"
                return Found(version, where)
            except ValueError:
                pass
    if linux.format_era:
        era = Era(linux.format_era)
        return Found(ERA_VERSION[era], f"guessed: the log has no 'Linux version' line, its "
                     f"setup messages have the format of era {era.value}",
                     (f"the kernel's version is not in the log: era {era.value} was guessed "
                      "from the format of its setup messages",))
    return None


def _ibft(linux: LinuxInfo, config: KernelConfig | None,
          version: tuple[int, ...]) -> Found[bool | None]:
    """CONFIG_ISCSI_IBFT_FIND from the kernel's configuration, else an assumption (said so)."""
    if config is not None:
        ibft = config.enabled(IBFT_OPTION)
        return Found(ibft, f"{IBFT_OPTION}={'y' if ibft else 'n'} in {config.source}")
    if version[:2] < (6, 5):
        return Found(None, "not applicable before Linux 6.5")
    printed = ibft_in_printed_map(linux.e820)
    if printed is None:
        return Found(None, "assumed on, as in distribution kernels: neither the kernel's "
                     "configuration nor its printed map tell")
    return Found(printed, f"assumed from the kernel's printed map "
                 f"({'reserved' if printed else 'RAM'} at 0x80000): its build configuration is "
                 "not known", (f"{IBFT_OPTION} is an assumption read from the kernel's own "
                               "printed map (no kernel configuration was given)",))


def ibft_in_printed_map(linux_map: Sequence[E820Entry]) -> bool | None:
    """Whether a kernel's own printed map shows the iBFT reservation: RAM at 0x80000 means no;
    None when the map does not say. Only a fallback for logs whose kernel configuration is
    unknown, and then stated as an assumption: it is the judged kernel's own output."""
    for e in linux_map:
        if e.start <= IBFT_RESERVE.start < e.end:
            return not e.is_ram
    return None
