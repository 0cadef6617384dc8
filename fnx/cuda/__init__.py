"""The questions ``torch.cuda`` answers, for code that picks its device at run time.

>>> import fnx
>>> device = "cuda" if fnx.cuda.is_available() else "cpu"
>>> fnx.cuda.device_count() == len(fnx.devices("cuda"))
True
"""
from ..core.backend import cuda_device, cuda_devices


def is_available():
    """Whether fnx can compute on a GPU (cupy installed and a device that runs a kernel)."""
    return bool(cuda_devices())


def device_count():
    """How many GPUs fnx can use."""
    return len(cuda_devices())


def synchronize(device=None):
    """Waits until the GPU (``cuda:0`` unless ``device`` says otherwise) has finished its queued work,
    as before reading a clock; a :class:`~fnx.errors.DeviceError` when there is no usable GPU."""
    dev = cuda_device(device)
    with dev.context():
        dev.xp.cuda.runtime.deviceSynchronize()


def current_device():
    """The index of the GPU fnx's CUDA work goes to by default (``torch.cuda.current_device``): the default
    device's when it is a GPU, else 0; a :class:`~fnx.errors.DeviceError` (a RuntimeError, as PyTorch's)
    when there is no usable GPU."""
    from ..core.backend import get_default_device
    default = get_default_device()
    return default.id if default.platform == "cuda" else cuda_device(0).id


def get_device_name(device=None):
    """The GPU's name, such as ``"NVIDIA H100 80GB HBM3"`` (``torch.cuda.get_device_name``)."""
    dev = cuda_device(device)
    name = dev.xp.cuda.runtime.getDeviceProperties(dev.id)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed):
    """Seeds the generator fnx's GPU draws use (``torch.cuda.manual_seed``).

    fnx has one generator for every device (``fnx.random.default_generator``),
    so this seeds that one, as
    ``fnx.manual_seed`` does; unlike PyTorch it therefore reseeds CPU draws
    too, and it does so whether or not a GPU is present.
    """
    from ..random import manual_seed as seed_all_devices
    seed_all_devices(seed)


def manual_seed_all(seed):
    """Seeds the generator of every GPU (``torch.cuda.manual_seed_all``): fnx's one generator, as
    :func:`manual_seed` explains."""
    manual_seed(seed)


def get_rng_state(device="cuda"):
    """The state of the generator GPU draws use (``torch.cuda.get_rng_state``): fnx's one generator, as
    :func:`manual_seed` explains, so this is ``fnx.get_rng_state()``."""
    from ..settings import get_rng_state as global_state
    return global_state()


def set_rng_state(new_state, device="cuda"):
    """Restores the state from :func:`get_rng_state` (``torch.cuda.set_rng_state``)."""
    from ..settings import set_rng_state as restore
    restore(new_state)


def get_rng_state_all():
    """One state per GPU (``torch.cuda.get_rng_state_all``): the one generator's, once per device."""
    return [get_rng_state() for _ in range(max(device_count(), 1))]


def set_rng_state_all(new_states):
    """Restores the states from :func:`get_rng_state_all`; they are one generator's, so the first is used."""
    states = list(new_states)
    if not states:
        raise ValueError("set_rng_state_all: expected the list get_rng_state_all() returns, got an empty one")
    set_rng_state(states[0])


def _pool(device):
    dev = cuda_device(device)
    with dev.context():
        return dev.xp.get_default_memory_pool()


def empty_cache():
    """Returns the blocks cupy's memory pool holds unused to the GPU (``torch.cuda.empty_cache``); nothing to do
    without a GPU."""
    for dev in cuda_devices():
        _pool(dev).free_all_blocks()


def memory_allocated(device=None):
    """Bytes of GPU memory that arrays on ``device`` hold now (``torch.cuda.memory_allocated``); 0 without a GPU."""
    return _pool(device).used_bytes() if cuda_devices() else 0


def memory_reserved(device=None):
    """Bytes cupy's pool holds on ``device``, used or cached (``torch.cuda.memory_reserved``); 0 without a GPU."""
    return _pool(device).total_bytes() if cuda_devices() else 0


def _legacy_gpu_type(host_type):
    def make(*args, device=None):
        return host_type(*args, device=cuda_device(device))
    name = host_type.__name__
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"PyTorch's legacy ``torch.cuda.{name}``: :func:`fnx.{name}` placed on a GPU (``cuda:0`` unless "
                    f"``device`` names another); a DeviceError when there is none.")
    return make


def _install_legacy_types():
    from .. import tensor
    names = ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
             "ByteTensor", "BoolTensor")
    globals().update({name: _legacy_gpu_type(getattr(tensor, name)) for name in names})


_install_legacy_types()
