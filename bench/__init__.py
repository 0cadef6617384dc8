"""fnx's benchmark suite (issue 7): ``python -m bench`` or ``make bench``.

:mod:`bench.workloads` defines the workloads W1..W7 for fnx, the hand-written
numpy floor and the peers (torch, jax); :mod:`bench.run` checks that they agree,
times them and writes ``bench/RESULTS.md``.
"""
