"""Normative reference data: what a number means for a person of this age, on this protocol.

Pure (no web, no store): tables shipped as data files (data/*.json, each with its source,
licence, population and protocol), the percentile of a value in a table's group, and the
protocol check that refuses a comparison of unlike tests. `derive` rebuilds the tables from
the data set's own per-trial results; `reliable_change` says whether a change is real.
"""

from station.norms.matching import NormMatch, TrialConditions, match_norm, norms_for
from station.norms.tables import NormGroup, NormProtocol, NormTable, load_tables, percentile

__all__ = [
    "NormGroup",
    "NormMatch",
    "NormProtocol",
    "NormTable",
    "TrialConditions",
    "load_tables",
    "match_norm",
    "norms_for",
    "percentile",
]
