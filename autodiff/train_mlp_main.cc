// `bazel run //autodiff:train_mlp`: trains the two-layer MLP example
// (mlp_example.h) and prints its progress and the held-out loss. Flags:
// --steps, --seed, --lr.
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "autodiff/mlp_example.h"

namespace {

bool ParseFlag(absl::string_view arg, absl::string_view name,
               std::string* value) {
  const std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  elm::MlpExampleOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    bool ok = true;
    if (ParseFlag(argv[i], "steps", &v)) {
      ok = absl::SimpleAtoi(v, &options.steps) && options.steps > 0;
    } else if (ParseFlag(argv[i], "seed", &v)) {
      ok = absl::SimpleAtoi(v, &options.seed);
    } else if (ParseFlag(argv[i], "lr", &v)) {
      ok = absl::SimpleAtod(v, &options.lr) && options.lr > 0;
    } else {
      std::fprintf(stderr,
                   "unknown argument '%s' (flags: --steps=N --seed=N --lr=X)\n",
                   argv[i]);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value in '%s'\n", argv[i]);
      return 2;
    }
  }
  const int every = options.steps >= 10 ? options.steps / 10 : 1;
  options.on_step = [every](int step, double loss) {
    if ((step + 1) % every == 0)
      std::printf("step %5d  train mse %.5f\n", step + 1, loss);
  };
  std::printf(
      "two-layer MLP (2 → %d tanh → 1), Adam lr %g, batch %d, %d steps, seed "
      "%llu\n",
      options.hidden, options.lr, options.batch, options.steps,
      static_cast<unsigned long long>(options.seed));
  const elm::MlpExampleResult r = elm::TrainMlpExample(options);
  std::printf("held-out mse: %.5f before training, %.5f after (%.1fx lower)\n",
              r.initial_test_loss, r.final_test_loss,
              r.initial_test_loss / r.final_test_loss);
  return 0;
}
