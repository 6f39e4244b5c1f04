#!/usr/bin/env python3
"""Times the `implicit` library's ALS on a "user item value" file: seconds per iteration of fit(), the
reference bench/implicit.sh prints beside pg_recommend's. The library is built from its public source
outside this repository and found on PYTHONPATH (never committed).

usage: PYTHONPATH=... python3 bench/implicit_peer.py TRAIN FACTORS ITERATIONS THREADS [cg|cholesky]
prints: implicit_seconds_per_iteration S
"""
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as implicit asks: its own threads only
import numpy as np
import scipy.sparse as sp

from implicit.cpu.als import AlternatingLeastSquares

train, factors, iterations, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
solver = sys.argv[5] if len(sys.argv) > 5 else "cg"
rows = np.loadtxt(train, dtype=np.float64, usecols=(0, 1, 2))
users, items = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
matrix = sp.csr_matrix((rows[:, 2].astype(np.float32), (users, items)),
                       shape=(int(users.max()) + 1, int(items.max()) + 1))
matrix.sum_duplicates()
model = AlternatingLeastSquares(factors=factors, iterations=iterations, regularization=0.01, alpha=1.0,
                                use_cg=solver == "cg", calculate_training_loss=False,
                                num_threads=threads, dtype=np.float32, random_state=42)
start = time.perf_counter()
model.fit(matrix, show_progress=False)
print(f"implicit_seconds_per_iteration {(time.perf_counter() - start) / iterations:.4f}")
