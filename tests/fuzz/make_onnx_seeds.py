#!/usr/bin/env python3
"""Writes the PyTorch-exported seeds of corpus/onnx_import (tiny models in the
shapes torch.onnx gives the patterns the importer knows: Conv + BatchNormalization,
Clip(0, 6), HardSwish, HardSigmoid, Sigmoid * x, channel shuffle as
Reshape-Transpose-Reshape, Split, Concat, Resize, pooling, Flatten + Gemm).
The other seeds come from `convscope-cli export --to onnx` on corpus/graph_json.
Run: python3 tests/fuzz/make_onnx_seeds.py (needs torch; not part of the build)."""
import os

import torch
from torch import nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "onnx_import")


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, 1, 1, groups=8, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.se_fc1 = nn.Conv2d(8, 4, 1)
        self.se_fc2 = nn.Conv2d(4, 8, 1)
        self.pw = nn.Conv2d(8, 8, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = self.dw(self.stem(x))
        s = x.mean((2, 3), keepdim=True)
        s = nn.functional.hardsigmoid(self.se_fc2(torch.relu(self.se_fc1(s))))
        x = x * s
        a, b = x.chunk(2, dim=1)
        b = torch.sigmoid(b) * b
        x = torch.cat([a, b], 1)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
        x = self.pool(self.up(self.pw(x)))
        x = torch.cat([nn.functional.adaptive_avg_pool2d(x, 1), nn.functional.adaptive_max_pool2d(x, 1)], 1)
        return self.fc(torch.flatten(x, 1))


def main():
    torch.manual_seed(0)
    model = Tiny().eval()
    torch.onnx.export(model, torch.randn(1, 3, 8, 8), os.path.join(HERE, "torch_tiny.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"])


if __name__ == "__main__":
    main()
