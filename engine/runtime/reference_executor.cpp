#include "runtime/reference_executor.h"

#include <cassert>

#include "runtime/reference_ops.h"

namespace convscope::runtime {

std::vector<int> input_tensors(const cost::Analysis& a) {
  std::vector<int> ins;
  for (std::size_t t = 0; t < a.tensors.size(); ++t)
    if (a.tensors[t].producer < 0) ins.push_back(static_cast<int>(t));
  std::sort(ins.begin(), ins.end(), [&](int x, int y) {
    return a.tensors[static_cast<std::size_t>(x)].node < a.tensors[static_cast<std::size_t>(y)].node;
  });
  return ins;
}

std::vector<int> output_tensors(const cost::Analysis& a) {
  std::vector<bool> read(a.tensors.size(), false);
  for (const auto& op : a.ops)
    for (int t : op.inputs) read[static_cast<std::size_t>(t)] = true;
  std::vector<int> outs;
  for (const auto& op : a.ops)
    if (!read[static_cast<std::size_t>(op.output)]) outs.push_back(op.output);
  return outs;
}

std::vector<Tensor> run_reference(const cost::Analysis& a, const Weights& w, const std::vector<Tensor>& inputs) {
  assert(a.complete());
  std::vector<Tensor> t(a.tensors.size());
  const auto ins = input_tensors(a);
  for (std::size_t i = 0; i < ins.size() && i < inputs.size(); ++i) t[static_cast<std::size_t>(ins[i])] = inputs[i];
  const std::int64_t batch = inputs.empty() ? 1 : inputs.front().n;
  for (std::size_t k = 0; k < a.ops.size(); ++k) {
    const auto& o = a.ops[k];
    std::vector<const Tensor*> args;
    for (int i : o.inputs) args.push_back(&t[static_cast<std::size_t>(i)]);
    Tensor out(batch, a.tensors[static_cast<std::size_t>(o.output)].shape);
    ref::run_op(o.op, args, w.op(k), out);
    t[static_cast<std::size_t>(o.output)] = std::move(out);
  }
  return t;
}

}  // namespace convscope::runtime
