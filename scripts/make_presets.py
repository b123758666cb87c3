#!/usr/bin/env python3
"""Writes presets/*.json from the architecture tables of the papers and of
torchvision / Keras. The presets are ordinary graph files; this script only
saves typing and keeps them consistent. After running it, canonicalise with
`convscope-cli format --in-place presets/*.json`.

Usage: scripts/make_presets.py [OUTDIR]   (default: presets/)
"""
import json
import os
import sys


class Net:
    def __init__(self, name, description, resolution=224, classes=1000, alpha=1.0):
        self.name = name
        self.description = description
        self.settings = {"alpha": alpha, "resolution": resolution, "classes": classes}
        self.blocks = []
        self.ids = set()

    def add(self, id_, kind, inputs=None, **params):
        assert id_ not in self.ids, id_
        self.ids.add(id_)
        b = {"id": id_, "kind": kind}
        if inputs:
            b["inputs"] = inputs if isinstance(inputs, list) else [inputs]
        b.update(params)
        self.blocks.append(b)
        return id_

    def write(self, path):
        doc = {"format": "convscope-graph", "version": 1, "name": self.name,
               "description": self.description, "settings": self.settings, "blocks": self.blocks}
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")


# MobileNetV1's Table 1 after the stem: (output channels, stride) of its 13 separable layers,
# also the skeleton of the IGCV2 and segmentation presets.
MOBILENET_V1_LAYERS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
    [(1024, 2), (1024, 1)]


def mobilenet_v1():
    n = Net("MobileNetV1 1.0/224", "Howard et al. 2017, Table 1: standard 3x3 conv, 13 depthwise-separable "
            "layers, global average pool, fully connected classifier.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=32, stride=2)
    cfg = MOBILENET_V1_LAYERS
    for i, (c, s) in enumerate(cfg, 1):
        x = n.add(f"sep{i}", "separable", x, out=c, stride=s)
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def igcv2_mobilenet():
    n = Net("IGCV2 on MobileNetV1 1.0/224", "Xie et al. 2018 (IGCV2): MobileNetV1's skeleton (Table 1) with each "
            "depthwise-separable layer replaced by an IGCV2 block: channel-wise 3x3, then two interleaved group 1x1 "
            "convolutions (L = 3) whose branch sizes multiply to the input channels (strict complementary "
            "condition), the last one mapping to the layer's output channels.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=32, stride=2)
    cfg = MOBILENET_V1_LAYERS
    for i, (c, s) in enumerate(cfg, 1):
        x = n.add(f"igc{i}", "igcv2", x, out=c, stride=s, layers=3)
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def mobilenet_v2():
    n = Net("MobileNetV2 1.0/224", "Sandler et al. 2018, Table 2: inverted residuals with linear bottlenecks. "
            "The last 1x1 conv keeps 1280 channels for alpha <= 1.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=32, stride=2, activation="relu6")
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    i = 0
    for t, c, reps, s in cfg:
        for r in range(reps):
            i += 1
            x = n.add(f"ir{i}", "inverted_residual", x, out=c, expansion=t, stride=s if r == 0 else 1)
    x = n.add("conv_last", "conv", x, out=1280, kernel=1, activation="relu6", width_rule="at_least")
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def mobilenet_v3(large):
    if large:
        cfg = [(3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2), (3, 72, 24, False, "relu", 1),
               (5, 72, 40, True, "relu", 2), (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
               (3, 240, 80, False, "hswish", 2), (3, 200, 80, False, "hswish", 1), (3, 184, 80, False, "hswish", 1),
               (3, 184, 80, False, "hswish", 1), (3, 480, 112, True, "hswish", 1), (3, 672, 112, True, "hswish", 1),
               (5, 672, 160, True, "hswish", 2), (5, 960, 160, True, "hswish", 1), (5, 960, 160, True, "hswish", 1)]
        last, hidden = 960, 1280
        n = Net("MobileNetV3-Large 1.0/224", "Howard et al. 2019, Table 1 (torchvision's mobilenet_v3_large): "
                "inverted residuals with squeeze-excite and h-swish.")
    else:
        cfg = [(3, 16, 16, True, "relu", 2), (3, 72, 24, False, "relu", 2), (3, 88, 24, False, "relu", 1),
               (5, 96, 40, True, "hswish", 2), (5, 240, 40, True, "hswish", 1), (5, 240, 40, True, "hswish", 1),
               (5, 120, 48, True, "hswish", 1), (5, 144, 48, True, "hswish", 1), (5, 288, 96, True, "hswish", 2),
               (5, 576, 96, True, "hswish", 1), (5, 576, 96, True, "hswish", 1)]
        last, hidden = 576, 1024
        n = Net("MobileNetV3-Small 1.0/224", "Howard et al. 2019, Table 2 (torchvision's mobilenet_v3_small): "
                "inverted residuals with squeeze-excite and h-swish.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=16, stride=2, activation="hswish")
    for i, (k, exp, out, se, act, s) in enumerate(cfg, 1):
        params = dict(out=out, expanded=exp, kernel=k, stride=s, activation=act)
        if se:
            params["se"] = True
        x = n.add(f"ir{i}", "inverted_residual", x, **params)
    x = n.add("conv_last", "conv", x, out=last, kernel=1, activation="hswish")
    x = n.add("pool", "global_pool", x)
    x = n.add("fc1", "fc", x, out=hidden, activation="hswish")
    n.add("fc2", "fc", x, out=1000, classifier=True)
    return n


def efficientnet_b0():
    n = Net("EfficientNet-B0 1.0/224", "Tan and Le 2019, Table 1 (torchvision's efficientnet_b0): MBConv blocks "
            "(inverted residuals with squeeze-excite, squeeze = input channels / 4) and swish (SiLU). "
            "Dropout and stochastic depth are training-only and not modelled.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=32, stride=2, activation="swish")
    # (expand ratio, kernel, stride, input channels, output channels, layers)
    cfg = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
           (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
    i = 0
    for t, k, s, cin, cout, reps in cfg:
        for r in range(reps):
            i += 1
            c = cin if r == 0 else cout
            x = n.add(f"mb{i}", "inverted_residual", x, out=cout, expansion=t, kernel=k, stride=s if r == 0 else 1,
                      activation="swish", se=True, se_channels=max(1, c // 4), se_activation="swish",
                      se_gate="sigmoid")
    x = n.add("conv_last", "conv", x, out=1280, kernel=1, activation="swish")
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def googlenet():
    n = Net("GoogLeNet (Inception v1)", "Szegedy et al. 2015, Table 1 (torchvision's googlenet without the "
            "auxiliary classifiers): nine Inception modules. As torchvision, the \"5x5\" branches use 3x3 "
            "kernels and every convolution has batch norm.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=64, kernel=7, stride=2)
    x = n.add("maxpool1", "pool", x, kernel=3, stride=2, ceil_mode=True)
    x = n.add("conv2", "conv", x, out=64, kernel=1)
    x = n.add("conv3", "conv", x, out=192, kernel=3)
    x = n.add("maxpool2", "pool", x, kernel=3, stride=2, ceil_mode=True)
    # (name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), then a max pool after 3b and 4e
    cfg = [("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64), "maxpool3",
           ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64), ("4c", 128, 128, 256, 24, 64, 64),
           ("4d", 112, 144, 288, 32, 64, 64), ("4e", 256, 160, 320, 32, 128, 128), "maxpool4",
           ("5a", 256, 160, 320, 32, 128, 128), ("5b", 384, 192, 384, 48, 128, 128)]
    for c in cfg:
        if c == "maxpool3":
            x = n.add(c, "pool", x, kernel=3, stride=2, ceil_mode=True)
        elif c == "maxpool4":
            x = n.add(c, "pool", x, kernel=2, stride=2, ceil_mode=True)
        else:
            name, n1, r3, n3, r5, n5, p = c
            x = n.add("inception" + name, "inception", x, out1x1=n1, reduce3x3=r3, out3x3=n3, reduce5x5=r5,
                      out5x5=n5, kernel5x5=3, pool_proj=p)
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def squeezenet(version, bypass):
    tag = "1_0" if version == "1.0" else "1_1"
    n = Net(f"SqueezeNet {version}" + (" with simple bypass" if bypass else ""),
            "Iandola et al. 2016 (torchvision's squeezenet" + tag + "): fire modules, no fully connected layer." +
            (" Simple bypass around fire3, fire5, fire7 and fire9 (paper, sec. 6)." if bypass else ""))
    x = n.add("input", "input")
    if version == "1.0":
        x = n.add("conv1", "conv", x, out=96, kernel=7, stride=2, padding=0, bias=True, bn=False)
        plan = ["pool", (16, 64), (16, 64), (32, 128), "pool", (32, 128), (48, 192), (48, 192), (64, 256), "pool",
                (64, 256)]
    else:
        x = n.add("conv1", "conv", x, out=64, kernel=3, stride=2, padding=0, bias=True, bn=False)
        plan = ["pool", (16, 64), (16, 64), "pool", (32, 128), (32, 128), "pool", (48, 192), (48, 192), (64, 256),
                (64, 256)]
    fire, pool = 1, 0
    for p in plan:
        if p == "pool":
            pool += 1
            x = n.add(f"maxpool{pool}", "pool", x, kernel=3, stride=2, ceil_mode=True)
            continue
        fire += 1
        s, e = p
        params = dict(squeeze=s, expand1x1=e, expand3x3=e)
        if bypass and fire in (3, 5, 7, 9):
            params["bypass"] = True
        x = n.add(f"fire{fire}", "fire", x, **params)
    x = n.add("conv10", "conv", x, out=1000, kernel=1, bias=True, bn=False, classifier=True)
    n.add("pool", "global_pool", x)
    return n


def shufflenet_v2():
    n = Net("ShuffleNet V2 1.0x", "Ma et al. 2018 (torchvision's shufflenet_v2_x1_0): channel split, "
            "two branches, concat and channel shuffle.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=24, stride=2)
    x = n.add("maxpool", "pool", x, kernel=3, stride=2, padding=1)
    stages = [(2, 4, 116), (3, 8, 232), (4, 4, 464)]
    cin = 24
    for st, reps, cout in stages:
        bf = cout // 2
        for r in range(reps):
            p = f"s{st}u{r + 1}"
            if r == 0:
                b1 = n.add(p + "_b1_dw", "depthwise", x, stride=2, activation="none")
                b1 = n.add(p + "_b1_pw", "conv", b1, out=bf, kernel=1)
                b2 = n.add(p + "_b2_pw1", "conv", x, out=bf, kernel=1)
                b2 = n.add(p + "_b2_dw", "depthwise", b2, stride=2, activation="none")
                b2 = n.add(p + "_b2_pw2", "conv", b2, out=bf, kernel=1)
                left = b1
            else:
                left = n.add(p + "_split0", "split", x, parts=2, index=0)
                right = n.add(p + "_split1", "split", x, parts=2, index=1)
                b2 = n.add(p + "_b2_pw1", "conv", right, out=bf, kernel=1)
                b2 = n.add(p + "_b2_dw", "depthwise", b2, activation="none")
                b2 = n.add(p + "_b2_pw2", "conv", b2, out=bf, kernel=1)
            c = n.add(p + "_concat", "concat", [left, b2])
            x = n.add(p + "_shuffle", "channel_shuffle", c, groups=2)
        cin = cout
    x = n.add("conv5", "conv", x, out=1024, kernel=1)
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def xception():
    n = Net("Xception", "Chollet 2017 (as in Keras applications): entry, middle (x8) and exit flows of "
            "depthwise-separable convolutions without an inner activation, with 1x1 strided residuals.",
            resolution=299)
    x = n.add("input", "input", height=299, width=299)
    x = n.add("conv1", "conv", x, out=32, stride=2, padding=0)
    x = n.add("conv2", "conv", x, out=64, padding=0)

    def sep(id_, inp, out, relu_first=True):
        if relu_first:
            inp = n.add(id_ + "_relu", "activation", inp)
        return n.add(id_, "separable", inp, out=out, inner="none", activation="none")

    for b, (c1, c2) in enumerate([(128, 128), (256, 256), (728, 728)], 1):
        res = n.add(f"entry{b}_res", "conv", x, out=c2, kernel=1, stride=2, activation="none")
        y = sep(f"entry{b}_sep1", x, c1, relu_first=(b != 1))
        y = sep(f"entry{b}_sep2", y, c2)
        y = n.add(f"entry{b}_pool", "pool", y, kernel=3, stride=2, padding=1)
        x = n.add(f"entry{b}_add", "add", [y, res])
    for b in range(1, 9):
        y = x
        for s in range(1, 4):
            y = sep(f"middle{b}_sep{s}", y, 728)
        x = n.add(f"middle{b}_add", "add", [y, x])
    res = n.add("exit_res", "conv", x, out=1024, kernel=1, stride=2, activation="none")
    y = sep("exit_sep1", x, 728)
    y = sep("exit_sep2", y, 1024)
    y = n.add("exit_pool", "pool", y, kernel=3, stride=2, padding=1)
    x = n.add("exit_add", "add", [y, res])
    x = n.add("exit_sep3", "separable", x, out=1536, inner="none", activation="relu")
    x = n.add("exit_sep4", "separable", x, out=2048, inner="none", activation="relu")
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def igcv3():
    n = Net("IGCV3-D 1.0/224", "Sun et al. 2018: IGCV3 blocks (group 1x1 expansion, permutation, depthwise 3x3, "
            "group 1x1 linear projection, permutation) in the MobileNetV2 layout with the block counts doubled "
            "(1, 4, 6, 8, 6, 6, 1), two groups in each 1x1.")
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=32, stride=2, activation="relu6")
    cfg = [(1, 16, 1, 1), (6, 24, 4, 2), (6, 32, 6, 2), (6, 64, 8, 2), (6, 96, 6, 1), (6, 160, 6, 2), (6, 320, 1, 1)]
    i = 0
    for t, c, reps, s in cfg:
        for r in range(reps):
            i += 1
            x = n.add(f"igc{i}", "igcv3", x, out=c, expansion=t, stride=s if r == 0 else 1)
    x = n.add("conv_last", "conv", x, out=1280, kernel=1, activation="relu6", width_rule="at_least")
    x = n.add("pool", "global_pool", x)
    n.add("fc", "fc", x, out=1000, classifier=True)
    return n


def mobilenet_seg():
    n = Net("MobileNet segmentation (U-shaped, CReLU)",
            "MobileNetV1 encoder; five 2x transposed-convolution stages back to full resolution, each concatenated "
            "with the encoder feature map of the same size (the input image at full size); CReLU on every separable "
            "pointwise layer, so each pointwise conv computes half its output channels. 21 classes (Pascal VOC).",
            classes=21)
    x = n.add("input", "input")
    x = n.add("conv1", "conv", x, out=32, stride=2)
    cfg = MOBILENET_V1_LAYERS
    feats = {}
    for i, (c, s) in enumerate(cfg, 1):
        x = n.add(f"enc{i}", "separable", x, out=c, stride=s, crelu=True)
        feats[c] = x  # last layer at each width = the feature map at that resolution
    skips = [(512, feats[512]), (256, feats[256]), (128, feats[128]), (64, feats[64]), (32, "input")]
    for st, (c, skip) in enumerate(skips, 1):
        x = n.add(f"up{st}", "conv_transpose", x, out=c)
        x = n.add(f"cat{st}", "concat", [x, skip])
        x = n.add(f"dec{st}", "separable", x, out=c, crelu=True)
    n.add("head", "conv", x, out=21, kernel=1, bias=True, bn=False, activation="none", classifier=True)
    return n


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "presets")
    os.makedirs(out, exist_ok=True)
    nets = {
        "mobilenet_v1": mobilenet_v1(),
        "mobilenet_v2": mobilenet_v2(),
        "mobilenet_v3_large": mobilenet_v3(True),
        "mobilenet_v3_small": mobilenet_v3(False),
        "efficientnet_b0": efficientnet_b0(),
        "googlenet": googlenet(),
        "squeezenet1_0": squeezenet("1.0", False),
        "squeezenet1_1": squeezenet("1.1", False),
        "squeezenet1_0_bypass": squeezenet("1.0", True),
        "squeezenet1_1_bypass": squeezenet("1.1", True),
        "shufflenet_v2_x1_0": shufflenet_v2(),
        "xception": xception(),
        "igcv3_d": igcv3(),
        "igcv2_mobilenet": igcv2_mobilenet(),
        "mobilenet_seg": mobilenet_seg(),
    }
    for name, net in nets.items():
        net.write(os.path.join(out, name + ".json"))
        print("wrote", os.path.join(out, name + ".json"))


if __name__ == "__main__":
    main()
