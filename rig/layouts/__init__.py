"""Layouts rig makes rather than reads: a fuzz campaign's random draws (drawn.py), a real
machine's layout rebuilt from its log (replayed.py), and the minimiser's one-step-smaller
layouts (smaller.py). Pure: scenarios and parsed logs in, scenarios and reports out; the
runner boots them."""
