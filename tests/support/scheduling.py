"""xdist's ``--dist loadgroup``, mended: every combination's tests on one worker."""

import pytest
from xdist.scheduler import LoadGroupScheduling

from tests.support.options import combination_of


class CombinationGroupScheduling(LoadGroupScheduling):
    """``--dist loadgroup`` that also works on pytest 9.2.

    xdist 3.8 tells the controller a test's group by appending ``@<group>`` to the
    test's nodeid on the worker, but pytest 9.2 no longer lets it change a nodeid, so
    every test becomes its own group (pytest-dev/pytest-xdist#1386). The group of a
    per-combination test is its ``xdist_group`` mark, which is its combination id,
    which is also (part of, with other parameters) its parametrize id: read it there.
    """

    def _split_scope(self, nodeid):
        if nodeid.rfind("@") > nodeid.rfind("]"):  # xdist's own suffix, once fixed
            return super()._split_scope(nodeid)
        return combination_of(nodeid) or nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup":
        return CombinationGroupScheduling(config, log)
    return None
