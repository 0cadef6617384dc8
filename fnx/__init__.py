"""fnx: pure functions over immutable arrays, transformed; and PyTorch-style training on top.

>>> import fnx, fnx.numpy as fnp
>>> fnx.grad(lambda x: fnp.sum(fnp.sin(x)))(fnp.array([0.0]))
Array([1.], dtype=float32)
"""
from . import errors
from .core import tree
import sys as _sys
_sys.modules[__name__ + ".tree"] = tree  # ``import fnx.tree`` as ``import jax.tree``: the same module
from .core.array import Array
from .core.dtypes import set_default_dtype
from .core.primitive import freeze_registry as _freeze_registry
from . import numpy
from . import accelerator, backends, cuda, data, lax, nn, ops, optim, random, scipy, testing, utils
from .random import Generator, default_generator, initial_seed, manual_seed, seed
from .numpy import array, asarray, from_dlpack, stop_gradient
from .transforms.autodiff import (enable_grad, grad, hessian, is_grad_enabled, jacfwd, jacrev, jvp, no_grad,
                                  saved_residuals, value_and_grad, vjp)
from .transforms.graph import make_graph
from .transforms.vmap import vmap
from .transforms.jit import clear_caches, disable_jit, jit
from .transforms.device import device_put, on_device
from .core.backend import Device, default_device, device, devices, get_default_device, set_default_device
from .transforms.custom import checkpoint, checkpoint_name, checkpoint_policies, custom_jvp, custom_vjp
from .transforms.extras import (ShapeDtypeStruct, block_until_ready, custom_gradient, default_backend, device_count,
                                device_get, eval_shape, jacobian, linear_transpose, linearize, local_device_count,
                                local_devices, make_jaxpr, named_call, pure_callback, named_scope,
                                ensure_compile_time_eval)
from . import debug, tree_util
from .io import load, save
from ._config import config, enable_x64, process_count, process_index
from .tensor import *  # noqa: F401,F403  (PyTorch's top-level vocabulary: tensor, randn, cat, max...)
from .settings import *  # noqa: F401,F403  (torch.set_num_threads, get_rng_state...)
from . import autograd, fft, func, linalg, special  # torch.autograd, .fft, .func, .linalg and .special
from . import ad_checkpoint  # jax.ad_checkpoint
from . import flatten_util, typing  # jax.flatten_util, jax.typing
from . import distributions  # torch.distributions
from . import distributed  # torch.distributed's questions
from . import amp  # torch.amp
from .amp import autocast, is_autocast_enabled
from .cuda import amp as _cuda_amp  # torch.cuda.amp  # noqa: F401

remat = checkpoint

_freeze_registry()

__version__ = "0.1.0"
