// `bazel run //data:export_npy`: draws batches from a dataset's sampler and
// writes them as numpy .npy files, to look at the data the trainer sees from
// Python (`numpy.load`).
//
//   bazel run //data:export_npy -- --spec=<DatasetSpec textproto>
//       --split=train|valid|test --batches=N --batch_size=B [--seed=S]
//       --out_dir=<dir> [--max_bytes=2147483648]
//
// Writes to --out_dir (created if missing): inputs.npy, float32 (N·B, T, D),
// the dense inputs; for NeuronIO spike.npy and soma.npy, float32 (N·B, T), the
// per-step targets; for classification labels.npy, int64 (N·B,). Row n·B + b
// is sequence b of batch n. The dataset is built from the spec with its seed;
// --seed seeds the sampler. Each file is written to a temporary file and
// renamed into place only after every batch was drawn, so a failed run leaves
// no partial files. The export refuses to write more than --max_bytes in all.
// Relative paths are taken from the directory `bazel run` was started in.
// Exit status: 0 on success, 1 on a data or file error, 2 on a usage error.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "base/user_path.h"
#include "data/dataset.h"
#include "data/dataset_factory.h"
#include "gflags/gflags.h"
#include "io/npy.h"

DEFINE_string(spec, "",
              "dataset spec: elm.DatasetSpec in protobuf text format");
DEFINE_string(split, "train", "split to sample: train, valid or test");
DEFINE_int32(batches, 1, "number of batches to draw");
DEFINE_int32(batch_size, 8, "sequences per batch");
DEFINE_uint64(seed, 0, "seed of the sampler");
DEFINE_string(out_dir, "", "folder to write the .npy files to");
DEFINE_int64(max_bytes, int64_t{2} << 30,
             "refuse to write more than this many bytes in all");

namespace elm {
namespace {

// One output file.
struct Output {
  std::string name;
  NpyDtype dtype;
  std::vector<int64_t> shape;
  std::unique_ptr<NpyWriter> writer = nullptr;
};

std::string HumanBytes(int64_t bytes) {
  return absl::StrFormat("%.2f GiB", bytes / double{int64_t{1} << 30});
}

absl::Status Run(Split split) {
  const std::string spec_path = ResolveUserPath(FLAGS_spec);
  const std::string out_dir = ResolveUserPath(FLAGS_out_dir);
  auto in_spec = [&](const absl::Status& st) {
    return absl::Status(st.code(), absl::StrCat("dataset spec '", spec_path,
                                                "': ", st.message()));
  };
  ASSIGN_OR_RETURN(DatasetSpec spec, ReadDatasetSpecFile(spec_path));
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = MakeDataset(spec);
  if (!dataset.ok()) return in_spec(dataset.status());
  const DatasetInfo& info = (*dataset)->info();
  const int64_t batch = FLAGS_batch_size;
  const int64_t rows = int64_t{FLAGS_batches} * batch;
  const int64_t steps = info.steps, dim = info.input_dim;

  std::vector<Output> outputs;
  outputs.push_back({"inputs.npy", NpyDtype::kFloat32, {rows, steps, dim}});
  if (info.num_classes == 0) {
    outputs.push_back({"spike.npy", NpyDtype::kFloat32, {rows, steps}});
    outputs.push_back({"soma.npy", NpyDtype::kFloat32, {rows, steps}});
  } else {
    outputs.push_back({"labels.npy", NpyDtype::kInt64, {rows}});
  }
  int64_t total = 0;
  std::string sizes;
  for (const Output& o : outputs) {
    absl::StatusOr<int64_t> size = NpySize(o.dtype, o.shape);
    if (!size.ok() || __builtin_add_overflow(total, *size, &total)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the export of ", FLAGS_batches, " batches of ", batch, " (", steps,
          " steps of ", dim, " inputs) does not fit in 64-bit sizes"));
    }
    absl::StrAppend(&sizes, sizes.empty() ? "" : ", ", o.name, " ", *size);
  }
  if (total > FLAGS_max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the export would write ", total, " bytes (", HumanBytes(total), ": ",
        sizes, ") to ", out_dir, ", more than --max_bytes=", FLAGS_max_bytes,
        " (", HumanBytes(FLAGS_max_bytes),
        "); lower --batches or --batch_size, or raise --max_bytes to at "
        "least ",
        total));
  }

  absl::StatusOr<std::unique_ptr<BatchSampler>> sampler =
      (*dataset)->MakeSampler(split, FLAGS_batch_size, FLAGS_seed);
  if (!sampler.ok()) return in_spec(sampler.status());

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (!std::filesystem::is_directory(out_dir)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--out_dir '", out_dir, "' is not a folder and cannot be created",
        ec ? absl::StrCat(": ", ec.message()) : ""));
  }
  for (Output& o : outputs) {
    ASSIGN_OR_RETURN(
        o.writer,
        NpyWriter::Create((std::filesystem::path(out_dir) / o.name).string(),
                          o.dtype, o.shape));
  }

  std::vector<float> dense(batch * steps * dim);
  for (int n = 0; n < FLAGS_batches; ++n) {
    absl::StatusOr<Batch> b = (**sampler).Next();
    if (!b.ok()) return in_spec(b.status());
    const bool targets_ok =
        info.num_classes == 0
            ? (b->spike.size() == static_cast<size_t>(batch * steps) &&
               b->soma.size() == static_cast<size_t>(batch * steps))
            : b->labels.size() == static_cast<size_t>(batch);
    if (b->batch != batch || b->steps != steps || b->input_dim() != dim ||
        !targets_ok) {
      return absl::InternalError(absl::StrCat(
          "batch ", n, " of the ", SplitName(split), " sampler has shape (",
          b->batch, ", ", b->steps, ", ", b->input_dim(), ") with ",
          b->spike.size(), " spike, ", b->soma.size(), " soma and ",
          b->labels.size(), " label targets; expected (", batch, ", ", steps,
          ", ", dim, ")"));
    }
    b->ToDense(dense.data());
    RETURN_IF_ERROR(
        outputs[0].writer->Append<float>(absl::MakeConstSpan(dense)));
    if (info.num_classes == 0) {
      RETURN_IF_ERROR(outputs[1].writer->Append<float>(b->spike));
      RETURN_IF_ERROR(outputs[2].writer->Append<float>(b->soma));
    } else {
      RETURN_IF_ERROR(outputs[1].writer->Append<int64_t>(b->labels));
    }
  }
  for (Output& o : outputs) RETURN_IF_ERROR(o.writer->Commit());

  std::printf(
      "%d batches of %d from the %s split of %s (%s, sampler seed %" PRIu64
      "):\n",
      FLAGS_batches, FLAGS_batch_size, SplitName(split), spec_path.c_str(),
      info.name.c_str(), FLAGS_seed);
  for (const Output& o : outputs) {
    std::printf("  wrote %s: %s %s\n", o.writer->path().c_str(),
                o.dtype == NpyDtype::kInt64 ? "int64" : "float32",
                NpyShapeString(o.shape).c_str());
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "--spec=<DatasetSpec textproto> --split=train|valid|test --batches=N "
      "--batch_size=B [--seed=S] --out_dir=<dir> [--max_bytes=N]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  auto usage_error = [](const std::string& what) {
    std::fprintf(stderr,
                 "export_npy: %s\nusage: bazel run //data:export_npy -- %s\n",
                 what.c_str(), gflags::ProgramUsage());
    return 2;
  };
  if (argc > 1) {
    return usage_error(absl::StrCat("unexpected argument '", argv[1],
                                    "' (everything is given by flags)"));
  }
  if (FLAGS_spec.empty() || FLAGS_out_dir.empty()) {
    return usage_error("--spec and --out_dir are required");
  }
  const absl::StatusOr<elm::Split> split = elm::ParseSplit(FLAGS_split);
  if (!split.ok()) {
    return usage_error(
        absl::StrCat("--split: ", std::string(split.status().message())));
  }
  if (FLAGS_batches <= 0) {
    return usage_error(
        absl::StrCat("--batches must be >= 1, got ", FLAGS_batches));
  }
  if (FLAGS_batch_size <= 0) {
    return usage_error(
        absl::StrCat("--batch_size must be >= 1, got ", FLAGS_batch_size));
  }
  if (FLAGS_max_bytes < 0) {
    return usage_error(
        absl::StrCat("--max_bytes must be >= 0, got ", FLAGS_max_bytes));
  }
  const absl::Status st = elm::Run(*split);
  if (!st.ok()) {
    std::fprintf(stderr, "export_npy: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}
