"""fnx.save / fnx.load: round trips of pytrees, atomic writes, and clear errors on damaged files."""
import collections
import io
import json
import math
import os

import numpy as np
import pytest

import fnx
import fnx.io
import fnx.numpy as fnp
from fnx.errors import CheckpointError

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
          "float64", "complex64", "complex128"]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "ckpt.safetensors"


def assert_same(a, b):
    """Equal pytrees: same container types, key order, scalar leaves, and arrays of the same dtype and values."""
    assert type(a) is type(b) or isinstance(a, fnx.Array) and isinstance(b, (fnx.Array, np.ndarray, np.generic))
    if isinstance(a, fnx.Array):
        b = np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.asarray(a), b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type([kb for kb in b if kb == k][0])
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips(path, dtype):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 4)) * 50 + 1j * rng.standard_normal((3, 4))
    arr = (values if "complex" in dtype else values.real).astype(dtype)
    for shape in [(3, 4), (), (0, 2)]:
        x = fnp.asarray(arr.reshape(-1)[:math.prod(shape)].reshape(shape))
        fnx.save({"x": x}, path)
        y = fnx.load(path)["x"]
        assert isinstance(y, fnx.Array) and y.dtype == np.dtype(dtype) and y.shape == shape
        np.testing.assert_array_equal(np.asarray(y), np.asarray(x))


def test_optimizer_style_tree_round_trips(path):
    tree = {
        "state": {0: {"step": fnp.asarray(3, dtype="int32"), "exp_avg": fnp.ones((2, 2)), "exp_avg_sq": fnp.zeros(2)},
                  1: {"step": fnp.asarray(3, dtype="int32"), "momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                          "foreach": None, "name": "all", "params": [0, 1]}],
        "epoch": 7, "best": float("nan"), "big": 2 ** 70, "c": 1 + 2j, "odd keys": {1.5: "x", True: [], None: ()},
    }
    fnx.save(tree, path)
    assert_same(fnx.load(path), tree)


def test_state_dict_and_parameters(path):
    sd = collections.OrderedDict([("fc.weight", fnx.nn.Parameter(fnp.ones((2, 3)))), ("fc.bias", fnp.zeros(2)),
                                  ("bn.num_batches_tracked", fnp.asarray(0, dtype="int64"))])
    fnx.save(sd, path)
    back = fnx.load(path)
    assert type(back) is collections.OrderedDict and list(back) == list(sd)
    assert type(back["fc.weight"]) is fnx.Array and back["fc.weight"].tolist() == [[1.0] * 3] * 2


def test_tensors_are_named_by_path(path):
    from safetensors.numpy import load_file
    fnx.save({"model": {"fc.weight": fnp.ones(2)}, "opt": {"state": {0: {"m": fnp.zeros(2)}}},
              "a.b": fnp.ones(1), "a": {"b": fnp.zeros(1)}}, path)
    names = set(load_file(str(path)))
    assert names == {"model.fc.weight", "opt.state.0.m", "a.b", "a.b#2"}
    back = fnx.load(path)
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [0.0]


def test_metadata_marker(path):
    fnx.save([fnp.ones(1)], path)
    data = path.read_bytes()
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    meta = header["__metadata__"]
    assert meta["format"] == "fnx" and meta["version"] == "1" and "tree" in meta
    assert b"pickle" not in data


def test_bare_leaves_and_root_array(path):
    for obj in [None, 3, "text", [], {}, (None,), fnp.arange(3), np.float32(2.5)]:
        fnx.save(obj, path)
        back = fnx.load(path)
        assert_same(back, fnp.asarray(obj) if isinstance(obj, np.generic) else obj)


def test_load_places_on_device(path):
    fnx.save({"x": fnp.ones(2)}, path)
    for d in fnx.devices():
        assert fnx.load(path, device=d)["x"].device is d
        assert fnx.load(path, device=str(d))["x"].device is d


def test_file_objects():
    buf = io.BytesIO()
    fnx.save({"x": fnp.arange(3)}, buf)
    buf.seek(0)
    assert fnx.load(buf)["x"].tolist() == [0, 1, 2]


def test_plain_safetensors_file_loads_as_flat_dict(path):
    from safetensors.numpy import save_file
    save_file({"b": np.ones(2, np.float32), "a": np.arange(3, dtype=np.int16)}, str(path), metadata={"format": "pt"})
    back = fnx.load(path)
    assert set(back) == {"a", "b"} and all(isinstance(v, fnx.Array) for v in back.values())
    assert back["a"].dtype == np.int16 and back["b"].tolist() == [1.0, 1.0]


def test_unstorable_objects_raise_before_writing(path):
    fnx.save({"ok": 1}, path)
    Point = collections.namedtuple("Point", "x y")
    for bad, match in [(fnx.nn.Module(), "state_dict"), (Point(1, 2), "_asdict"), ({(1, 2): 0}, "key"),
                       ({"x": object()}, "cannot store a object at x"), (np.array(["s"]), "<U1")]:
        with pytest.raises(TypeError, match=match):
            fnx.save(bad, path)
    assert fnx.load(path) == {"ok": 1}
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fnx.save({}, path.parent / "missing" / "x.safetensors")


# ----- atomic writes --------------------------------------------------------------------------------

def test_failed_save_keeps_old_checkpoint(path, monkeypatch):
    fnx.save({"w": fnp.ones(1000)}, path)
    before = path.read_bytes()

    def half_then_crash(f, data):
        f.write(memoryview(data)[:len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(fnx.io, "_write", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        fnx.save({"w": fnp.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind
    assert fnx.load(path)["w"].tolist() == [1.0] * 1000


def test_save_replaces_and_keeps_permissions(path):
    fnx.save({"v": 1}, path)
    os.chmod(path, 0o640)
    fnx.save({"v": 2}, path)
    assert fnx.load(path) == {"v": 2} and os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(path.parent) == [path.name]


# ----- damaged files --------------------------------------------------------------------------------

def valid_file(path):
    fnx.save({"w": fnp.arange(64.0), "meta": {"step": 1}}, path)
    return path.read_bytes()


@pytest.mark.parametrize("keep", [0, 5, 8, 20, "header", -1])
def test_truncated_file(path, keep):
    data = valid_file(path)
    n = 8 + int.from_bytes(data[:8], "little")
    path.write_bytes(data[:{"header": n}.get(keep, keep)] if keep != -1 else data[:-1])
    with pytest.raises(CheckpointError, match="truncated"):
        fnx.load(path)


def test_flipped_header_bytes(path):
    data = bytearray(valid_file(path))
    for pos in (3, 9, 30, 60):  # the length field, the JSON's first bytes, a tensor record
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        path.write_bytes(bytes(bad))
        with pytest.raises(CheckpointError, match="fnx.load"):
            fnx.load(path)


def test_every_single_bit_flip_in_the_header_is_caught(path):
    data = valid_file(path)
    n = 8 + int.from_bytes(data[:8], "little")
    for pos in range(n):
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            try:
                back = fnx.load(io.BytesIO(bytes(bad)))
            except CheckpointError:
                continue
            # a flip that changes nothing that matters (say, in padding) is fine; a silent change is not
            assert list(back) == ["w", "meta"] and back["meta"] == {"step": 1}, (pos, bit)
            assert back["w"].dtype == np.float32 and back["w"].tolist() == list(range(64)), (pos, bit)


def test_flipped_data_bytes_fail_the_checksum(path):
    data = bytearray(valid_file(path))
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        fnx.load(path)


def test_random_bytes_and_empty_file(path):
    rng = np.random.default_rng(0)
    for data in [rng.bytes(1000), b"", b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!", b"PK\x03\x04 zip"]:
        path.write_bytes(data)
        with pytest.raises(CheckpointError) as info:
            fnx.load(path)
        assert isinstance(info.value, ValueError) and "safetensors" in str(info.value)


def test_corrupt_structure_record(path, monkeypatch):
    from safetensors.numpy import save_file
    for tree in ["{", '{"array": "missing"}', '{"set": []}', '{"dict": [[{}, {"value": 1}]]}', "[1]"]:
        save_file({"x": np.ones(1)}, str(path), metadata={"format": "fnx", "version": "1", "tree": tree})
        with pytest.raises(CheckpointError, match="structure record|corrupt|does not hold"):
            fnx.load(path)
    save_file({"x": np.ones(1)}, str(path), metadata={"format": "fnx", "version": "99", "tree": "{}"})
    with pytest.raises(CheckpointError, match="version 99"):
        fnx.load(path)
    save_file({"x": np.ones(1)}, str(path), metadata={"format": "fnz", "version": "1", "tree": "{}",
                                                      "tree_crc32": "0"})
    with pytest.raises(CheckpointError, match="format marker"):
        fnx.load(path)
    # Another program's metadata may name a "tree": without fnx's records the file is a plain flat dict
    save_file({"x": np.ones(1)}, str(path), metadata={"tree": "x", "format": "pt"})
    assert list(fnx.load(path)) == ["x"]


def test_missing_file(path):
    with pytest.raises(FileNotFoundError):
        fnx.load(path)


def test_load_names_what_it_cannot_read(path):
    torch = pytest.importorskip("torch")
    import pickle
    import safetensors.torch
    torch.save({"w": torch.ones(2)}, str(path))
    with pytest.raises(CheckpointError, match="torch.save file .* never unpickles"):
        fnx.load(path)
    with pytest.raises(CheckpointError, match="a pickle; fnx never unpickles"):
        fnx.load(io.BytesIO(pickle.dumps({"w": 1})))
    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(CheckpointError, match="dtype BF16.*bfloat16"):
        fnx.load(path)


def test_crafted_structure_records_raise_checkpoint_errors():
    import sys
    import zlib
    from safetensors.numpy import save as to_bytes
    deep = {"value": 1}
    for _ in range(3000):
        deep = {"list": [deep]}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        deep_text = json.dumps(deep)
    finally:
        sys.setrecursionlimit(limit)
    for text in (deep_text, json.dumps({"complex_value": ["a", "b"]})):
        data = to_bytes({"x": np.ones(1, np.float32)}, metadata={"format": "fnx", "version": "1", "tree": text,
                                                                 "tree_crc32": str(zlib.crc32(text.encode()))})
        with pytest.raises(CheckpointError, match="structure record"):
            fnx.load(io.BytesIO(data))


def test_save_to_a_directory_or_through_a_link(path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        fnx.save({"a": 1}, os.path.dirname(str(path)))
    link = str(path) + ".link"
    fnx.save({"a": 1}, path)
    os.symlink(str(path), link)
    fnx.save({"a": 2}, link)  # written through the link, as torch.save does: the link stays a link
    assert os.path.islink(link) and fnx.load(path) == {"a": 2}


def test_a_multisteplr_state_with_its_counter_round_trips(path):
    opt = fnx.optim.SGD(fnx.nn.Linear(2, 2).parameters(), lr=0.1)
    sched = fnx.optim.lr_scheduler.MultiStepLR(opt, [3, 6, 6], 0.1)
    state = sched.state_dict()
    assert type(state["milestones"]) is collections.Counter
    fnx.save({"scheduler": state}, path)
    loaded = fnx.load(path)["scheduler"]
    assert loaded == state and type(loaded["milestones"]) is collections.Counter
    resumed = fnx.optim.lr_scheduler.MultiStepLR(fnx.optim.SGD(fnx.nn.Linear(2, 2).parameters(), lr=0.1), [1])
    resumed.load_state_dict(loaded)
    for _ in range(7):
        opt.step()
        sched.step()
        resumed.optimizer.step()
        resumed.step()
        assert resumed.get_last_lr() == sched.get_last_lr()


def test_a_header_whose_length_starts_with_0x80_is_not_taken_for_a_pickle(tmp_path):
    # One header length in 256 has 0x80 as its first (little-endian) byte, the byte a pickle starts with.
    path = str(tmp_path / "ckpt.safetensors")
    for pad in range(300):
        fnx.save({"w": fnp.ones(3), "note": "x" * pad}, path)
        with open(path, "rb") as f:
            if f.read(1) == b"\x80":
                break
    else:
        pytest.fail("no padding gave a header length starting with 0x80")
    assert fnx.load(path)["w"].tolist() == [1, 1, 1]


def test_a_key_named_like_safetensors_own_record_round_trips(tmp_path):
    path = str(tmp_path / "meta.safetensors")
    fnx.save({"__metadata__": fnp.ones(2), "x": 1}, path)
    back = fnx.load(path)
    assert back["__metadata__"].tolist() == [1, 1] and back["x"] == 1
