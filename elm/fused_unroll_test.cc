// The fused unroll against the composed oracle (ElmModel::Unroll) in double:
// outputs, memory traces and every gradient (parameters and input) agree to
// 1e-12·max(1, max|ref|) per tensor on random configurations (v1/v2, routing
// on/off, 0–2 hidden layers, relu/silu, learnable τ_m on/off, T up to 300,
// and each way of driving the branches: projected, dense and scattered),
// with one block, with short blocks, and checkpointed; sparse CSR inputs give
// the same as dense ones. Checkpointed and full storage are bit-identical
// (outputs, memory, every parameter gradient and the input gradient) in float
// and double on random configurations and block / checkpoint spacings (k = 1,
// T not a multiple of k, T < k, the memory budget), also with the gradient
// buffers at different alignments and at the benchmark's shape, and
// checkpointing keeps less in the tape's arena.
#include "elm/fused_unroll.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "elm/model.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

struct Case {
  std::string name;
  bool v2, routed, learn_tau, silu;
  int layers, steps, batch;
  // Unrouted with 40 branches and hidden width 24: neither the projected
  // first layer (B_r < 2·H₁) nor, in double, the dense per-channel drive
  // (10 vectors a row): the scattered branch drive.
  bool wide = false;
};

ElmConfig MakeConfig(const Case& c) {
  ElmConfig cfg;
  cfg.set_version(c.v2 ? ElmConfig::V2 : ElmConfig::V1);
  cfg.set_num_input(c.routed ? 11 : (c.wide ? 40 : 16));
  cfg.set_num_output(3);
  cfg.set_num_memory(5);
  cfg.set_mlp_num_layers(c.layers);
  cfg.set_mlp_hidden_size(c.wide ? 24 : 7);
  cfg.set_mlp_activation(c.silu ? "silu" : "relu");
  cfg.set_learn_memory_tau(c.learn_tau);
  cfg.set_memory_tau_max(150);
  cfg.set_lambda_value(3);
  // Unrouted: 16 branches of one synapse (B_r ≥ 2·H₁: the projected first
  // layer); routed: 3 branches of 4 (the branch-trace path, with the dense
  // per-channel drive); wide: see Case.
  cfg.set_num_branch(c.routed ? 3 : (c.wide ? 40 : 16));
  cfg.set_num_synapse_per_branch(c.routed ? 4 : 1);
  if (c.routed) cfg.set_input_to_synapse_routing("neuronio_routing");
  return cfg;
}

double MaxAbs(const double* a, int64_t n) {
  double m = 1;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(a[i]));
  return m;
}

void ExpectClose(const double* got, const double* want, int64_t n,
                 const std::string& what) {
  const double scale = MaxAbs(want, n);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LE(worst, 1e-12 * scale)
      << what << ": max|fused − composed| = " << worst << " (scale " << scale
      << ")";
}

class FusedVsComposedTest : public ::testing::TestWithParam<Case> {};

TEST_P(FusedVsComposedTest, OutputsAndGradientsAgree) {
  const Case& c = GetParam();
  absl::StatusOr<ElmModel<double>> model =
      ElmModel<double>::Create(MakeConfig(c), 5);
  ASSERT_TRUE(model.ok()) << model.status();
  Rng rng(17);
  // Random w_s protos (some negative), finite τ_m protos.
  View<double> ws = model->params().value(model->ids().proto_w_s);
  // Every fifth proto negative (relu off); the rest positive, so that a masked
  // synapse's gradient (which must be 0) is visible.
  for (int i = 0; i < ws.size(); ++i) {
    ws[i] = (i % 5 == 0 ? -1 : 1) * (0.1 + std::abs(0.5 * rng.Normal()));
  }
  View<double> tau = model->params().value(model->ids().proto_tau_m);
  for (int i = 0; i < tau.size(); ++i) tau[i] = rng.Uniform(-4, 4);
  const int64_t N = model->shape().num_input, R = c.batch * c.steps;
  std::vector<double> x(R * N);
  for (double& v : x) {
    const double u = rng.Uniform();
    v = u < 0.05 ? 1.0 : (u < 0.1 ? -1.0 : (u < 0.12 ? 2.0 : 0.0));
  }
  // A loss with a random weight per output: L = Σ w ⊙ y².
  std::vector<double> w(R * 3);
  for (double& v : w) v = rng.Uniform(-1, 1);

  auto run = [&](bool fused, GradBlock<double>& grads,
                 std::vector<double>& x_grad, std::vector<double>& y_out,
                 std::vector<double>& m_out) {
    Tape<double> tape;
    x_grad.assign(R * N, 0.0);
    Var<double> xv = tape.External(x.data(), x_grad.data(), R, N);
    Var<double> y, m;
    if (fused) {
      y = model->FusedUnroll(tape, xv, c.steps, &grads, &m);
    } else {
      auto out = model->Unroll(tape, xv, c.steps, &grads, true);
      y = out.y;
      m = out.memory;
    }
    y_out.assign(y.value, y.value + y.size());
    m_out.assign(m.value, m.value + m.size());
    tape.Backward(SumAll(
        tape, Mul(tape, Mul(tape, y, y), tape.Constant(w.data(), R, 3))));
  };
  GradBlock<double> g_ref(model->params());
  std::vector<double> xg_ref, y_ref, m_ref;
  run(false, g_ref, xg_ref, y_ref, m_ref);
  // One block (the default here), blocks of 7 steps, and checkpointed every
  // 10 steps (2 blocks of 7: segments of 14).
  for (const FusedElmOptions& options :
       {FusedElmOptions{}, FusedElmOptions{7, 0, 0},
        FusedElmOptions{7, 10, 0}}) {
    SCOPED_TRACE(testing::Message()
                 << "block_steps " << options.block_steps
                 << ", checkpoint_every " << options.checkpoint_every);
    model->set_fused_options(options);
    GradBlock<double> g_fused(model->params());
    std::vector<double> xg_fused, y_fused, m_fused;
    run(true, g_fused, xg_fused, y_fused, m_fused);
    ExpectClose(y_fused.data(), y_ref.data(), y_ref.size(), "y");
    ExpectClose(m_fused.data(), m_ref.data(), m_ref.size(), "memory");
    ExpectClose(xg_fused.data(), xg_ref.data(), xg_ref.size(), "dL/dX");
    for (int id = 0; id < model->params().num_params(); ++id) {
      const ParamInfo& info = model->params().info(id);
      ExpectClose(g_fused.data() + info.offset, g_ref.data() + info.offset,
                  info.size(), "dL/d" + info.name);
    }
  }
  // The gradients are not trivially zero.
  EXPECT_GT(std::sqrt(g_ref.SquaredNorm()), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, FusedVsComposedTest,
    ::testing::Values(Case{"v1_plain", false, false, false, false, 1, 40, 2},
                      Case{"v2_plain", true, false, false, false, 1, 40, 2},
                      Case{"v1_routed_tau", false, true, true, false, 1, 60, 3},
                      Case{"v2_routed_tau", true, true, true, true, 1, 60, 3},
                      Case{"v1_linear", false, true, true, false, 0, 50, 2},
                      Case{"v2_linear", true, false, false, false, 0, 50, 1},
                      Case{"v1_deep_silu", false, true, true, true, 2, 30, 2},
                      Case{"v2_deep_relu", true, true, false, false, 2, 30, 2},
                      Case{"v1_long", false, true, true, true, 1, 300, 2},
                      Case{"v2_long", true, true, true, false, 1, 300, 1},
                      Case{"v1_wide", false, false, true, true, 1, 40, 2, true},
                      Case{"v2_wide_deep", true, false, false, false, 2, 30, 3,
                           true}),
    [](const auto& info) { return info.param.name; });

// One fused unroll with a loss Σ w ⊙ y² and its backward (grad: whether
// anything needs a gradient).
template <typename T>
struct FusedRun {
  std::vector<T> y, memory, x_grad, grads;
  size_t arena_high_water = 0;
  uintptr_t grad_address = 0;  // where the GradBlock's data lived
};

// The gradients accumulate into `grads` (zeroed first) or, when null, into a
// fresh GradBlock.
template <typename T>
FusedRun<T> RunFused(ElmModel<T>& model, std::vector<T>& x,
                     const std::vector<T>& loss_w, int64_t steps,
                     const FusedElmOptions& options, bool grad = true,
                     GradBlock<T>* grads_in = nullptr) {
  model.set_fused_options(options);
  const int64_t N = model.shape().num_input;
  const int64_t R = static_cast<int64_t>(x.size()) / N;
  const int64_t n_out = model.shape().num_output;
  FusedRun<T> out;
  Tape<T> tape;
  GradBlock<T> fresh(model.params());
  GradBlock<T>& grads = grads_in != nullptr ? *grads_in : fresh;
  grads.Zero();
  out.grad_address = reinterpret_cast<uintptr_t>(grads.data());
  out.x_grad.assign(R * N, T(0));
  Var<T> xv = grad ? tape.External(x.data(), out.x_grad.data(), R, N)
                   : tape.Constant(x.data(), R, N);
  Var<T> m;
  Var<T> y = model.FusedUnroll(tape, xv, steps, grad ? &grads : nullptr, &m);
  out.y.assign(y.value, y.value + y.size());
  out.memory.assign(m.value, m.value + m.size());
  if (grad) {
    tape.Backward(SumAll(tape, Mul(tape, Mul(tape, y, y),
                                   tape.Constant(loss_w.data(), R, n_out))));
  }
  out.grads.assign(grads.data(), grads.data() + grads.size());
  out.arena_high_water = tape.arena().high_water_mark();
  return out;
}

// Bit for bit (not only ==: the sign of zero counts too).
template <typename T>
void ExpectBitIdentical(const std::vector<T>& got, const std::vector<T>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      ADD_FAILURE() << what << "[" << i << "]: checkpointed " << got[i]
                    << " != full storage " << want[i];
      return;
    }
  }
}

template <typename T>
class CheckpointTest : public ::testing::Test {};
using FloatTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(CheckpointTest, FloatTypes);

// Random configurations; for each, block / checkpoint spacings (G, k):
// k = 1 (G = 1), k not a multiple of G and T not a multiple of either, k = G
// with a short last block, T < k, and the memory budget (k = ⌈√T⌉).
TYPED_TEST(CheckpointTest, CheckpointedIsBitIdenticalToFullStorage) {
  using T = TypeParam;
  Rng rng(2024);
  int checkpointed_runs = 0, misaligned_runs = 0;
  for (int trial = 0; trial < 16; ++trial) {
    Case c;
    c.name = "random";
    c.v2 = rng.Uniform() < 0.5;
    c.routed = rng.Uniform() < 0.5;
    c.learn_tau = rng.Uniform() < 0.5;
    c.silu = rng.Uniform() < 0.5;
    c.layers = static_cast<int>(rng.UniformInt(3));
    c.steps = 1 + static_cast<int>(rng.UniformInt(60));
    c.batch = 1 + static_cast<int>(rng.UniformInt(3));
    c.wide = !c.routed && c.layers > 0 && rng.Uniform() < 0.4;
    SCOPED_TRACE(testing::Message()
                 << "trial " << trial << ": v2 " << c.v2 << ", routed "
                 << c.routed << ", learn_tau " << c.learn_tau << ", silu "
                 << c.silu << ", layers " << c.layers << ", T " << c.steps
                 << ", B " << c.batch << ", wide " << c.wide);
    absl::StatusOr<ElmModel<T>> model =
        ElmModel<T>::Create(MakeConfig(c), 100 + trial);
    ASSERT_TRUE(model.ok()) << model.status();
    View<T> ws = model->params().value(model->ids().proto_w_s);
    for (int i = 0; i < ws.size(); ++i) {
      ws[i] = static_cast<T>((i % 5 == 0 ? -1 : 1) *
                             (0.1 + std::abs(0.5 * rng.Normal())));
    }
    View<T> tau = model->params().value(model->ids().proto_tau_m);
    for (int i = 0; i < tau.size(); ++i)
      tau[i] = static_cast<T>(rng.Uniform(-4, 4));
    const int64_t N = model->shape().num_input, R = c.batch * c.steps;
    std::vector<T> x(R * N);
    for (T& v : x) {
      const double u = rng.Uniform();
      v = static_cast<T>(u < 0.05 ? 1.0
                                  : (u < 0.1 ? -1.0 : (u < 0.12 ? 2.0 : 0.0)));
    }
    std::vector<T> loss_w(R * model->shape().num_output);
    for (T& v : loss_w) v = static_cast<T>(rng.Uniform(-1, 1));
    const int64_t TT = c.steps;
    // Two gradient blocks at different 64-byte alignments (where the heap
    // gives them): GradBlocks with heap spacers between them.
    std::vector<std::vector<char>> spacers;
    std::vector<std::unique_ptr<GradBlock<T>>> pool;
    for (int i = 0; i < 8; ++i) {
      spacers.emplace_back(16 * i + 8);
      pool.push_back(std::make_unique<GradBlock<T>>(model->params()));
    }
    GradBlock<T>* grads_full = pool[0].get();
    GradBlock<T>* grads_ckpt = pool[1].get();
    for (const auto& g : pool) {
      if ((reinterpret_cast<uintptr_t>(g->data()) -
           reinterpret_cast<uintptr_t>(grads_full->data())) %
              64 !=
          0) {
        grads_ckpt = g.get();
      }
    }
    struct Spacing {
      int64_t block, every, budget;
    };
    const Spacing spacings[] = {
        {1, 1, 0},                    // a checkpoint at every step
        {3, 7, 0},                    // k' = 9; T rarely a multiple
        {5, 5, 0},                    // k = G, short last block
        {4, TT + 5, 0},               // T < k: one segment
        {2, 0, 1},                    // the budget: k = ⌈√T⌉
        {1 + TT / 3, 1 + TT / 2, 0},  // about three blocks, two segments
    };
    for (const Spacing& sp : spacings) {
      SCOPED_TRACE(testing::Message()
                   << "block_steps " << sp.block << ", checkpoint_every "
                   << sp.every << ", budget " << sp.budget);
      const FusedElmOptions full{sp.block, 0, 0};
      const FusedElmOptions ckpt{sp.block, sp.every, sp.budget};
      const FusedRun<T> a =
          RunFused(*model, x, loss_w, c.steps, full, true, grads_full);
      const FusedRun<T> b =
          RunFused(*model, x, loss_w, c.steps, ckpt, true, grads_ckpt);
      misaligned_runs += (a.grad_address - b.grad_address) % 64 != 0;
      ExpectBitIdentical(b.y, a.y, "y");
      ExpectBitIdentical(b.memory, a.memory, "memory");
      ExpectBitIdentical(b.x_grad, a.x_grad, "dL/dX");
      for (int id = 0; id < model->params().num_params(); ++id) {
        const ParamInfo& info = model->params().info(id);
        ExpectBitIdentical(
            std::vector<T>(b.grads.begin() + info.offset,
                           b.grads.begin() + info.offset + info.size()),
            std::vector<T>(a.grads.begin() + info.offset,
                           a.grads.begin() + info.offset + info.size()),
            "dL/d" + info.name);
      }
      // Whether this spacing checkpoints (fused_unroll.h): segments of
      // G·⌈k/G⌉ steps, G = min(block, T).
      const int64_t G = std::min(sp.block, TT), blocks = (TT + G - 1) / G;
      int64_t k = sp.every;
      if (k == 0) k = static_cast<int64_t>(std::ceil(std::sqrt(TT * 1.0)));
      checkpointed_runs += (k + G - 1) / G < blocks;
      // Forward only: one block kept, the same outputs.
      const FusedRun<T> f = RunFused(*model, x, loss_w, c.steps, full, false);
      ExpectBitIdentical(f.y, a.y, "y (no gradient)");
      ExpectBitIdentical(f.memory, a.memory, "memory (no gradient)");
    }
    // The gradients are not trivially zero.
    const FusedRun<T> a = RunFused(*model, x, loss_w, c.steps, {});
    double norm = 0;
    for (T v : a.grads) norm += static_cast<double>(v) * v;
    EXPECT_GT(norm, 0);
  }
  EXPECT_GT(checkpointed_runs, 40);  // most spacings do checkpoint
  // The gradient buffers were at different alignments in most comparisons.
  EXPECT_GT(misaligned_runs, 40);
}

// At the benchmark's branch_dm15 shape (1278 inputs, NeuronIO routing 45×100,
// d_m 15, B = 8) with blocks of 64 and of the default 512 steps, so that
// Eigen's blocked GEMM kernels are in play: still bit-identical.
TEST(FusedUnrollTest, CheckpointedIsBitIdenticalAtBenchmarkShape) {
  ElmConfig cfg;
  cfg.set_num_input(1278);
  cfg.set_num_output(2);
  cfg.set_num_memory(15);
  cfg.set_memory_tau_max(150);
  cfg.set_num_branch(45);
  cfg.set_num_synapse_per_branch(100);
  cfg.set_input_to_synapse_routing("neuronio_routing");
  cfg.set_learn_memory_tau(true);
  absl::StatusOr<ElmModel<float>> model = ElmModel<float>::Create(cfg, 3);
  ASSERT_TRUE(model.ok()) << model.status();
  const int64_t B = 8, TT = 1100, N = 1278;
  Rng rng(11);
  std::vector<float> x(B * TT * N);
  for (float& v : x) v = rng.Uniform() < 0.01 ? 1.0f : 0.0f;
  std::vector<float> loss_w(B * TT * 2);
  for (float& v : loss_w) v = static_cast<float>(rng.Uniform(-1, 1));
  for (const auto& [full, ckpt] :
       {std::pair<FusedElmOptions, FusedElmOptions>{{64, 0, 0}, {64, 150, 0}},
        {{}, {0, 0, 1}}}) {  // default G = 512: 3 blocks, one per segment
    SCOPED_TRACE(testing::Message() << "block_steps " << full.block_steps);
    const FusedRun<float> a = RunFused(*model, x, loss_w, TT, full);
    const FusedRun<float> b = RunFused(*model, x, loss_w, TT, ckpt);
    ExpectBitIdentical(b.y, a.y, "y");
    ExpectBitIdentical(b.x_grad, a.x_grad, "dL/dX");
    ExpectBitIdentical(b.grads, a.grads, "gradients");
    EXPECT_LT(b.arena_high_water, a.arena_high_water);
  }
}

// Checkpointing keeps much less in the tape's arena on a long sequence.
TEST(FusedUnrollTest, CheckpointingKeepsLess) {
  Case c{"long", true, true, true, false, 1, 2000, 2};
  absl::StatusOr<ElmModel<float>> model =
      ElmModel<float>::Create(MakeConfig(c), 4);
  ASSERT_TRUE(model.ok());
  const int64_t N = model->shape().num_input, R = c.batch * c.steps;
  Rng rng(5);
  std::vector<float> x(R * N);
  for (float& v : x) v = rng.Uniform() < 0.1 ? 1.0f : 0.0f;
  std::vector<float> loss_w(R * 3, 1.0f);
  const FusedRun<float> full = RunFused(*model, x, loss_w, c.steps, {16, 0, 0});
  // k = ⌈√2000⌉ = 45 → segments of 48 steps.
  const FusedRun<float> ckpt =
      RunFused(*model, x, loss_w, c.steps, {16, 0, 100 << 10});
  // Stored per row: U [3], A₁ [7], tanh and M [2·5] = 20 floats. Full
  // storage keeps all 2000·2 rows, checkpointing one 48-step segment's (and
  // 42 checkpoints of 2·(5 + 3) floats): the arena must shrink by at least
  // 90% of the difference.
  const int64_t saved = (2000 - 48) * 2 * 20 * 4;
  EXPECT_LT(ckpt.arena_high_water, full.arena_high_water - saved * 9 / 10)
      << "full " << full.arena_high_water << " B, checkpointed "
      << ckpt.arena_high_water << " B";
  ExpectBitIdentical(ckpt.grads, full.grads, "gradients");
}

// The layout and memory formula of the header, on a branch_dm15-like shape.
TEST(FusedUnrollTest, PlanLayout) {
  FusedElmSpec spec;
  spec.num_input = 1278;
  spec.num_branch = 45;
  spec.num_synapse_per_branch = 100;
  spec.num_memory = 15;
  spec.kappa_branch.assign(45, 0.8);
  // Not projected (B_r = 45 < 2·H₁ = 60): e_row = 45 + 30 + 2·15 = 105.
  FusedElmLayout full = FusedElmUnrollLayout(spec, 1, 30, 8, 20000, 4);
  EXPECT_EQ(full.block_steps, 512);  // ⌈4096 / 8⌉
  EXPECT_EQ(full.num_blocks, 40);
  EXPECT_EQ(full.num_segments, 1);
  EXPECT_FALSE(full.checkpointed);
  EXPECT_EQ(full.elements_per_row, 105);
  const int64_t per_block = 512 * 8 * 105 + 8 * 15;
  EXPECT_EQ(full.full_storage_bytes, 40 * per_block * 4);
  EXPECT_EQ(full.stored_bytes, full.full_storage_bytes);
  // Over the budget: k = ⌈√20000⌉ = 142, one block per segment.
  FusedElmLayout budget =
      FusedElmUnrollLayout(spec, 1, 30, 8, 20000, 4, {0, 0, 64 << 20});
  EXPECT_TRUE(budget.checkpointed);
  EXPECT_EQ(budget.segment_steps, 512);
  EXPECT_EQ(budget.num_segments, 40);
  EXPECT_EQ(budget.stored_bytes, (per_block + 40 * 8 * (15 + 45)) * 4);
  // Under it: full storage.
  EXPECT_FALSE(
      FusedElmUnrollLayout(spec, 1, 30, 8, 20000, 4, {0, 0, int64_t{1} << 30})
          .checkpointed);
  // Explicit k, rounded up to whole blocks of 64: 100 → 128.
  FusedElmLayout k100 =
      FusedElmUnrollLayout(spec, 1, 30, 8, 1000, 8, {64, 100, 0});
  EXPECT_EQ(k100.segment_steps, 128);
  EXPECT_EQ(k100.num_blocks, 16);
  EXPECT_EQ(k100.num_segments, 8);
  // Projected (unrouted 45 branches, H₁ = 20): no U, the trace is H₁ wide.
  FusedElmLayout proj =
      FusedElmUnrollLayout(spec, 1, 20, 8, 1000, 4, {100, 100, 0});
  EXPECT_EQ(proj.elements_per_row, 20 + 2 * 15);
  EXPECT_EQ(proj.stored_bytes,
            ((100 * 8 * 50 + 8 * 15) + 10 * 8 * (15 + 20)) * 4);
}

TEST(FusedUnrollTest, SparseInputsMatchDense) {
  Case c{"sparse", false, true, true, true, 1, 50, 3};
  absl::StatusOr<ElmModel<float>> model =
      ElmModel<float>::Create(MakeConfig(c), 9);
  ASSERT_TRUE(model.ok());
  View<float> tau = model->params().value(model->ids().proto_tau_m);
  for (int i = 0; i < tau.size(); ++i) tau[i] = 0.5f * i - 1;
  const int64_t N = model->shape().num_input, R = c.batch * c.steps;
  Rng rng(3);
  std::vector<float> x(R * N, 0.0f);
  std::vector<int64_t> row_begin = {0};
  std::vector<int32_t> col;
  std::vector<float> val;
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t ch = 0; ch < N; ++ch) {
      if (rng.Uniform() < 0.1) {
        x[r * N + ch] = ch % 2 ? -1.0f : 1.0f;
        col.push_back(static_cast<int32_t>(ch));
        val.push_back(x[r * N + ch]);
      }
    }
    row_begin.push_back(static_cast<int64_t>(col.size()));
  }
  GradBlock<float> g_dense(model->params()), g_sparse(model->params());
  Tape<float> t1, t2;
  Var<float> y1 =
      model->FusedUnroll(t1, t1.Constant(x.data(), R, N), c.steps, &g_dense);
  CsrView csr{row_begin.data(), col.data(), val.data(), R, N};
  Var<float> y2 = model->FusedUnroll(t2, csr, c.steps, &g_sparse);
  t1.Backward(SumAll(t1, y1));
  t2.Backward(SumAll(t2, y2));
  for (int64_t i = 0; i < y1.size(); ++i) EXPECT_EQ(y1.value[i], y2.value[i]);
  for (int64_t i = 0; i < g_dense.size(); ++i)
    EXPECT_EQ(g_dense.data()[i], g_sparse.data()[i]);
}

// A sequence's outputs do not depend on the batch it runs in (evaluation
// relies on it: windows per forward call change speed, not results): B
// sequences at once and each alone, forward only, bit for bit, at the
// benchmark's shapes (routed, silu; plain, projected) and a wide one.
TEST(FusedUnrollTest, OutputsDoNotDependOnTheBatch) {
  std::vector<ElmConfig> configs(3);
  configs[0].set_num_input(1278);
  configs[0].set_num_memory(15);
  configs[0].set_num_branch(45);
  configs[0].set_num_synapse_per_branch(100);
  configs[0].set_input_to_synapse_routing("neuronio_routing");
  configs[0].set_mlp_activation("silu");  // H = 30: rows not 32-byte aligned
  configs[1].set_num_input(300);
  configs[1].set_num_memory(20);
  configs[2] =
      MakeConfig(Case{"wide", true, false, false, true, 2, 0, 0, true});
  for (ElmConfig& cfg : configs) {
    cfg.set_num_output(2);
    absl::StatusOr<ElmModel<float>> model = ElmModel<float>::Create(cfg, 4);
    ASSERT_TRUE(model.ok()) << model.status();
    const int64_t B = 5, TT = 70, N = model->shape().num_input;
    Rng rng(8);
    std::vector<float> x(B * TT * N);
    for (float& v : x) v = rng.Uniform() < 0.02 ? 1.0f : 0.0f;
    Tape<float> tape;
    Var<float> y = model->FusedUnroll(tape, tape.Constant(x.data(), B * TT, N),
                                      TT, nullptr);
    for (int64_t b = 0; b < B; ++b) {
      Tape<float> one;
      Var<float> y1 = model->FusedUnroll(
          one, one.Constant(x.data() + b * TT * N, TT, N), TT, nullptr);
      for (int64_t i = 0; i < y1.size(); ++i) {
        ASSERT_EQ(y1.value[i], y.value[b * TT * 2 + i])
            << "inputs " << N << ", sequence " << b << ", element " << i;
      }
    }
  }
}

TEST(FusedUnrollTest, V1WithMixedTauPerBranchFallsBackToComposed) {
  Case c{"mixed", false, true, false, false, 1, 10, 1};
  absl::StatusOr<ElmModel<double>> model =
      ElmModel<double>::Create(MakeConfig(c), 1);
  ASSERT_TRUE(model.ok());
  std::vector<NamedTensor> sd = model->StateDict();
  sd[1].values[1] = 7.0;  // tau_s of synapse 1 differs within branch 0
  ASSERT_TRUE(model->LoadStateDict(sd, "", "test").ok());
  EXPECT_FALSE(model->CanFuse());
  std::vector<double> x(10 * 11, 1.0);
  Tape<double> tape;
  Var<double> y =
      model->FusedUnroll(tape, tape.Constant(x.data(), 10, 11), 10, nullptr);
  Var<double> y_ref =
      model->Unroll(tape, tape.Constant(x.data(), 10, 11), 10, nullptr).y;
  for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.value[i], y_ref.value[i]);
}

}  // namespace
}  // namespace elm
