// ElmPopulation (population.h) against the batch forward: for every released
// model in ../shared/golden/pretrained (15 .pt files), float and double, the
// streamed outputs of the T=500 NeuronIO input (dense and sparse steps) equal
// ElmModel::FusedUnroll's (//elm:forward's fused path): bit for bit where the
// fused unroll does not take the projected first layer, else to the golden
// tolerances (model_golden_test: float64 1e-10·max(1, max|ref|), float32
// 1e-5·max(1, max|ref|)); and for num_memory_15 and best_elm_neuron the
// reference's golden outputs (forward, eval_forward, m_last). Also: per-neuron
// reset in the middle of other neurons' sequences, several models in one
// population, thread counts, and the errors of Create.
#include "elm/population.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/shared_data.h"
#include "elm/model.h"
#include "elm/model_file.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"

namespace elm {
namespace {

const char* const kModels[] = {
    "best_elm_neuron", "num_memory_1",  "num_memory_2",  "num_memory_3",
    "num_memory_5",    "num_memory_7",  "num_memory_10", "num_memory_15",
    "num_memory_20",   "num_memory_25", "num_memory_30", "num_memory_40",
    "num_memory_50",   "num_memory_75", "num_memory_100"};

template <typename T>
constexpr double Tolerance() {
  return std::is_same_v<T, double> ? 1e-10 : 1e-5;
}

// The input X [B, T, N] of a golden input file.
struct Input {
  int64_t batch = 0, steps = 0, n_in = 0;
  std::vector<double> x;  // row (b·T + t)
  const double* row(int64_t b, int64_t t) const {
    return x.data() + (b * steps + t) * n_in;
  }
};

class PopulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    golden_ = FindSharedPath("golden", &missing);
    if (golden_.empty()) GTEST_SKIP() << "missing " << missing;
  }

  std::string ModelPath(const std::string& name) const {
    return absl::StrCat(golden_, "/pretrained/", name,
                        "/neuronio_best_model_state.pt");
  }

  template <typename T>
  ElmModel<T> Load(const std::string& name) const {
    absl::StatusOr<ElmModel<T>> model = LoadElmModelFile<T>(ModelPath(name));
    CHECK(model.ok()) << model.status();
    return std::move(*model);
  }

  Input ReadInput(int steps) const {
    absl::StatusOr<ElmTensorFile> file = ReadElmTensorFile(
        absl::StrCat(golden_, "/trained/neuronio_input_B2_T", steps, ".txt"));
    CHECK(file.ok()) << file.status();
    const NamedTensor* x = file->FindOrNull("X");
    CHECK(x != nullptr);
    Input in;
    in.batch = x->shape[0];
    in.steps = x->shape[1];
    in.n_in = x->shape[2];
    in.x = x->values;
    return in;
  }

  std::string golden_;
};

// The batch forward's y [B·T, n_out] (rows b·T + t).
template <typename T>
std::vector<T> BatchForward(ElmModel<T>& model, const Input& in) {
  std::vector<T> x(in.x.begin(), in.x.end());
  Tape<T> tape;
  Var<T> y = model.FusedUnroll(
      tape, tape.Constant(x.data(), in.batch * in.steps, in.n_in), in.steps,
      /*grads=*/nullptr);
  return std::vector<T>(y.value, y.value + y.size());
}

// Streams `in` through `pop` (neuron b gets sequence b, b < in.batch; the
// population may be larger: the others get no input), dense or sparse, and
// returns y in the batch's layout [B·T, n_out].
template <typename T>
std::vector<T> Stream(ElmPopulation<T>& pop, const Input& in, bool sparse) {
  const int64_t N = pop.size(), n_out = pop.num_output();
  std::vector<T> y(in.batch * in.steps * n_out);
  std::vector<T> dense(N * in.n_in, T(0));
  std::vector<int64_t> row_begin(N + 1);
  std::vector<int32_t> col;
  std::vector<T> val;
  for (int64_t t = 0; t < in.steps; ++t) {
    col.clear();
    val.clear();
    row_begin[0] = 0;
    for (int64_t i = 0; i < N; ++i) {
      if (i < in.batch) {
        const double* x = in.row(i, t);
        for (int64_t c = 0; c < in.n_in; ++c) {
          dense[i * in.n_in + c] = static_cast<T>(x[c]);
          if (x[c] != 0) {
            col.push_back(static_cast<int32_t>(c));
            val.push_back(static_cast<T>(x[c]));
          }
        }
      }
      row_begin[i + 1] = static_cast<int64_t>(col.size());
    }
    if (sparse) {
      pop.StepSparse(row_begin.data(), col.data(), val.data());
    } else {
      pop.StepDense(dense.data());
    }
    for (int64_t b = 0; b < in.batch; ++b) {
      for (int64_t o = 0; o < n_out; ++o)
        y[(b * in.steps + t) * n_out + o] = pop.output()[b * n_out + o];
    }
  }
  return y;
}

// max|a − ref| ≤ tol·max(1, max|ref|).
template <typename T>
::testing::AssertionResult Near(const std::vector<T>& a,
                                const std::vector<double>& ref, double tol) {
  if (a.size() != ref.size()) {
    return ::testing::AssertionFailure()
           << a.size() << " values, " << ref.size() << " expected";
  }
  double max_ref = 1, max_err = 0;
  for (double v : ref) max_ref = std::max(max_ref, std::abs(v));
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(static_cast<double>(a[i]) - ref[i]);
    if (!(err <= max_err)) max_err = err;
  }
  if (max_err <= tol * max_ref) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "max|a−ref| = " << max_err << " > " << tol << "·" << max_ref;
}

template <typename T>
std::vector<double> AsDouble(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <typename T>
int64_t CountDifferent(const std::vector<T>& a, const std::vector<T>& b) {
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += !(a[i] == b[i]);
  return n;
}

// Whether the model's fused unroll takes the projected first layer (then it
// sums in another order than the population).
template <typename T>
bool Projected(const ElmModel<T>& model, const Input& in) {
  const ElmShape& s = model.shape();
  return FusedElmUnrollLayout(model.fused_spec(), s.mlp_num_layers,
                              s.mlp_hidden_size, in.batch, in.steps, sizeof(T))
      .projected;
}

template <typename T>
void CheckAgainstBatch(const std::string& name, const Input& in,
                       ElmModel<T> model) {
  SCOPED_TRACE(name);
  const std::vector<T> batch = BatchForward(model, in);
  for (bool project : {false, true}) {
    for (bool sparse : {false, true}) {
      SCOPED_TRACE(absl::StrCat(sparse ? "sparse" : "dense",
                                project ? ", projected" : ", exact"));
      absl::StatusOr<ElmPopulation<T>> pop = ElmPopulation<T>::Create(
          model, in.batch, {.project_first_layer = project});
      ASSERT_TRUE(pop.ok()) << pop.status();
      const std::vector<T> streamed = Stream(*pop, in, sparse);
      EXPECT_TRUE(Near(streamed, AsDouble(batch), Tolerance<T>()));
      if (!project && !Projected(model, in)) {
        EXPECT_EQ(CountDifferent(streamed, batch), 0)
            << "not bit-identical to the batch forward";
      }
    }
  }
}

TEST_F(PopulationTest, EveryReleasedModelMatchesBatchForward) {
  const Input in = ReadInput(500);
  int projected = 0;
  for (const char* name : kModels) {
    CheckAgainstBatch<float>(name, in, Load<float>(name));
    CheckAgainstBatch<double>(name, in, Load<double>(name));
    projected += Projected(Load<float>(name), in);
  }
  // Both kinds are covered: the small models take the projected first layer.
  EXPECT_GT(projected, 0);
  EXPECT_LT(projected, 15);
}

template <typename T>
void CheckGolden(const std::string& golden, const std::string& name,
                 ElmPopulation<T>& pop, const Input& in) {
  absl::StatusOr<ElmTensorFile> file = ReadElmTensorFile(
      absl::StrCat(golden, "/trained/", name, ".golden_T", in.steps, ".txt"));
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string p = std::is_same_v<T, double> ? "f64." : "f32.";
  pop.ResetAll();
  const int64_t B = in.batch, steps = in.steps;
  std::vector<T> y(B * steps * 2), eval(B * steps * 2);
  std::vector<T> dense(pop.size() * in.n_in, T(0));
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t b = 0; b < B; ++b) {
      std::copy(in.row(b, t), in.row(b, t) + in.n_in,
                dense.begin() + b * in.n_in);
    }
    pop.StepDense(dense.data());
    for (int64_t b = 0; b < B; ++b) {
      const int64_t r = b * steps + t;
      y[2 * r] = pop.output()[2 * b];
      y[2 * r + 1] = pop.output()[2 * b + 1];
      eval[2 * r] = pop.spike_probability()[b];
      eval[2 * r + 1] = pop.soma_voltage()[b];
    }
  }
  const NamedTensor* forward = file->FindOrNull(p + "forward");
  const NamedTensor* eval_ref = file->FindOrNull(p + "eval_forward");
  const NamedTensor* m_last = file->FindOrNull(p + "m_last");
  ASSERT_TRUE(forward != nullptr && eval_ref != nullptr && m_last != nullptr);
  EXPECT_TRUE(Near(y, forward->values, Tolerance<T>())) << "forward";
  EXPECT_TRUE(Near(eval, eval_ref->values, 10 * Tolerance<T>()))
      << "eval_forward";
  std::vector<T> m;
  for (int64_t b = 0; b < B; ++b) {
    absl::Span<const T> mb = pop.memory(b);
    m.insert(m.end(), mb.begin(), mb.end());
  }
  EXPECT_TRUE(Near(m, m_last->values, Tolerance<T>())) << "m_last";
}

TEST_F(PopulationTest, MatchesReferenceGoldenOutputs) {
  for (const auto& [name, steps] :
       std::vector<std::pair<std::string, int>>{{"num_memory_15", 50},
                                                {"num_memory_15", 500},
                                                {"best_elm_neuron", 50}}) {
    SCOPED_TRACE(absl::StrCat(name, " T=", steps));
    const Input in = ReadInput(steps);
    ElmModel<float> mf = Load<float>(name);
    ElmModel<double> md = Load<double>(name);
    for (bool project : {false, true}) {
      SCOPED_TRACE(project ? "projected" : "exact");
      // A third neuron without input: it must not disturb the others.
      absl::StatusOr<ElmPopulation<float>> pf =
          ElmPopulation<float>::Create(mf, 3, {.project_first_layer = project});
      absl::StatusOr<ElmPopulation<double>> pd = ElmPopulation<double>::Create(
          md, 3, {.project_first_layer = project});
      ASSERT_TRUE(pf.ok() && pd.ok());
      CheckGolden(golden_, name, *pf, in);
      CheckGolden(golden_, name, *pd, in);
    }
  }
}

// Neurons 1 and 3 run 37 steps of random input, are reset, then run
// sequence 1, while neurons 0 and 2 run sequence 0 from the start: in one
// population of two models (num_memory_15 for neurons 0, 1; best_elm_neuron
// for 2, 3), each neuron's outputs are its model's batch forward's, bit for
// bit (the exact mode), on 1 and 2 threads.
TEST_F(PopulationTest, ResetGroupsAndThreads) {
  const Input in = ReadInput(50);
  ElmModel<float> small = Load<float>("num_memory_15");
  ElmModel<float> big = Load<float>("best_elm_neuron");
  ASSERT_FALSE(Projected(small, in));
  ASSERT_FALSE(Projected(big, in));
  const std::vector<float> y_small = BatchForward(small, in);
  const std::vector<float> y_big = BatchForward(big, in);
  constexpr int64_t kDelay = 37;
  const int64_t N = 4, n_in = in.n_in;
  std::vector<std::vector<float>> outputs;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(absl::StrCat(threads, " threads"));
    absl::StatusOr<ElmPopulation<float>> pop = ElmPopulation<float>::Create(
        {{&small, 2}, {&big, 2}},
        {.threads = threads, .project_first_layer = false});
    ASSERT_TRUE(pop.ok()) << pop.status();
    EXPECT_EQ(pop->threads(), threads);  // two tiles: one per group
    Rng rng(7);
    std::vector<float> x(N * n_in), trace;
    for (int64_t t = 0; t < kDelay + in.steps; ++t) {
      std::fill(x.begin(), x.end(), 0.0f);
      for (int64_t i = 0; i < N; ++i) {
        const bool late = i % 2 == 1;
        if (late && t == kDelay) pop->Reset(i);
        const int64_t s = late ? t - kDelay : t;  // step of its sequence
        for (int64_t c = 0; c < n_in; ++c) {
          if (late && s < 0) {
            x[i * n_in + c] = rng.Bernoulli(0.02) ? 1.0f : 0.0f;
          } else if (s < in.steps) {
            x[i * n_in + c] = static_cast<float>(in.row(late, s)[c]);
          }
        }
      }
      pop->StepDense(x.data());
      trace.insert(trace.end(), pop->output().begin(), pop->output().end());
      for (int64_t i = 0; i < N; ++i) {
        const bool late = i % 2 == 1;
        const int64_t s = late ? t - kDelay : t;
        if (s < 0 || s >= in.steps) continue;
        const std::vector<float>& ref = i < 2 ? y_small : y_big;
        const int64_t r = (late ? 1 : 0) * in.steps + s;
        ASSERT_EQ(pop->output()[2 * i], ref[2 * r])
            << "neuron " << i << " step " << t;
        ASSERT_EQ(pop->output()[2 * i + 1], ref[2 * r + 1])
            << "neuron " << i << " step " << t;
      }
    }
    outputs.push_back(std::move(trace));
  }
  EXPECT_EQ(outputs[0], outputs[1]);
}

// Many neurons over several tiles and threads: the same outputs as one by
// one, and a neuron's outputs do not depend on its neighbours.
TEST_F(PopulationTest, ManyNeuronsMatchOneByOne) {
  ElmModel<float> model = Load<float>("num_memory_15");
  const int64_t N = 3 * kPopulationTile + 5, n_in = model.shape().num_input;
  absl::StatusOr<ElmPopulation<float>> many =
      ElmPopulation<float>::Create(model, N, {.threads = 2});
  absl::StatusOr<ElmPopulation<float>> one =
      ElmPopulation<float>::Create(model, 1, {});
  ASSERT_TRUE(many.ok() && one.ok());
  const int64_t watched = N - 2;
  Rng rng(3);
  std::vector<int64_t> row_begin(N + 1);
  std::vector<int32_t> col;
  for (int t = 0; t < 40; ++t) {
    col.clear();
    std::vector<int32_t> own;
    for (int64_t i = 0; i < N; ++i) {
      row_begin[i] = static_cast<int64_t>(col.size());
      for (int k = 0; k < 14; ++k) {
        const int32_t c = static_cast<int32_t>(rng.UniformInt(n_in));
        col.push_back(c);
        if (i == watched) own.push_back(c);
      }
    }
    row_begin[N] = static_cast<int64_t>(col.size());
    many->StepSparse(row_begin.data(), col.data(), nullptr);
    const int64_t rb[2] = {0, static_cast<int64_t>(own.size())};
    one->StepSparse(rb, own.data(), nullptr);
    ASSERT_EQ(many->spike_probability()[watched], one->spike_probability()[0]);
    ASSERT_EQ(many->soma_voltage()[watched], one->soma_voltage()[0]);
  }
}

TEST_F(PopulationTest, CreateErrors) {
  ElmModel<float> model = Load<float>("num_memory_15");
  EXPECT_FALSE(ElmPopulation<float>::Create(model, 0, {}).ok());
  EXPECT_FALSE(ElmPopulation<float>::Create(model, 4, {.threads = 0}).ok());
  EXPECT_FALSE(ElmPopulation<float>::Create({}, {}).ok());
  ElmConfig other;
  other.set_num_input(10);
  other.set_num_output(2);
  other.set_num_memory(3);
  absl::StatusOr<ElmModel<float>> tiny = ElmModel<float>::Create(other);
  ASSERT_TRUE(tiny.ok()) << tiny.status();
  const absl::Status mixed =
      ElmPopulation<float>::Create({{&model, 1}, {&*tiny, 1}}, {}).status();
  EXPECT_EQ(mixed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.message().find("group 1"), std::string::npos) << mixed;
}

}  // namespace
}  // namespace elm
