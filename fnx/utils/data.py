"""``torch.utils.data`` under its own path: the same objects as :mod:`fnx.data`.

>>> import fnx.utils.data, fnx.data
>>> fnx.utils.data.DataLoader is fnx.data.DataLoader
True
"""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
