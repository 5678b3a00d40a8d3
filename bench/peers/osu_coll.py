"""OSU-style collective benchmarks for mpi4py on Open MPI, the peer that
rankflow's bench/run.ts measures side by side with bench/programs/coll.ts.

Run on any number of ranks:  mpirun -n 4 python3 bench/peers/osu_coll.py '<json spec>'
The spec: {"bench": "barrier"|"bcast"|"allreduce"|"alltoall", "api": "buffer"|"object",
"sizes": [...], "scale": 1.0}.
- barrier: comm.Barrier() (one size, 0).
- bcast: comm.Bcast of a bytearray of size bytes from root 0.
- allreduce, api "buffer": comm.Allreduce of size/8 doubles ([array('d'), MPI.DOUBLE])
  under MPI.SUM; api "object": comm.allreduce(x) of one float (size 8).
- alltoall: comm.Alltoall of bytearrays, size bytes per pair of ranks.
Every rank times each call and averages over the iterations; the figure is
the max of those averages over the ranks, in microseconds per call. As in
OSU (and coll.ts), an untimed Barrier follows each call but in the barrier
benchmark. Each figure is the median of three runs. Rank 0 prints one JSON
line: [{"size": n, "value": x, "iters": k}, ...]. The iteration counts follow
the same rule as bench/programs/coll.ts; each run checks its result once.
"""
import json
import math
import sys
import time
from array import array

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
p = comm.Get_size()
spec = json.loads(sys.argv[1])
SUM = p * (p + 1) // 2  # of rank + 1 over the ranks


def js_round(x):
    return math.floor(x + 0.5)  # JavaScript's Math.round, as coll.ts rounds


def iterations(size, scale):
    n = 1000 if size <= 8192 else 100
    iters = max(5, js_round(n * scale))
    return iters, max(2, js_round(iters / 10))


def fail(size, what):
    raise SystemExit(f"osu_coll: {spec['bench']} ({spec['api']}, {size} B, {p} ranks): rank {rank} got {what}")


def make_case(size):
    """(reset, call, check) for one size."""
    bench = spec["bench"]
    if bench == "barrier":
        return (lambda: None), comm.Barrier, (lambda: None)
    if bench == "bcast":
        buf = bytearray(size)

        def reset():
            buf[:] = (b"\xa5" if rank == 0 else b"\x00") * size

        def check():
            if buf.count(0xA5) != size:
                fail(size, "a wrong byte")

        return reset, (lambda: comm.Bcast(buf, root=0)), check
    if bench == "allreduce" and spec["api"] == "object":
        got = [None]

        def call():
            got[0] = comm.allreduce(float(rank + 1))

        def check():
            if got[0] != SUM:
                fail(size, f"{got[0]}, not {SUM}")

        return (lambda: got.__setitem__(0, None)), call, check
    if bench == "allreduce":
        n = max(1, size >> 3)
        send = array("d", [float(rank + 1)]) * n
        recv = array("d", [0.0]) * n

        def reset():
            recv[:] = array("d", [0.0]) * n

        def check():
            if recv.count(float(SUM)) != n:
                fail(size, f"a wrong element, not {SUM}")

        return reset, (lambda: comm.Allreduce([send, MPI.DOUBLE], [recv, MPI.DOUBLE], op=MPI.SUM)), check
    if bench == "alltoall":
        send = bytearray()
        for j in range(p):
            send += bytes([(31 * rank + j) & 255]) * size
        recv = bytearray(size * p)
        want = bytearray()
        for i in range(p):
            want += bytes([(31 * i + rank) & 255]) * size

        def reset():
            recv[:] = bytes(size * p)

        def check():
            if recv != want:
                fail(size, "a wrong block")

        return reset, (lambda: comm.Alltoall(send, recv)), check
    raise SystemExit(f"osu_coll: unknown benchmark {bench}")


def measure(case, iters, warmup):
    """Microseconds per call on this rank."""
    reset, call, check = case
    reset()
    total = 0.0
    if spec["bench"] == "barrier":
        t0 = 0.0
        for i in range(iters + warmup):
            if i == warmup:
                t0 = time.perf_counter()
            call()
        total = time.perf_counter() - t0
    else:
        for i in range(iters + warmup):
            t = time.perf_counter()
            call()
            if i >= warmup:
                total += time.perf_counter() - t
            comm.Barrier()
    check()
    return total * 1e6 / iters


out = []
for size in spec["sizes"]:
    case = make_case(size)
    iters, warmup = iterations(size, spec["scale"])
    runs = []
    for _ in range(3):
        comm.Barrier()  # line up before each run
        runs.append(comm.allreduce(measure(case, iters, warmup), op=MPI.MAX))
    runs.sort()
    out.append({"size": size, "value": runs[1], "iters": iters})
if rank == 0:
    print(json.dumps(out), flush=True)
