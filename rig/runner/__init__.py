"""Runs: one boot, rig render, matrices, compare, fuzz, replay, saved logs, LAVA jobs."""
