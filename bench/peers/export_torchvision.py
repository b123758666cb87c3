#!/usr/bin/python3
"""Exports the peer models to ONNX with Debian's python3-torch / python3-torchvision:
random weights (latency does not depend on them), batch 1, 224x224, opset 14,
batch norm kept as its own nodes (TrainingMode.PRESERVE on an eval-mode model)
so that the parameter count read back from the file is torchvision's.
MobileNetV1 is not in torchvision; it is written out here from the paper's Table 1.

Usage: /usr/bin/python3 bench/peers/export_torchvision.py OUTDIR
Prints each model's parameter count (sum of parameters()), which must equal
`convscope-cli stats NAME --convention torchvision`.
"""
import os
import sys

import torch
import torchvision


def conv_bn(cin, cout, k, stride, groups=1):
    return torch.nn.Sequential(
        torch.nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
        torch.nn.BatchNorm2d(cout), torch.nn.ReLU(inplace=True))


class MobileNetV1(torch.nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
        layers = [conv_bn(3, 32, 3, 2)]
        cin = 32
        for cout, s in cfg:
            layers += [conv_bn(cin, cin, 3, s, groups=cin), conv_bn(cin, cout, 1, 1)]
            cin = cout
        self.features = torch.nn.Sequential(*layers)
        self.fc = torch.nn.Linear(1024, classes)

    def forward(self, x):
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


MODELS = {
    "mobilenet_v1": MobileNetV1,
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(weights=None),
    "mobilenet_v3_large": lambda: torchvision.models.mobilenet_v3_large(weights=None),
    "mobilenet_v3_small": lambda: torchvision.models.mobilenet_v3_small(weights=None),
    "squeezenet1_0": lambda: torchvision.models.squeezenet1_0(weights=None),
    "squeezenet1_1": lambda: torchvision.models.squeezenet1_1(weights=None),
    "shufflenet_v2_x1_0": lambda: torchvision.models.shufflenet_v2_x1_0(weights=None),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(weights=None),
    # Without the auxiliary classifiers (training-only heads; not in an eval-mode export).
    "googlenet": lambda: torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name, make in MODELS.items():
        model = make().eval()
        params = sum(p.numel() for p in model.parameters())
        path = os.path.join(out, name + ".onnx")
        with torch.no_grad():
            torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=14, input_names=["input"],
                              output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE)
        print(f"{name} {params} {path}")


if __name__ == "__main__":
    main()
