#!/usr/bin/env python3
"""Runs torchvision's AlexNet, VGG-11, ResNet-18, ResNet-50 and GoogLeNet in
PyTorch and, exported to ONNX, in Strata, on the same input, and prints the
largest difference between the two outputs relative to PyTorch's largest
output magnitude (max|strata - torch| / max|torch|), and the largest
element-wise relative difference among outputs above 1% of that magnitude.

    bazel build //onnx:run_onnx && python3 onnx/compare_torchvision.py [names]

Weights are random (seed 0: no downloads here): torchvision's initialisation,
then He-normal convolutions and non-trivial batch-norm statistics, so that
the signal keeps its scale through every layer (with GoogLeNet's own
std-0.01 initialisation the logits are just the last layer's bias, which
would compare nothing). PyTorch folds eval-mode batch norm into the
convolutions when it exports. The exports go to /tmp/strata_onnx (hundreds of MB: they are not committed).
"""
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision

OUT = "/tmp/strata_onnx"
RUN_ONNX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bazel-bin", "onnx", "run_onnx")
MODELS = {
    "alexnet": lambda: torchvision.models.alexnet(),
    "vgg11": lambda: torchvision.models.vgg11(),
    "resnet18": lambda: torchvision.models.resnet18(),
    "resnet50": lambda: torchvision.models.resnet50(),
    "googlenet": lambda: torchvision.models.googlenet(init_weights=True, aux_logits=False),
}


def lively(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    return model


def compare(name):
    torch.manual_seed(0)
    model = lively(MODELS[name]()).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = model(x).numpy().ravel()
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"])
    x.numpy().astype("<f4").tofile(os.path.join(OUT, name + "_input.f32"))
    start = time.time()
    subprocess.run([RUN_ONNX, path, os.path.join(OUT, name + "_input.f32"),
                    os.path.join(OUT, name + "_strata.f32")], check=True, stdout=subprocess.DEVNULL)
    seconds = time.time() - start
    got = np.fromfile(os.path.join(OUT, name + "_strata.f32"), dtype="<f4")
    scale = np.abs(expected).max()
    rel = np.abs(got - expected).max() / scale
    big = np.abs(expected) > 0.01 * scale
    elementwise = (np.abs(got - expected)[big] / np.abs(expected)[big]).max()
    print(f"{name:10s} max|torch| = {scale:.3g}  max|diff|/max|torch| = {rel:.2e}  max elementwise rel (|torch| > 1% of max) = "
          f"{elementwise:.2e}  argmax equal: {got.argmax() == expected.argmax()}  "
          f"(import+run {seconds:.1f} s)", flush=True)
    return rel


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(MODELS)
    worst = max(compare(n) for n in names)
    print(f"worst: {worst:.2e} ({'within' if worst <= 1e-4 else 'NOT within'} 1e-4)")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
