#!/usr/bin/python3
"""PyTorch 1.13 reference for `strata train --model=lenet5`: the same LeNet-5, data
(data/mnist, 8,000 train / 2,000 test), normalisation and recipe (SGD lr 0.05,
momentum 0.9, weight decay 5e-4, batch 64, 10 epochs, full batches only).
Prints the test accuracy after every epoch.
Usage: bench/torch_lenet_mnist.py [seed] [epoch at whose start lr is divided by 10, 0: never]"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist")


def idx(name):
    with gzip.open(os.path.join(here, name)) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        x = F.relu(self.c5(x)).flatten(1)
        return self.out(F.relu(self.f6(x)))


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    decay_epoch = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    norm = lambda a: (torch.tensor(a, dtype=torch.float32).unsqueeze(1) / 255.0 - 0.1307) / 0.3081
    xtr, ytr = norm(idx("train-images-idx3-ubyte.gz")), torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.long)
    xte, yte = norm(idx("test-images-idx3-ubyte.gz")), torch.tensor(idx("test-labels-idx1-ubyte.gz"), dtype=torch.long)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    for epoch in range(1, 11):
        if epoch == decay_epoch:
            for group in opt.param_groups:
                group["lr"] *= 0.1
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(len(xtr) // 64):
            b = perm[i * 64:(i + 1) * 64]
            opt.zero_grad()
            F.cross_entropy(model(xtr[b]), ytr[b]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch}/10 test accuracy {100 * acc:.2f}%")


if __name__ == "__main__":
    main()
