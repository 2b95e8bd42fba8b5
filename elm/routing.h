// Input-to-synapse routing of Branch-ELM (elm_reference.md §3): synapse k reads
// input index[k], scaled by mask[k] (0 for padding slots), and belongs to
// branch k / d_brch.
//  * NeuronioRouting: interlocking permutation interlock[k] = (k mod 2)·⌊N/2⌋ +
//  ⌊k/2⌋
//    (alternating excitatory and inhibitory inputs of the same segment), then
//    overlapping windows of d_brch positions with stride ⌈N/B_r⌉; positions
//    past N are clamped to N−1 and masked out. Deterministic.
//  * RandomRouting: S indices uniform with replacement in [0, N), all unmasked
//  (seeded; the
//    reference's torch.randint stream is not reproduced — load its indices to
//    match it).
#ifndef ELM_ELM_ROUTING_H_
#define ELM_ELM_ROUTING_H_

#include <cstdint>
#include <vector>

#include "base/rng.h"

namespace elm {

struct SynapseRouting {
  std::vector<int64_t> index;  // [S] input channel of each synapse
  std::vector<float> mask;     // [S] 1 for a real synapse, 0 for a padding slot
};

SynapseRouting NeuronioRouting(int num_input, int num_branch,
                               int num_synapse_per_branch);
SynapseRouting RandomRouting(int num_input, int num_synapse, Rng& rng);

}  // namespace elm

#endif  // ELM_ELM_ROUTING_H_
