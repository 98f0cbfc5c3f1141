import importlib.util
import os
import tempfile

HERE = os.path.dirname(__file__)
spec = importlib.util.spec_from_file_location("train", os.path.join(HERE, "..", "src", "train.py"))
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)


def test_next_version_starts_at_one():
    with tempfile.TemporaryDirectory() as d:
        assert train.next_version(os.path.join(d, "missing")) == 1


def test_next_version_increments():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "1"))
        os.makedirs(os.path.join(d, "3"))
        assert train.next_version(d) == 4
