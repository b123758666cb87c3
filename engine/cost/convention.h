#pragma once
/// Counting conventions. Tools disagree on what a "parameter" is (bias, batch
/// norm, classifier, background class); ConvScope makes each choice a switch and
/// names the sets that reproduce the published numbers.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace convscope::cost {

/// How batch norm's scale and shift enter the parameter count.
enum class BnCounting {
  Separate,  ///< reported as bn_params only, not in params (the papers, TF-slim's tables)
  Counted,   ///< added to params: 2 per channel (torchvision's sum of parameters())
  Folded,    ///< folded into the preceding convolution: its shift becomes a bias
};

std::string_view bn_counting_name(BnCounting bn);
bool parse_bn_counting(std::string_view name, BnCounting& out);

struct Convention {
  std::string name;
  std::string description;
  bool count_bias = true;  ///< convolution and fc biases are parameters
  BnCounting bn = BnCounting::Separate;
  bool include_classifier = true;  ///< the classifier's params and MAdds are counted
  bool background_class = false;   ///< one extra class (TF-slim's 1001 ImageNet classes)
};

/// The named conventions: paper (default), torchvision, tf-slim, weights-only, deploy.
const std::vector<Convention>& named_conventions();
/// The named convention, or nullopt.
std::optional<Convention> find_convention(std::string_view name);
/// The default: the papers' own (weights + biases, BN reported separately).
const Convention& default_convention();

/// Bytes per element of activations and weights.
enum class Precision { FP32, FP16, INT8 };
std::string_view precision_name(Precision p);
bool parse_precision(std::string_view name, Precision& out);
int bytes_per_element(Precision p);

}  // namespace convscope::cost
