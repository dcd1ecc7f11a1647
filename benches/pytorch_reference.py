#!/usr/bin/env python3
"""PyTorch reference for `cargo bench --bench versus_pytorch`.

The same models as vaeser's (SPEC §3 and §4), initialised the PyTorch way,
with the same losses and Adam settings:

- classifier: 2-layer nn.LSTM (time-major, gate order i, f, g, o), the last
  layer's hidden state at the last step, Linear(hidden, 64) + ReLU,
  Linear(64, classes); mean cross-entropy; Adam lr 1e-3, betas (0.9, 0.999),
  eps 1e-8. Inference: the logits under torch.no_grad().
- VAE: encoder 800-512-256 (ReLU), heads 256 -> L for mu and log sigma^2,
  z = mu + eps * exp(0.5 logvar) with fixed noise, decoder L-256-512-800
  (ReLU, linear output); loss = summed squared error + KL, averaged over the
  batch; Adam as above. Inference: mu and logvar of the encoder (what the
  feature extraction computes) under torch.no_grad().

Run as a server by the Rust bench: one command per line on stdin,
`<workload> <hidden> <batch> <threads> <reps>`, answered on stdout with
`ok <median seconds> <warm-up iterations> <median CPU seconds>`. Warm-up runs until the process's
minor page faults stop growing (a fresh process runs the LSTM ~35% slower
until glibc's allocator has settled), then `reps` timed calls follow.
`python3 pytorch_reference.py --once classifier_train 128 32 1 5` runs one
command by hand.
"""

import resource
import statistics
import sys
import time

import torch
from torch import nn

STEPS = 50
INPUT = 128
DENSE = 64
CLASSES = 4
VAE_SIZES = (800, 512, 256, 128)


class Classifier(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(INPUT, hidden, num_layers=2)
        self.fc = nn.Linear(hidden, DENSE)
        self.out = nn.Linear(DENSE, CLASSES)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(torch.relu(self.fc(h[-1])))


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        d, h1, h2, lat = VAE_SIZES
        self.enc = nn.Sequential(nn.Linear(d, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU())
        self.mu = nn.Linear(h2, lat)
        self.logvar = nn.Linear(h2, lat)
        self.dec = nn.Sequential(
            nn.Linear(lat, h2), nn.ReLU(), nn.Linear(h2, h1), nn.ReLU(), nn.Linear(h1, d)
        )

    def encode(self, x):
        e = self.enc(x)
        return self.mu(e), self.logvar(e)

    def loss(self, x, eps):
        mu, logvar = self.encode(x)
        z = mu + eps * torch.exp(0.5 * logvar)
        y = self.dec(z)
        recon = ((y - x) ** 2).sum() / x.shape[0]
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / x.shape[0]
        return recon + kl


def make(workload, hidden, batch):
    """A closure running one call of `workload`."""
    g = torch.Generator().manual_seed(1)
    if workload.startswith("classifier"):
        model = Classifier(hidden)
        x = torch.rand(STEPS, batch, INPUT, generator=g) * 2 - 1
        labels = torch.arange(batch) % CLASSES
        if workload == "classifier_train":
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
            lossf = nn.CrossEntropyLoss()

            def step():
                opt.zero_grad(set_to_none=False)
                loss = lossf(model(x), labels)
                loss.backward()
                opt.step()

            return step

        def infer():
            with torch.no_grad():
                model(x)

        return infer
    if workload.startswith("vae"):
        model = Vae()
        x = torch.randn(batch, VAE_SIZES[0], generator=g)
        eps = torch.randn(batch, VAE_SIZES[-1], generator=g)
        if workload == "vae_train":
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

            def step():
                opt.zero_grad(set_to_none=False)
                model.loss(x, eps).backward()
                opt.step()

            return step

        def infer():
            with torch.no_grad():
                model.encode(x)

        return infer
    raise ValueError(f"unknown workload {workload}")


def minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def warm_up(f, max_iters=300, quiet=3):
    """Calls `f` until `quiet` calls in a row add no minor page fault."""
    calm = 0
    for i in range(max_iters):
        before = minflt()
        f()
        calm = calm + 1 if minflt() == before else 0
        if calm >= quiet and i >= 5:
            return i + 1
    return max_iters


CACHE = {}


def run(workload, hidden, batch, threads, reps):
    torch.set_num_threads(threads)
    key = (workload, hidden, batch)
    if key not in CACHE:
        CACHE[key] = [make(workload, hidden, batch), None]
    entry = CACHE[key]
    f = entry[0]
    warm = warm_up(f) if entry[1] != threads else 0
    entry[1] = threads
    times, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        f()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), warm, statistics.median(cpu)


def main():
    torch.manual_seed(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--once":
        w, h, b, th, reps = sys.argv[2], *map(int, sys.argv[3:7])
        t, warm, _ = run(w, h, b, th, reps)
        print(f"{w} hidden {h} batch {b} threads {th}: median {t * 1e3:.3f} ms (warm-up {warm})")
        return
    print(f"ready torch {torch.__version__} mkldnn {torch.backends.mkldnn.is_available()}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        w, h, b, th, reps = parts[0], *map(int, parts[1:5])
        t, warm, cpu = run(w, h, b, th, reps)
        print(f"ok {t:.9f} {warm} {cpu:.9f}", flush=True)


if __name__ == "__main__":
    main()
