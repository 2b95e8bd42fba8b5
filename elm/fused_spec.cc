// FusedElmUnrollLayout (fused_spec.h): how an unroll is blocked and what it
// stores (fused_unroll.h, "Blocking" and "Checkpointing").
#include "elm/fused_spec.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "glog/logging.h"

namespace elm {
namespace {

// The automatic block: about this many rows (steps × sequences) per block.
constexpr int64_t kAutoBlockRows = 4096;

// Whether the first layer is projected: one κ_u (as T) for every branch and
// B_r ≥ 2·H₁. Then U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ) and U is never formed.
template <typename T>
bool Projected(const FusedElmSpec& spec, int64_t h1) {
  const std::vector<double>& k = spec.kappa_branch;
  const bool uniform = std::all_of(k.begin(), k.end(), [&](double v) {
    return static_cast<T>(v) == static_cast<T>(k[0]);
  });
  return uniform && spec.num_branch >= 2 * h1;
}

}  // namespace

FusedElmLayout FusedElmUnrollLayout(const FusedElmSpec& spec, int64_t layers,
                                    int64_t hidden, int64_t batch,
                                    int64_t steps, int64_t bytes_per_element,
                                    const FusedElmOptions& options) {
  CHECK_GT(batch, 0);
  CHECK_GT(steps, 0);
  const int64_t dm = spec.num_memory, n_branch = spec.num_branch;
  const int64_t H1 = layers > 0 ? hidden : dm;
  const bool projected = bytes_per_element == sizeof(float)
                             ? Projected<float>(spec, H1)
                             : Projected<double>(spec, H1);
  FusedElmLayout out;
  out.projected = projected;
  const int64_t auto_steps =
      std::max<int64_t>(1, (kAutoBlockRows + batch - 1) / batch);
  out.block_steps = std::min(
      steps, options.block_steps > 0 ? options.block_steps : auto_steps);
  const int64_t G = out.block_steps;
  out.num_blocks = (steps + G - 1) / G;
  // Stored elements per row (U, A_l, tanh, M) and per block (m_in).
  out.elements_per_row = (projected ? 0 : n_branch) + layers * hidden + 2 * dm;
  const int64_t per_block = G * batch * out.elements_per_row + batch * dm;
  out.full_storage_bytes = out.num_blocks * per_block * bytes_per_element;
  int64_t k = options.checkpoint_every;
  if (k == 0 && options.memory_budget_bytes > 0 &&
      out.full_storage_bytes > options.memory_budget_bytes) {
    k = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(steps))));
    while (k * k < steps) ++k;  // exact ⌈√T⌉
  }
  const int64_t segment_blocks =
      k > 0 ? std::min(out.num_blocks, (k + G - 1) / G) : out.num_blocks;
  out.segment_steps = segment_blocks * G;
  out.num_segments = (out.num_blocks + segment_blocks - 1) / segment_blocks;
  out.checkpointed = out.num_segments > 1;
  const int64_t carry_width = projected ? H1 : n_branch;
  out.stored_bytes = out.checkpointed
                         ? (segment_blocks * per_block +
                            out.num_segments * batch * (dm + carry_width)) *
                               bytes_per_element
                         : out.full_storage_bytes;
  return out;
}

}  // namespace elm
