"""Hypothesis profiles: `ci` (default; derandomized and quick) and `thorough`.

Select with FNX_HYPOTHESIS_PROFILE=thorough for long local runs.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=15, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("FNX_HYPOTHESIS_PROFILE", "ci"))
