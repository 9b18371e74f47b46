"""``stylelab benchmark --config``: methods x evaluation sets x quality metrics, plus latency per resolution.

Modules, one concept each: :mod:`.config` (the YAML schema), :mod:`.sets` (evaluation pairs),
:mod:`.methods` (method instances and their weights label), :mod:`.metrics` (the metrics of one cell),
:mod:`.artfid` (ArtFID, the ``art-fid`` package's definition), :mod:`.store` (one JSON file per finished
cell: resume), :mod:`.runner` (cells, workers, progress), :mod:`.report` (``results.csv``/``.md``),
:mod:`.plots` (scatter, latency plot, image grid).
"""
