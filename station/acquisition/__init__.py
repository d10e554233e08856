"""Acquisition: the process that reads the board, the shared ring it fills, and the
supervisor that replaces the process when it dies or hangs."""
