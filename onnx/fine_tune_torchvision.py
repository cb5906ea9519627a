#!/usr/bin/env python3
"""Fine-tunes torchvision's ResNet-18, imported from ONNX, in Strata.

Exports ResNet-18 (eval mode, opset 13) with its batch norms kept as
BatchNormalization nodes (no constant folding, so that Strata trains them with
batch statistics as PyTorch's train mode does) and a symbolic batch
dimension, then runs //onnx:fine_tune_onnx on it: SGD with momentum 0.9 on one
random batch, the loss of every step, a Strata checkpoint, and a check that a
fresh import restored from the checkpoint gives the fine-tuned logits.

    bazel build //onnx:fine_tune_onnx && python3 onnx/fine_tune_torchvision.py [--steps=10 --batch=8]
"""
import os
import subprocess
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "bazel-bin", "onnx", "fine_tune_onnx")


def main():
    os.makedirs("/tmp/strata_onnx", exist_ok=True)
    path = "/tmp/strata_onnx/resnet18_bn.onnx"
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13, do_constant_folding=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    args = sys.argv[1:] or ["--steps=10", "--batch=8"]
    return subprocess.run([TOOL, path, "--checkpoint=/tmp/strata_onnx/resnet18_fine_tuned.ckpt"] + args).returncode


if __name__ == "__main__":
    sys.exit(main())
