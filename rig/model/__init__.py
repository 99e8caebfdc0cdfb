"""What a correct machine and kernel do: the firmware's map, the PV eras, PVH, a scenario's
prediction, the cost of a boot (pure; never reads a log)."""
