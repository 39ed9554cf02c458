"""Where trials run: local worker processes (the default), a Dask cluster or a Ray cluster, each through
its own ``concurrent.futures``-style executor.

``process``
    ``concurrent.futures.ProcessPoolExecutor`` with ``jobs`` workers (started by ``spawn``: a forked
    child of a process that has run OpenMP can hang).
``dask`` / ``dask://HOST:PORT``
    A local Dask cluster of ``jobs`` single-threaded worker processes, or the scheduler at that address;
    trials go through ``distributed.Client.get_executor()``.
``ray`` / ``ray://HOST:PORT``
    A local Ray, or the cluster at that address; each trial is a Ray task of one CPU, its ``ObjectRef``
    turned into a ``concurrent.futures.Future`` by Ray (``ObjectRef.future()``).

On a cluster the workers open the study's store themselves, so it must be reachable from them: a journal
file on a shared filesystem, or an RDB URL (``--storage postgresql://...``).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
from dataclasses import dataclass


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass
class Pool:
    """An open executor.

    Parameters
    ----------
    executor : concurrent.futures.Executor
    slots : int
        Trials it runs at once (the search keeps that many in flight).
    threads : int
        fastopt threads per trial, so that the trials together fill the cores without oversubscribing them.
    name : str
        What it is, for messages.
    """

    executor: concurrent.futures.Executor
    slots: int
    threads: int
    name: str


def check_executor(spec: str) -> str:
    """``spec`` if it names an executor, else ValueError naming the forms.

    Parameters
    ----------
    spec : str
        ``process``, ``dask``, ``dask://HOST:PORT``, ``ray`` or ``ray://HOST:PORT``.
    """
    kind, sep, address = spec.partition("://")
    if kind not in ("process", "dask", "ray") or (sep and (kind == "process" or not address)):
        raise ValueError(f"executor: expected process, dask, dask://HOST:PORT, ray or ray://HOST:PORT, got {spec!r}")
    return spec


@contextlib.contextmanager
def open_pool(spec: str = "process", jobs: int | None = None, threads: int | None = None):
    """Open the executor named by ``spec`` for the duration of a ``with`` block.

    Parameters
    ----------
    spec : str
        See :func:`check_executor`.
    jobs : int, optional
        Trials at once on a local executor (default: the usable cores); a remote cluster runs as many as
        it has worker threads (Dask) or CPUs (Ray).
    threads : int, optional
        fastopt threads per trial (default: the cores divided among the local trials; 1 on a remote cluster,
        one trial per worker thread).

    Yields
    ------
    Pool
    """
    check_executor(spec)
    kind, _, address = spec.partition("://")
    cores = usable_cores()
    jobs = jobs or cores
    local_threads = threads or max(1, cores // jobs)
    if kind == "process":
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as ex:
            yield Pool(ex, jobs, local_threads, f"{jobs} local processes")
    elif kind == "dask":
        with _dask(address, jobs) as (executor, slots):
            yield Pool(executor, slots, local_threads if not address else threads or 1,
                       f"Dask {'at ' + address if address else 'local cluster'} ({slots} worker threads)")
    else:
        with _ray(address, jobs) as (executor, slots):
            yield Pool(executor, slots, local_threads if not address else threads or 1,
                       f"Ray {'at ' + address if address else 'local'} ({slots} CPUs)")


def _missing(what: str, e: ImportError):
    extra = "tune-cluster" if what == "dask" else "tune-ray"
    return ImportError(f"--executor {what}: needs {what}: pip install 'fastopt[{extra}]' ({e})")


@contextlib.contextmanager
def _dask(address: str, jobs: int):
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise _missing("dask", e) from None
    with contextlib.ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(f"tcp://{address}" if "://" not in address else address))
        else:  # loopback only: nothing outside this machine may join
            cluster = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        slots = sum(client.nthreads().values())
        yield client.get_executor(pure=False), slots


class RayExecutor(concurrent.futures.Executor):
    """``submit(fn, *args)`` as a Ray task of one CPU, returning Ray's ``concurrent.futures.Future`` of it.

    Parameters
    ----------
    ray : module
        The imported, initialised ``ray``.
    """

    def __init__(self, ray):
        self._ray = ray
        self._remote = {}

    def submit(self, fn, /, *args, **kwargs):
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_cpus=1, max_retries=0)(fn)
        return self._remote[fn].remote(*args, **kwargs).future()


@contextlib.contextmanager
def _ray(address: str, jobs: int):
    try:
        import ray
    except ImportError as e:
        raise _missing("ray", e) from None
    if address:
        ray.init(address=f"ray://{address}", log_to_driver=False)
    else:
        ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    try:
        yield RayExecutor(ray), int(ray.cluster_resources().get("CPU", jobs))
    finally:
        ray.shutdown()
