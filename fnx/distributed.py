"""``torch.distributed``'s questions, for scripts that ask before setting up several processes.

fnx trains in one process and has no process groups, so it answers as a PyTorch
built without distributed support does: ``is_available()`` is False, and
``is_initialized()`` False. (Sharding data by hand works: see
``fnx.utils.data.DistributedSampler``.)

>>> import fnx
>>> fnx.distributed.is_available(), fnx.distributed.is_initialized()
(False, False)
"""

__all__ = ["is_available", "is_initialized"]


def is_available():
    """False: fnx has no process groups."""
    return False


def is_initialized():
    """False: no process group is ever set up."""
    return False
