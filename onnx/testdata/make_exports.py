#!/usr/bin/env python3
"""Writes the PyTorch exports onnx_import_test checks Strata against.

For each model: <name>.onnx (eval mode, opset 13), <name>_input.f32 (a fixed
input, raw little-endian float32) and <name>_output.f32 (PyTorch's output on
it). Run from the repository root with Debian's PyTorch 1.13 (python3-torch):

    python3 onnx/testdata/make_exports.py

- lenet5: the zoo's LeNet-5 (zoo/lenet5.cc): CONV(6,5x5,pad 2)-POOL-
  CONV(16,5x5)-POOL-CONV(120,5x5)-FC(84)-FC(10), ReLU, 2x2 max pooling.
- small_cnn: the other ops torchvision's exports use, in a few hundred
  parameters: batch norm kept as BatchNormalization (no constant folding),
  ceil-mode max pooling, average pooling counting its padding, a
  residual Add, Concat, global average pooling, Flatten, Gemm and Softmax.
  (PyTorch traces nn.LocalResponseNorm into pads, slices and 3-D pooling
  rather than ONNX's LRN, so the tests build their LRN models themselves.)
"""
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c3(x)), 2)
        x = torch.flatten(torch.relu(self.c5(x)), 1)
        return self.output(torch.relu(self.f6(x)))


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.branch_a = nn.Conv2d(8, 4, 1)
        self.branch_b = nn.Conv2d(8, 4, 3, padding=1, groups=2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool2 = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = torch.cat([self.branch_a(x), self.branch_b(x)], 1)
        x = torch.relu(x + self.bn2(self.conv2(x)))
        x = self.pool2(x)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.fc(x), 1)


def export(name, model, shape, **kwargs):
    torch.manual_seed(1)
    x = torch.randn(*shape)
    model.eval()
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(HERE, name + ".onnx"), opset_version=13,
                      input_names=["input"], output_names=["output"], **kwargs)
    x.numpy().astype("<f4").tofile(os.path.join(HERE, name + "_input.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(HERE, name + "_output.f32"))
    print(name, tuple(x.shape), "->", tuple(y.shape))


def main():
    torch.manual_seed(0)
    export("lenet5", LeNet5(), (2, 1, 28, 28))
    torch.manual_seed(0)
    cnn = SmallCnn()
    with torch.no_grad():  # running statistics that are not the defaults
        for bn in (cnn.bn1, cnn.bn2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    export("small_cnn", cnn, (2, 3, 17, 17), do_constant_folding=False,
           training=torch.onnx.TrainingMode.PRESERVE)


if __name__ == "__main__":
    main()
