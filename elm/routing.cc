// Branch-ELM routing: see routing.h.
#include "elm/routing.h"

#include <algorithm>

#include "glog/logging.h"

namespace elm {

SynapseRouting NeuronioRouting(int num_input, int num_branch,
                               int num_synapse_per_branch) {
  CHECK_GT(num_input, 0);
  CHECK_GT(num_branch, 0);
  CHECK_GT(num_synapse_per_branch, 0);
  const int half = num_input / 2;
  std::vector<int64_t> interlock(num_input);
  for (int k = 0; k < num_input; ++k) interlock[k] = (k % 2) * half + k / 2;
  const int stride = (num_input + num_branch - 1) / num_branch;
  SynapseRouting r;
  r.index.reserve(static_cast<size_t>(num_branch) * num_synapse_per_branch);
  r.mask.reserve(r.index.capacity());
  for (int j = 0; j < num_branch; ++j) {
    for (int k = 0; k < num_synapse_per_branch; ++k) {
      const int64_t p = static_cast<int64_t>(j) * stride + k;
      const bool valid = p < num_input;
      r.index.push_back(interlock[std::min<int64_t>(p, num_input - 1)]);
      r.mask.push_back(valid ? 1.0f : 0.0f);
    }
  }
  return r;
}

SynapseRouting RandomRouting(int num_input, int num_synapse, Rng& rng) {
  CHECK_GT(num_input, 0);
  SynapseRouting r;
  r.index.resize(num_synapse);
  r.mask.assign(num_synapse, 1.0f);
  for (int64_t& i : r.index)
    i = static_cast<int64_t>(rng.UniformInt(num_input));
  return r;
}

}  // namespace elm
