"""set_num_threads is one process-wide setting: what one Python thread sets, every thread reads."""
import threading

import pytest

import fastopt


def in_thread(fn):
    result = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join()
    return result[0]


@pytest.mark.skipif(not fastopt.build_info()["openmp"], reason="a serial build always uses one thread")
@pytest.mark.parametrize("n", [1, 3])
def test_a_setting_made_in_one_thread_holds_in_others(n, num_threads):
    in_thread(lambda: fastopt.set_num_threads(n))
    assert in_thread(fastopt.get_num_threads) == n
    assert fastopt.get_num_threads() == n
    assert in_thread(lambda: fastopt.build_info()["num_threads"]) == n
