import os
import tempfile

import pytest

# Compiled code is cached on disk; tests use a private cache so that they exercise
# compilation from scratch and never read a stale cache of another checkout.
os.environ.setdefault("REPLICA_CACHE_DIR", tempfile.mkdtemp(prefix="replica-test-cache-"))


@pytest.fixture(scope="session")
def binary():
    from solvers.codegen import compile_model
    return compile_model("binary-perceptron")


@pytest.fixture(scope="session")
def spherical():
    from solvers.codegen import compile_model
    return compile_model("spherical-perceptron")
