"""Test-session set-up shared by tests/ and the doctests in fnx/.

* One BLAS thread (small products on 2 cores are faster that way).
* Two virtual CPU devices (FNX_CPU_DEVICES=2, read when fnx is imported), so
  placement rules are exercised on every machine, GPU or not.
* Hypothesis profiles: ``ci`` (default: derandomized and quick) and ``thorough``
  (FNX_HYPOTHESIS_PROFILE=thorough, for long local runs).
"""
import os

os.environ.setdefault("FNX_CPU_DEVICES", "2")
# The suite multiplies small matrices; on 2 cores, threaded BLAS makes those several times slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from hypothesis import HealthCheck, settings  # noqa: E402

_common = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
settings.register_profile("ci", derandomize=True, max_examples=15, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("FNX_HYPOTHESIS_PROFILE", "ci"))
