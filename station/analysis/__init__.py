"""Analysis of a finished trial: measures (metrics/), the pipeline from raw frames, the score;
and the history read-model (history/): what the pages show of stored trials.

Pure functions on arrays and rows: nothing here knows the live station or the web, and the
store only as an argument (history/ types it with a Protocol of the reads it uses).
"""
