#include "cost/convention.h"

namespace convscope::cost {

std::string_view bn_counting_name(BnCounting bn) {
  switch (bn) {
    case BnCounting::Separate:
      return "separate";
    case BnCounting::Counted:
      return "counted";
    case BnCounting::Folded:
      return "folded";
  }
  return "?";
}

bool parse_bn_counting(std::string_view name, BnCounting& out) {
  for (BnCounting b : {BnCounting::Separate, BnCounting::Counted, BnCounting::Folded})
    if (bn_counting_name(b) == name) {
      out = b;
      return true;
    }
  return false;
}

const std::vector<Convention>& named_conventions() {
  static const std::vector<Convention> conventions = {
      {"paper", "the papers' own: weights + biases as built; batch norm reported separately; classifier included", true,
       BnCounting::Separate, true, false},
      {"torchvision", "sum of torchvision's parameters(): weights + biases + batch norm scale and shift", true,
       BnCounting::Counted, true, false},
      {"tf-slim", "TF-slim model tables: weights + biases, batch norm not counted, 1001 classes (background class)",
       true, BnCounting::Separate, true, true},
      {"weights-only", "weights only: no biases, no batch norm (MobileNetV1 Table 2 shares)", false,
       BnCounting::Separate, true, false},
      {"deploy", "inference after folding batch norm into the convolutions: weights + biases (folded shifts included)",
       true, BnCounting::Folded, true, false},
  };
  return conventions;
}

std::optional<Convention> find_convention(std::string_view name) {
  for (const auto& c : named_conventions())
    if (c.name == name) return c;
  return std::nullopt;
}

const Convention& default_convention() { return named_conventions().front(); }

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::FP32:
      return "fp32";
    case Precision::FP16:
      return "fp16";
    case Precision::INT8:
      return "int8";
  }
  return "?";
}

bool parse_precision(std::string_view name, Precision& out) {
  for (Precision p : {Precision::FP32, Precision::FP16, Precision::INT8})
    if (precision_name(p) == name) {
      out = p;
      return true;
    }
  return false;
}

int bytes_per_element(Precision p) {
  switch (p) {
    case Precision::FP32:
      return 4;
    case Precision::FP16:
      return 2;
    case Precision::INT8:
      return 1;
  }
  return 4;
}

}  // namespace convscope::cost
