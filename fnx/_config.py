"""``fnx.config``: the JAX configuration switches that have a meaning here, under JAX's names.

JAX code that starts with ``jax.config.update("jax_enable_x64", True)`` ports by
changing ``jax`` to ``fnx``. The options:

* ``jax_enable_x64``: Python floats (and lists of them) become float64 arrays
  instead of float32 (:func:`fnx.set_default_dtype`). Integers are int64 in fnx
  either way, as in NumPy and PyTorch.
* ``jax_platform_name`` / ``jax_platforms``: ``"cpu"`` or ``"cuda"``/``"gpu"``:
  where creation functions and Python scalars land (:func:`fnx.default_device`).

An option fnx does not have raises AttributeError, as JAX does for an unknown one.

>>> import fnx
>>> fnx.config.update("jax_enable_x64", True); fnx.numpy.array(1.5).dtype
dtype('float64')
>>> fnx.config.update("jax_enable_x64", False); fnx.config.jax_enable_x64
False
"""
from .core import backend, dtypes


class _Config:
    def update(self, name, value):
        """Sets option ``name`` (``jax.config.update``)."""
        if name == "jax_enable_x64":
            dtypes.set_default_dtype("float64" if value else "float32")
        elif name in ("jax_platform_name", "jax_platforms"):
            first = str(value).split(",")[0].strip().lower()
            if first not in backend.PLATFORMS:
                raise ValueError(f"config.update({name!r}): fnx runs on {sorted(set(backend.PLATFORMS))}, "
                                 f"got {value!r}")
            backend._default[0] = backend.parse_device(backend.PLATFORMS[first])
        else:
            raise AttributeError(f"Unrecognized config option: {name} (fnx has jax_enable_x64, "
                                 f"jax_platform_name and jax_platforms)")

    def read(self, name):
        """The current value of option ``name``."""
        return getattr(self, name)

    @property
    def jax_enable_x64(self):
        return dtypes.default_float() == dtypes.float64

    @property
    def jax_platform_name(self):
        return backend._default[0].platform

    jax_platforms = jax_platform_name

    def __repr__(self):
        return f"fnx.config(jax_enable_x64={self.jax_enable_x64}, jax_platform_name={self.jax_platform_name!r})"


config = _Config()


class enable_x64:
    """``jax.enable_x64(True)``: ``jax_enable_x64`` set for a ``with`` block, or for each call of a decorated
    function, and set back after.

    >>> import fnx
    >>> with fnx.enable_x64():
    ...     fnx.numpy.array(1.5).dtype
    dtype('float64')
    >>> fnx.numpy.array(1.5).dtype
    dtype('float32')
    """

    def __init__(self, new_val=True):
        self._value = bool(new_val)

    def __enter__(self):
        self._before = config.jax_enable_x64
        config.update("jax_enable_x64", self._value)
        return self

    def __exit__(self, *exc):
        config.update("jax_enable_x64", self._before)
        return False

    def __call__(self, fn):
        from .transforms.autodiff import decorate_with
        return decorate_with(lambda: enable_x64(self._value), fn)


def process_index():
    """``jax.process_index``: this process's index among the hosts, 0 (fnx runs in one process)."""
    return 0


def process_count():
    """``jax.process_count``: the number of host processes, 1."""
    return 1
