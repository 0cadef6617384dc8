"""device_put as a registry primitive (values, shape rule, derivatives, vmap)."""
import fnx
from .harness import Case, one

CASES = [
    Case("device_put", lambda x: fnx.device_put(fnx.device_put(x, "cpu:1") * 1.0, "cpu:0"), lambda x: x, one()),
]
