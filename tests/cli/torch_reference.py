#!/usr/bin/python3
"""Writes what `convscope-cli run --compare` is tested against: a torchvision model
exported to ONNX (opset 14) and torch's own output on a random input.

Usage: /usr/bin/python3 tests/cli/torch_reference.py MODEL BATCH OUTDIR
Writes OUTDIR/MODEL.onnx, MODEL_in.npy (NCHW), MODEL_in_nhwc.npy and MODEL_out.npy.
Random weights; batch-norm statistics and affine terms are randomised too, so
that folding them into the convolutions is tested, not skipped by identity values.
"""
import os
import sys

import numpy
import torch
import torchvision


def main():
    name, batch, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        x = torch.randn(batch, 3, 224, 224)
        y = model(x)
        torch.onnx.export(model, x[:1], os.path.join(out, name + ".onnx"), opset_version=14,
                          input_names=["input"], output_names=["output"])
    numpy.save(os.path.join(out, name + "_in.npy"), x.numpy())
    numpy.save(os.path.join(out, name + "_in_nhwc.npy"), numpy.ascontiguousarray(x.permute(0, 2, 3, 1).numpy()))
    numpy.save(os.path.join(out, name + "_out.npy"), y.numpy())
    print(name, tuple(y.shape), float(y.abs().max()))


if __name__ == "__main__":
    main()
