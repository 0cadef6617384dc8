"""The handle every ``register_*_hook`` returns (``torch.utils.hooks.RemovableHandle``)."""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook (also on leaving a ``with``)."""

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, hook, prepend=False):
    """Registers ``hook`` in the dict ``hooks`` (run in its order) and returns its handle; ``prepend`` puts it
    first (``hooks`` is then an OrderedDict)."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle

