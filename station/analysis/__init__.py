"""Analysis of a finished trial: measures (metrics/), the pipeline from raw frames, the score.

Pure functions on arrays: nothing here knows the live station, the store or the web.
"""
