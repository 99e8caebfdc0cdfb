"""The problem's vocabulary: units, E820 maps and page sets, dom0_mem, scenarios (pure)."""
