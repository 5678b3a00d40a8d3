"""OSU-style point-to-point benchmarks for mpi4py on Open MPI, the peer that
rankflow's bench/run.ts measures side by side with itself.

Run on two ranks:  mpirun -n 2 python3 bench/peers/osu.py '<json spec>'
The spec: {"bench": "latency"|"bw"|"rate"|"persistent", "api": "buffer"|"object",
"data": "typed"|"list"|"dict", "sizes": [...], "scale": 1.0, "window": 64}.
Rank 0 prints one JSON line: [{"size": n, "value": x, "iters": k}, ...] with the
same units as rankflow's figures (microseconds one way, MB/s, messages/s).
The iteration counts follow the same rule as bench/programs/p2p.ts.
"""
import json
import sys
import time

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
peer = 1 - rank
spec = json.loads(sys.argv[1])
DICT = {"a": 1, "b": "hello", "c": [1, 2, 3]}


def iterations(size, scale):
    n = 10000 if size <= 8192 else 1000 if size <= 262144 else 200
    iters = max(5, round(n * scale))
    return iters, max(2, round(iters / 10))


def payload(data, size):
    if data in ("typed", "bytes"):
        return bytearray(b"\x01" * size)
    if data == "list":
        return [i + 0.5 for i in range(max(1, size >> 3))]
    return DICT


def latency(size):
    iters, warmup = iterations(size, spec["scale"])
    msg = payload(spec["data"], size)
    buf = bytearray(size)
    buffer_api = spec["api"] == "buffer"
    if spec["bench"] == "persistent":
        s = comm.Send_init(msg, peer, 1)
        r = comm.Recv_init(buf, peer, 1)
    t0 = 0.0
    for i in range(iters + warmup):
        if i == warmup:
            t0 = time.perf_counter()
        if spec["bench"] == "persistent":
            if rank == 0:
                s.Start(); s.Wait(); r.Start(); r.Wait()
            else:
                r.Start(); r.Wait(); s.Start(); s.Wait()
        elif buffer_api:
            if rank == 0:
                comm.Send(msg, peer, 1); comm.Recv(buf, peer, 1)
            else:
                comm.Recv(buf, peer, 1); comm.Send(msg, peer, 1)
        else:
            if rank == 0:
                comm.send(msg, peer, 1); comm.recv(source=peer, tag=1)
            else:
                comm.recv(source=peer, tag=1); comm.send(msg, peer, 1)
    return (time.perf_counter() - t0) * 1e6 / iters / 2, iters


def windowed(size):
    window = spec.get("window", 64)
    n, w = iterations(size, spec["scale"])
    iters = max(3, round(n / 20))
    warmup = max(1, round(w / 20))
    msg = payload(spec["data"], size)
    buf = bytearray(size)
    ack = bytearray(4)
    t0 = 0.0
    for i in range(iters + warmup):
        if i == warmup:
            t0 = time.perf_counter()
        if rank == 0:
            reqs = [comm.Isend(msg, 1, 2) for _ in range(window)]
            MPI.Request.Waitall(reqs)
            comm.Recv(ack, 1, 3)
        else:
            reqs = [comm.Irecv(buf, 0, 2) for _ in range(window)]
            MPI.Request.Waitall(reqs)
            comm.Send(ack, 0, 3)
    seconds = time.perf_counter() - t0
    messages = iters * window
    return (messages / seconds if spec["bench"] == "rate" else size * messages / seconds / 1e6), iters


out = []
inner = 3 if spec["bench"] in ("latency", "persistent") else 1  # as bench/programs/p2p.ts
for size in spec["sizes"]:
    runs = []
    for _ in range(inner):
        comm.sendrecv(None, peer, 9, None, peer, 9)
        runs.append(latency(size) if spec["bench"] in ("latency", "persistent") else windowed(size))
    runs.sort()
    value, iters = runs[len(runs) // 2]
    out.append({"size": size, "value": value, "iters": iters})
if rank == 0:
    print(json.dumps(out), flush=True)
