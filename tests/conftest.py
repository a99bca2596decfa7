import numpy as np
import pytest

import kerasnp
from kerasnp import config, random as kr


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts with float32, fresh layer names and no global seed."""
    old_floatx = config.floatx()
    kerasnp.utils.clear_session()
    kr._state.update(seed=None, count=0)
    yield
    config.set_floatx(old_floatx)


@pytest.fixture
def float64():
    config.set_floatx("float64")
    yield
    config.set_floatx("float32")
