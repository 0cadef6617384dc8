"""Checkpoints: ``fnx.save`` and ``fnx.load`` of pytrees, in the safetensors format, without pickle.

``torch.save`` pickles, and unpickling a file can run any code in it. fnx
writes safetensors instead: an 8-byte header length, a JSON header giving each
tensor's dtype, shape and byte range, then the raw little-endian bytes. Loading
reads numbers and JSON and nothing else, and other tools (the ``safetensors``
library, Hugging Face's loaders) can read the tensors.

A checkpoint is any pytree: a model's ``state_dict()``, an optimizer's
``{"state": {0: {...}}, "param_groups": [...]}``, or a dict holding both with
an epoch number. Each array leaf becomes a tensor named by its path
(``"model.fc1.weight"``, ``"optimizer.state.0.exp_avg"``); the structure and
every other leaf (None, bools, ints, floats, complex numbers, strings) go into
the header's ``__metadata__`` as JSON, under ``{"format": "fnx", "version":
"1", "tree": ...}``. The tree records dict key types (an optimizer's state is
keyed by ints), insertion order, tuples versus lists, OrderedDicts and Counters, so what
``load`` returns equals what ``save`` was given, with every array an fnx array
of the same dtype and shape. The tree also keeps a CRC-32 of each tensor's
bytes, so damage to the data section is detected, not only damage to the header.

A safetensors file written by another tool (no fnx marker in its metadata)
loads as a flat dict ``{name: array}`` in the file's order, so weights
exported elsewhere can be fed to ``load_state_dict``.

The header's metadata also records where each array was saved from, as
PyTorch's location tags (``"cpu"``, ``"cuda:0"``), under ``"locations"``.
``load`` itself puts arrays on the default device (or the one it is told);
the tags are what a ``map_location`` dict or function remaps, as in
``torch.load``. A file without tags (from an earlier fnx, or another tool)
counts as saved from ``"cpu"``.

Saving is atomic: the bytes go to a temporary file in the destination's
directory, which is flushed, ``fsync``-ed and then renamed over the
destination with ``os.replace``. A crash or an error part-way leaves the
previous checkpoint untouched and removes the temporary file. A file that is
truncated, corrupt or not safetensors at all raises
:class:`fnx.errors.CheckpointError` (a ValueError) saying what is wrong.
"""
import collections
import contextlib
import json
import os
import tempfile
import zlib

import numpy as np

from .core.array import Array
from .errors import CheckpointError, DeviceError

__all__ = ["save", "load"]

FORMAT, VERSION = "fnx", 1
# The safetensors dtypes NumPy holds (safetensors.numpy reads these; BF16 and the F8s it cannot).
_NUMPY_DTYPES = frozenset(["BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "F32", "F64",
                           "C64", "C128"])
_COMPLEX_PARTS = {"complex64": np.float32, "complex128": np.float64}
_STORABLE = set("?bBhHiIlLqQefd")  # numpy type codes of bool, the ints and float16/32/64
_SCALARS = (type(None), bool, int, float, str)
_KEYS = (str, int, float, bool, type(None))


# ----- encoding: pytree -> (named numpy arrays, JSON tree) -----------------------------------------

def _encode(obj, path, tensors, locations):
    where = "/".join(map(str, path)) or "the root"
    if obj is None or type(obj) in (bool, int, float, str):
        return {"value": obj}
    if isinstance(obj, str):  # numpy's str_ too
        return {"value": str(obj)}
    if type(obj) is complex:
        return {"complex_value": [obj.real, obj.imag]}
    if isinstance(obj, (Array, np.ndarray, np.generic)):  # numpy scalars (float64 too) become 0-d arrays
        arr = np.asarray(obj)
        node = {}
        if arr.dtype.name in _COMPLEX_PARTS:  # safetensors has no complex128: store (real, imag) pairs
            node["complex"] = arr.dtype.name
            arr = np.stack([arr.real, arr.imag], axis=-1)
        elif arr.dtype.char not in _STORABLE:
            raise TypeError(f"fnx.save: cannot store the {arr.dtype} array at {where}; checkpoints hold bool, "
                            "integer, float16/32/64 and complex arrays")
        arr = np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")  # not ascontiguousarray: keeps 0-d
        name = ".".join(map(str, path)) or "_"
        base, k = name, 1
        while name in tensors or name == "__metadata__":  # paths can collide once joined ({"a.b": x, "a": {"b": y}}),
            # and safetensors keeps the name __metadata__ for its own record
            k += 1
            name = f"{base}#{k}"
        tensors[name] = arr
        locations[name] = _location(obj.device if isinstance(obj, Array) else None)
        node["array"] = name
        node["crc32"] = zlib.crc32(arr.tobytes())
        return node
    if type(obj) in _DICTS:
        items = []
        for key, value in obj.items():
            if not isinstance(key, _KEYS):
                raise TypeError(f"fnx.save: the dict at {where} has a key {key!r} of type {type(key).__name__}; "
                                "checkpoint keys must be str, int, float, bool or None")
            items.append([key, _encode(value, path + (key,), tensors, locations)])
        return {_DICTS[type(obj)]: items}
    if type(obj) in (list, tuple):
        return {type(obj).__name__: [_encode(v, path + (i,), tensors, locations) for i, v in enumerate(obj)]}
    hint = ""
    from .nn.module import Module
    if isinstance(obj, Module):
        hint = "; save the module's state_dict() and load it with load_state_dict()"
    elif isinstance(obj, tuple) and hasattr(obj, "_fields"):
        hint = "; convert the namedtuple with ._asdict()"
    raise TypeError(f"fnx.save: cannot store a {type(obj).__name__} at {where}: checkpoints hold arrays, "
                    f"None, bools, numbers and strings inside dicts, lists and tuples (no pickle){hint}")


# The dict types a checkpoint keeps apart (a MultiStepLR's state holds its milestones as a Counter).
_DICTS = {dict: "dict", collections.OrderedDict: "odict", collections.Counter: "counter"}
_DICT_KINDS = {kind: cls for cls, kind in _DICTS.items()}


def _location(device):
    """PyTorch's location tag for ``device``: ``"cpu"`` for host memory (numpy arrays too), else ``"cuda:0"``..."""
    if device is None or str(device) == "cpu:0":
        return "cpu"
    return str(device)


# ----- decoding: JSON tree + tensors -> pytree --------------------------------------------------

def _decode(node, tensors, place, what):
    if not isinstance(node, dict) or len(node) not in (1, 2, 3):
        raise CheckpointError(f"fnx.load: {what} has a corrupt structure record ({_short(node)})")
    if "array" in node:
        name = node["array"]
        arr = tensors.get(name) if isinstance(name, str) else None
        if arr is None:
            raise CheckpointError(f"fnx.load: {what} refers to a tensor {name!r} that the file does not hold")
        if node.get("crc32") is not None and zlib.crc32(arr.tobytes()) != node["crc32"]:
            raise CheckpointError(f"fnx.load: {what} is corrupt: the bytes of tensor {name!r} fail their checksum")
        kind = node.get("complex")
        if kind is not None:
            if kind not in _COMPLEX_PARTS or arr.dtype != _COMPLEX_PARTS[kind] or arr.shape[-1:] != (2,):
                raise CheckpointError(f"fnx.load: {what} has a corrupt record for complex tensor {name!r}")
            arr = (arr[..., 0] + 1j * arr[..., 1]).astype(kind)
        return place(name, arr)
    if len(node) != 1:
        raise CheckpointError(f"fnx.load: {what} has a corrupt structure record ({_short(node)})")
    (kind, body), = node.items()
    if kind == "value" and isinstance(body, _SCALARS):
        return body
    if kind == "complex_value" and isinstance(body, list) and len(body) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in body):
        return complex(*body)
    if kind in _DICT_KINDS and isinstance(body, list) and all(isinstance(i, list) and len(i) == 2 for i in body):
        out = _DICT_KINDS[kind]()
        for key, value in body:
            if not isinstance(key, _KEYS):
                raise CheckpointError(f"fnx.load: {what} has a corrupt dict key {_short(key)}")
            out[key] = _decode(value, tensors, place, what)
        return out
    if kind in ("list", "tuple") and isinstance(body, list):
        items = [_decode(v, tensors, place, what) for v in body]
        return items if kind == "list" else tuple(items)
    raise CheckpointError(f"fnx.load: {what} has a corrupt structure record ({_short(node)})")


def _short(x):
    text = repr(x)
    return text if len(text) < 80 else text[:77] + "..."


# ----- files --------------------------------------------------------------------------------------

def save(obj, path):
    """Writes the pytree ``obj`` to ``path`` as a safetensors file, atomically (``torch.save``'s place).

    Args:
      obj: arrays (fnx or numpy; Parameters are saved by value), None, bools,
        ints, floats, complex numbers and strings, nested in dicts (keys str,
        int, float, bool or None), OrderedDicts, Counters, lists and tuples.
      path: a file name (str or os.PathLike), or a binary file object to write
        to (then without the atomic rename).

    Raises:
      TypeError: a leaf or key of another type (a Module, a namedtuple, an object
        array); nothing is written.
      FileNotFoundError: the destination's directory does not exist.

    >>> import os, tempfile, fnx
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> fnx.save({"w": fnx.numpy.ones(2), "step": 3, "betas": (0.9, 0.999)}, path)
    >>> fnx.load(path)
    {'w': Array([1., 1.], dtype=float32), 'step': 3, 'betas': (0.9, 0.999)}
    """
    from safetensors.numpy import save as to_bytes
    tensors, locations = {}, {}
    tree = _encode(obj, (), tensors, locations)
    text = json.dumps(tree, separators=(",", ":"))
    metadata = {"format": FORMAT, "version": str(VERSION), "tree": text, "tree_crc32": str(zlib.crc32(text.encode())),
                "locations": json.dumps(locations, separators=(",", ":"))}
    data = to_bytes(tensors, metadata=metadata)
    if hasattr(path, "write"):
        path.write(data)
        return
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"fnx.save: {path!r} is a directory; give the checkpoint a file name in it")
    _write_atomic(os.path.realpath(path), data)  # through a symbolic link, as torch.save writes: the link stays


def _write(f, data, chunk=1 << 24):
    """Writes ``data`` to ``f`` piece by piece (separate so tests can fail it half-way)."""
    view = memoryview(data)
    for start in range(0, len(view), chunk):
        f.write(view[start:start + chunk])


def _write_atomic(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"fnx.save: the directory {directory!r} does not exist")
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes the file private; give it the permissions a plain open would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # The rename itself is durable only once the directory entry reaches the disk.
    with contextlib.suppress(OSError, AttributeError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _header(data, what):
    """The parsed JSON header, after checking that the file has the safetensors layout."""
    if len(data) < 8:
        raise CheckpointError(f"fnx.load: {what} is not a safetensors file: it has only {len(data)} bytes "
                              "(truncated or empty?)")
    n = int.from_bytes(data[:8], "little")
    # A safetensors header is a JSON object right after its 8-byte length; a pickle starts with 0x80 (which a
    # header length can also start with, so the JSON is what tells them apart) and torch.save's zip with PK.
    if not (n <= len(data) - 8 and bytes(data[8:9]) == b"{") and (
            bytes(data[:4]) == b"PK\x03\x04" or bytes(data[:1]) == b"\x80"):
        kind = "a torch.save file (a zip archive of pickles)" if data[:2] == b"PK" else "a pickle"
        raise CheckpointError(f"fnx.load: {what} is {kind}; fnx never unpickles, since loading a pickle runs "
                              f"code. Convert it in PyTorch with safetensors.torch.save_file(state_dict, path) "
                              f"(tensors in float32 or another NumPy dtype), then fnx.load that file")
    if n > len(data) - 8:
        raise CheckpointError(f"fnx.load: {what} is truncated or not a safetensors file: its header claims "
                              f"{n} bytes, but only {len(data) - 8} follow")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"fnx.load: {what} is corrupt or not a safetensors file: its header is not "
                              f"valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"fnx.load: {what} is corrupt or not a safetensors file: its header is not a "
                              "JSON object")
    return header


def load(path, device=None, *, map_location=None, weights_only=None):
    """Reads a checkpoint written by :func:`save` (``torch.load``'s place); arrays come back as fnx arrays.

    Args:
      path: a file name (str or os.PathLike) or a binary file object.
      device: where to put the arrays (a Device or a name such as ``"cuda:0"``);
        default: the default device.
      map_location: ``torch.load``'s spelling, with its meanings: a device or
        name (as ``device``); None; a dict from location tags in the file
        (``"cpu"``, ``"cuda:1"``: where each array was saved from) to devices
        or names, an array whose tag is not a key being placed as without
        ``map_location``; or a function called as ``fn(array, tag)`` with the
        array in host memory (on ``cpu``), returning the array to use (that
        one, or one moved, e.g. ``array.to("cuda:0")``) or None to place it as
        without ``map_location``.
      weights_only: accepted for ``torch.load``: fnx checkpoints hold no pickle,
        so loading only ever reads arrays and plain values, which is what
        ``weights_only=True`` asks of PyTorch; False loads the same things.

    Returns:
      The saved pytree; for a safetensors file not written by fnx, a flat dict
      ``{name: array}`` in the file's order.

    Raises:
      CheckpointError: the file is truncated, corrupt, not safetensors, or from
        a newer fnx.
      FileNotFoundError: there is no such file.
      TypeError: both ``device`` and ``map_location``; a ``map_location`` of
        another kind, a dict key that is not a str, or a function returning
        something other than an array or None; a ``weights_only`` that is not
        a bool or None.
      DeviceError: a device (in ``device`` or ``map_location``) that is not
        available.

    >>> import io, fnx
    >>> f = io.BytesIO()
    >>> fnx.save({"w": fnx.ones(2)}, f)
    >>> fnx.load(io.BytesIO(f.getvalue()), map_location=lambda array, tag: array, weights_only=True)
    {'w': Array([1., 1.], dtype=float32)}
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as from_bytes
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"fnx.load: weights_only must be a bool or None, got {weights_only!r}")
    if map_location is not None:
        if device is not None:
            raise TypeError("fnx.load: give either device or map_location, not both (they mean the same for a "
                            "device)")
        if isinstance(map_location, dict):
            _check_location_map(map_location)
        elif not callable(map_location):
            device = _as_device(map_location, "map_location")
            map_location = None
    if device is not None:
        device = _as_device(device, "device")
    if hasattr(path, "read"):
        data, what = path.read(), "the file object"
    else:
        with open(path, "rb") as f:
            data = f.read()
        what = repr(os.fspath(path))
    header = _header(data, what)
    for name, record in header.items():
        dtype = record.get("dtype") if isinstance(record, dict) and name != "__metadata__" else None
        if dtype is not None and dtype not in _NUMPY_DTYPES:
            raise CheckpointError(f"fnx.load: tensor {name!r} of {what} has dtype {dtype}, which NumPy (and so fnx) "
                                  f"does not hold{' (bfloat16)' if dtype == 'BF16' else ''}; convert it before "
                                  f"saving, e.g. to float32 with tensor.float() in PyTorch")
    try:
        tensors = from_bytes(bytes(data))
    except (SafetensorError, ValueError, KeyError, TypeError) as e:
        # The header parsed, so it is the tensor records or the data section that is wrong.
        raise CheckpointError(f"fnx.load: {what} is truncated or corrupt: {e}") from None
    meta = header.get("__metadata__") or {}
    place = _placer(map_location, device, _locations(meta, what))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT and not {"tree", "tree_crc32"} <= set(meta):
        # Not written by fnx (another program's metadata may have any keys, "tree" among them): a flat dict.
        return {name: place(name, tensors[name]) for name in header if name != "__metadata__"}
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"fnx.load: {what} is corrupt: it has an fnx structure record but its format "
                              f"marker reads {meta.get('format')!r} instead of {FORMAT!r}")
    version = meta.get("version")
    if not (isinstance(version, str) and version.isdigit()):
        raise CheckpointError(f"fnx.load: {what} has an fnx marker but no valid format version ({version!r})")
    if int(version) > VERSION:
        raise CheckpointError(f"fnx.load: {what} uses fnx checkpoint format version {version}; this fnx reads "
                              f"versions up to {VERSION} (upgrade fnx)")
    try:
        text = meta["tree"]
        if "tree_crc32" in meta and meta["tree_crc32"] != str(zlib.crc32(text.encode())):
            raise CheckpointError(f"fnx.load: {what} is corrupt: its structure record fails its checksum")
        tree = json.loads(text)
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError):
        raise CheckpointError(f"fnx.load: {what} has an fnx marker but its structure record is missing or "
                              "corrupt") from None
    try:
        return _decode(tree, tensors, place, what)
    except RecursionError:
        raise CheckpointError(f"fnx.load: {what} has a corrupt structure record (nested too deeply)") from None


def _as_device(value, what):
    from .core.backend import Device, parse_device
    if not isinstance(value, (str, Device)):
        raise TypeError(f"fnx.load: {what} must be a device or a device name such as 'cpu' or 'cuda:0', a dict or "
                        f"a function, got {type(value).__name__}")
    try:
        return parse_device(value)
    except DeviceError as e:
        raise DeviceError(f"fnx.load: {what}: {e}") from None


def _check_location_map(mapping):
    """The keys must be tags; a target is checked when an array saved from its tag is placed (as torch.load
    does), so an entry for a GPU this machine lacks is harmless until a file needs it."""
    for tag in mapping:
        if not isinstance(tag, str):
            raise TypeError(f"fnx.load: the keys of a map_location dict are location tags such as 'cuda:1', got "
                            f"{tag!r}")


def _locations(meta, what):
    """``{tensor name: location tag}`` from the metadata; empty for a file that records none."""
    text = meta.get("locations") if isinstance(meta, dict) and meta.get("format") == FORMAT else None
    if text is None:  # another tool's metadata may use the name for something else
        return {}
    try:
        locations = json.loads(text)
    except (TypeError, ValueError):
        locations = None
    if not isinstance(locations, dict) or not all(isinstance(v, str) for v in locations.values()):
        raise CheckpointError(f"fnx.load: {what} is corrupt: its record of where arrays were saved from is not a "
                              "JSON object of names")
    return locations


def _placer(map_location, device, locations):
    """``place(name, host_array) -> fnx array``: ``map_location``'s rule, then ``device`` or the default."""
    from .numpy import asarray

    def default(arr):
        return asarray(arr, device=device)

    if map_location is None:
        return lambda name, arr: default(arr)
    if isinstance(map_location, dict):
        def by_tag(name, arr):
            tag = locations.get(name, "cpu")
            target = map_location.get(tag)
            return default(arr) if target is None else asarray(arr, device=_as_device(target, f"map_location[{tag!r}]"))
        return by_tag

    def by_function(name, arr):
        tag = locations.get(name, "cpu")
        out = map_location(asarray(arr, device="cpu"), tag)
        if out is None:
            return default(arr)
        if not isinstance(out, Array):
            raise TypeError(f"fnx.load: the map_location function returned a {type(out).__name__} for the array "
                            f"{name!r} (saved from {tag!r}); it must return an array or None")
        return out
    return by_function
