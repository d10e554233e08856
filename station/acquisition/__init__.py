"""Acquisition: the process that reads the board, and the shared ring it fills."""
