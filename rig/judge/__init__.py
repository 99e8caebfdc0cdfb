"""The judge: the model's inputs from a parsed log, the PV and PVH checks, the checks of a live
boot, and the typed result document (pure)."""
