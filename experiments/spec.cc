// Experiment spec parsing, overrides (protobuf reflection) and validation.
#include "experiments/spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/text_proto.h"
#include "data/neuronio_generator.h"
#include "data/pathfinder.h"
#include "elm/model_config.h"
#include "experiments/model_registry.h"
#include "glog/logging.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"

namespace elm {
namespace {

// Bounds of the LRA data fields (beyond them a run would not fit in memory or
// time anyway; the generators' own limits are checked when the data is built).
constexpr int kMaxListOpsDepth = 10;  // LRA's; deeper trees grow without bound
constexpr int64_t kFashionMnistTrainImages = 60000;
constexpr int kMaxPathfinderSize = 1024;
constexpr int64_t kMaxPathfinderSplit = 100'000'000;

absl::Status Bad(absl::string_view field, double value,
                 absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = ", value, "; expected ", expected));
}

// Bad for integer fields (StrCat of a double would print 1e+08).
absl::Status BadCount(absl::string_view field, int64_t value,
                      absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = ", value, "; expected ", expected));
}

// Checks lo <= v (and v finite).
absl::Status AtLeast(absl::string_view field, double v, double lo) {
  if (!(std::isfinite(v) && v >= lo)) {
    return Bad(field, v, absl::StrCat("a finite value >= ", lo));
  }
  return absl::OkStatus();
}

absl::Status ValidateData(const DatasetSpec& data) {
  switch (data.kind_case()) {
    case DatasetSpec::kNeuronio: {
      const NeuronioSpec& n = data.neuronio();
      if (n.window_ms() <= 0) {
        return Bad("data.neuronio.window_ms", n.window_ms(), ">= 1");
      }
      if (n.ignore_start_ms() < 0) {
        return Bad("data.neuronio.ignore_start_ms", n.ignore_start_ms(),
                   ">= 0");
      }
      if (!(n.file_load_fraction() > 0 && n.file_load_fraction() <= 1)) {
        return Bad("data.neuronio.file_load_fraction", n.file_load_fraction(),
                   "a value in (0, 1]");
      }
      if (n.has_generate()) {
        const NeuronioGeneratorSpec& g = n.generate();
        if (n.train_files_size() + n.valid_files_size() + n.test_files_size() >
            0) {
          return absl::InvalidArgumentError(
              "data.neuronio: both `generate` and file lists are set; use "
              "one");
        }
        if (g.num_train_files() < 1) {
          return Bad("data.neuronio.generate.num_train_files",
                     g.num_train_files(), ">= 1");
        }
        if (g.num_valid_files() < 1) {
          return Bad("data.neuronio.generate.num_valid_files",
                     g.num_valid_files(), ">= 1 (validation picks the model)");
        }
        if (g.num_test_files() < 1) {
          return Bad("data.neuronio.generate.num_test_files",
                     g.num_test_files(), ">= 1 (the run ends with a test)");
        }
        if (g.simulations_per_file() < 1) {
          return Bad("data.neuronio.generate.simulations_per_file",
                     g.simulations_per_file(), ">= 1");
        }
        RETURN_IF_ERROR(
            CheckGeneratedDataSize(int64_t{g.num_train_files()} +
                                       g.num_valid_files() + g.num_test_files(),
                                   g.simulations_per_file(), g.duration_ms(),
                                   "data.neuronio.generate."));
        if (n.window_ms() + n.ignore_start_ms() >= g.duration_ms()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "data.neuronio: window_ms + ignore_start_ms = ",
              n.window_ms() + n.ignore_start_ms(),
              "; expected below generate.duration_ms = ", g.duration_ms()));
        }
      } else {
        if (n.train_files_size() == 0) {
          return absl::InvalidArgumentError(
              "data.neuronio.train_files is empty; list files or globs, or "
              "set data.neuronio.generate");
        }
        if (n.valid_files_size() == 0) {
          return absl::InvalidArgumentError(
              "data.neuronio.valid_files is empty; validation picks the kept "
              "model");
        }
        if (n.test_files_size() == 0) {
          return absl::InvalidArgumentError(
              "data.neuronio.test_files is empty; the run ends with a test");
        }
      }
      return absl::OkStatus();
    }
    case DatasetSpec::kShd: {
      const ShdSpec& s = data.shd();
      if (s.train_file().empty()) {
        return absl::InvalidArgumentError(
            "data.shd.train_file is empty; give the path of shd_train.h5");
      }
      if (s.test_file().empty()) {
        return absl::InvalidArgumentError(
            "data.shd.test_file is empty; give the path of shd_test.h5");
      }
      if (!(s.bin_size_ms() > 0)) {
        return Bad("data.shd.bin_size_ms", s.bin_size_ms(), "> 0");
      }
      if (!(s.valid_fraction() > 0 && s.valid_fraction() < 1)) {
        return Bad("data.shd.valid_fraction", s.valid_fraction(),
                   "a value in (0, 1)");
      }
      return absl::OkStatus();
    }
    case DatasetSpec::kListops: {
      // Generated sequences are held in memory: up to 2000 int32 tokens
      // each, so 10^6 of them take up to 8 GB (LRA uses 100,000).
      const ListOpsSpec& l = data.listops();
      if (l.steps() < 1 || l.steps() > kMaxListOpsSteps) {
        return BadCount("data.listops.steps", l.steps(),
                        absl::StrCat("a value in [1, ", kMaxListOpsSteps, "]"));
      }
      if (!l.data_dir().empty()) return absl::OkStatus();
      if (l.num_train() + l.num_valid() + l.num_test() > kMaxListOpsSequences) {
        return absl::InvalidArgumentError(absl::StrCat(
            "data.listops: num_train + num_valid + num_test = ",
            l.num_train() + l.num_valid() + l.num_test(), "; expected at most ",
            kMaxListOpsSequences,
            " generated sequences (held in memory, up to 8 KB each)"));
      }
      // Generated: each split holds at least one batch, and the generator
      // draws expressions of 501..1999 tokens.
      const std::pair<const char*, int64_t> counts[] = {
          {"data.listops.num_train", l.num_train()},
          {"data.listops.num_valid", l.num_valid()},
          {"data.listops.num_test", l.num_test()}};
      for (const auto& [field, n] : counts) {
        if (n < 1 || n > kMaxListOpsSequences) {
          return BadCount(
              field, n,
              absl::StrCat("a value in [1, ", kMaxListOpsSequences, "]"));
        }
      }
      if (l.max_depth() < 1 || l.max_depth() > kMaxListOpsDepth) {
        return BadCount("data.listops.max_depth", l.max_depth(),
                        absl::StrCat("a value in [1, ", kMaxListOpsDepth, "]"));
      }
      if (l.min_length() < 0) {
        return BadCount("data.listops.min_length", l.min_length(), ">= 0");
      }
      if (l.max_length() <= l.min_length() + 1) {
        return BadCount("data.listops.max_length", l.max_length(),
                        absl::StrCat("> min_length + 1 = ", l.min_length() + 1,
                                     " (lengths are strictly between)"));
      }
      const int64_t train_min =
          l.has_train_min_length() ? l.train_min_length() : l.min_length();
      const int64_t train_max =
          l.has_train_max_length() ? l.train_max_length() : l.max_length();
      if (train_min < 0) {
        return BadCount("data.listops.train_min_length", train_min, ">= 0");
      }
      if (train_max <= train_min + 1) {
        return BadCount("data.listops.train_max_length", train_max,
                        absl::StrCat("> train_min_length + 1 = ", train_min + 1,
                                     " (lengths are strictly between)"));
      }
      const int64_t longest = std::max(l.max_length(), train_max) - 1;
      if (l.steps() < longest) {
        return BadCount(
            "data.listops.steps", l.steps(),
            absl::StrCat(">= ", longest, " (generated expressions have up to ",
                         longest,
                         " tokens: max_length - 1 and train_max_length - 1; "
                         "LRA pads to 2000)"));
      }
      return absl::OkStatus();
    }
    case DatasetSpec::kFashionMnist: {
      const FashionMnistSpec& f = data.fashion_mnist();
      if (f.dir().empty()) {
        return absl::InvalidArgumentError(
            "data.fashion_mnist.dir is empty; give the folder of the IDX "
            "files (Debian: /usr/share/datasets/fashion-mnist)");
      }
      if (f.num_valid() < 1 || f.num_valid() >= kFashionMnistTrainImages) {
        return BadCount(
            "data.fashion_mnist.num_valid", f.num_valid(),
            absl::StrCat("a value in [1, ", kFashionMnistTrainImages - 1,
                         "] (validation picks the kept model)"));
      }
      return absl::OkStatus();
    }
    case DatasetSpec::kPathfinder: {
      // The geometry itself is checked by ValidatePathfinderOptions (data/
      // pathfinder.h) when the data is built; these are the spec's fields.
      const PathfinderSpec& p = data.pathfinder();
      if (p.size() < 8 || p.size() > kMaxPathfinderSize) {
        return BadCount("data.pathfinder.size", p.size(),
                        absl::StrCat("a value in [8, ", kMaxPathfinderSize,
                                     "] (32: Pathfinder, 128: Path-X)"));
      }
      const std::pair<const char*, int64_t> counts[] = {
          {"data.pathfinder.num_train", p.num_train()},
          {"data.pathfinder.num_valid", p.num_valid()},
          {"data.pathfinder.num_test", p.num_test()}};
      for (const auto& [field, n] : counts) {
        if (n < 1 || n > kMaxPathfinderSplit) {
          return BadCount(
              field, n,
              absl::StrCat("a value in [1, ", kMaxPathfinderSplit, "]"));
        }
      }
      if (p.grey_bins() != 0 && (p.grey_bins() < 2 || p.grey_bins() > 256)) {
        return BadCount("data.pathfinder.grey_bins", p.grey_bins(),
                        "0 (the preset's) or a value in [2, 256]");
      }
      if (p.num_distractors() < -1 || p.num_distractors() > 1000) {
        return BadCount("data.pathfinder.num_distractors", p.num_distractors(),
                        "-1 (the preset's) or a value in [0, 1000]");
      }
      if (p.contour_length() < 0 || p.contour_length() > 1000) {
        return BadCount("data.pathfinder.contour_length", p.contour_length(),
                        "0 (the preset's, 14) or a value in [1, 1000]");
      }
      if (!(p.line_contrast() >= 0 && p.line_contrast() <= 1)) {
        return Bad("data.pathfinder.line_contrast", p.line_contrast(),
                   "0 (the preset's, 1) or a value in (0, 1]");
      }
      return absl::OkStatus();
    }
    case DatasetSpec::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "data: no dataset set; set one of data.neuronio, data.shd, "
      "data.listops, data.fashion_mnist, data.pathfinder");
}

// Input and output sizes of the data, known from the spec alone.
void DataSizes(const DatasetSpec& data, int* inputs, int* outputs) {
  *inputs = 1;
  *outputs = 2;
  if (data.has_neuronio()) {
    *inputs = 1278;
  } else if (data.has_shd()) {
    *inputs = 700;
    *outputs = data.shd().adding() ? 19 : 20;
  } else if (data.has_listops()) {
    *inputs = 16;
    *outputs = 10;
  } else if (data.has_fashion_mnist()) {
    *inputs =
        data.fashion_mnist().encoding() == FashionMnistSpec::ROW ? 28 : 16;
    *outputs = 10;
  } else if (data.has_pathfinder()) {
    const PathfinderSpec& p = data.pathfinder();
    *inputs = p.grey_bins() != 0 ? p.grey_bins()
                                 : PathfinderPreset(p.size()).grey_bins;
    *outputs = 2;
  }
}

absl::Status ValidateModel(const ModelSpec& model, const DatasetSpec& data) {
  int inputs = 0, outputs = 0;
  DataSizes(data, &inputs, &outputs);
  const bool neuronio = data.has_neuronio();
  switch (model.kind_case()) {
    case ModelSpec::kElm: {
      ElmConfig c = model.elm();
      if (c.has_num_input() && c.num_input() != inputs) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model.elm.num_input = ", c.num_input(), "; the data has ", inputs,
            " inputs (leave it unset to take it from the data)"));
      }
      if (c.has_num_output() && c.num_output() != outputs) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model.elm.num_output = ", c.num_output(), "; the data needs ",
            outputs, " (leave it unset to take it from the data)"));
      }
      c.set_num_input(inputs);
      c.set_num_output(outputs);
      absl::StatusOr<ElmShape> shape = ValidateElmConfig(c);
      if (!shape.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("model.elm: ", shape.status().message()));
      }
      return absl::OkStatus();
    }
    case ModelSpec::kLstm:
      if (model.lstm().hidden() < 1) {
        return Bad("model.lstm.hidden", model.lstm().hidden(), ">= 1");
      }
      // elm/lstm.h: b_f = log(U(1, T_max − 1)) needs T_max > 2.
      if (const double t = model.lstm().chrono_t_max();
          !(t == 0 || (std::isfinite(t) && t > 2))) {
        return Bad("model.lstm.chrono_t_max", t,
                   "0 (off) or a finite value > 2 (the paper: 2000 for "
                   "Image and Pathfinder)");
      }
      // 4·H·(D + H + 1) + (H + 1)·outputs weights, bounded as an ELM's.
      if (const int64_t h = model.lstm().hidden();
          h > kMaxElmDim ||
          4 * h * (inputs + h + 1) + (h + 1) * outputs > kMaxElmParams) {
        return Bad("model.lstm.hidden", h,
                   absl::StrCat("at most the size that gives ", kMaxElmParams,
                                " trainable parameters"));
      }
      return absl::OkStatus();
    case ModelSpec::kLif: {
      if (!neuronio) {
        return absl::InvalidArgumentError(
            "model.lif: the LIF/ALIF baselines predict spikes and soma "
            "voltage; they need data.neuronio");
      }
      const LifSpec& l = model.lif();
      if (!(l.tau_mem_min() > 0 && l.tau_mem_min() < l.tau_mem_init() &&
            l.tau_mem_init() < l.tau_mem_max())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model.lif: expected 0 < tau_mem_min < tau_mem_init < "
            "tau_mem_max; got ",
            l.tau_mem_min(), ", ", l.tau_mem_init(), ", ", l.tau_mem_max()));
      }
      if (l.adaptive() &&
          !(l.tau_adapt_min() > 0 && l.tau_adapt_min() < l.tau_adapt_init() &&
            l.tau_adapt_init() < l.tau_adapt_max())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model.lif: expected 0 < tau_adapt_min < tau_adapt_init < "
            "tau_adapt_max; got ",
            l.tau_adapt_min(), ", ", l.tau_adapt_init(), ", ",
            l.tau_adapt_max()));
      }
      if (!(l.surrogate_beta() > 0)) {
        return Bad("model.lif.surrogate_beta", l.surrogate_beta(), "> 0");
      }
      return absl::OkStatus();
    }
    case ModelSpec::kCustom: {
      const CustomModelSpec& c = model.custom();
      if (c.name().empty()) {
        return absl::InvalidArgumentError(
            "model.custom.name is empty; name a registered model");
      }
      const std::vector<std::string> names = RegisteredModelNames();
      if (std::find(names.begin(), names.end(), c.name()) == names.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model.custom.name = '", c.name(),
            "' is not a registered model (registered in this binary: ",
            names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
      }
      return absl::OkStatus();
    }
    case ModelSpec::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "model: no model set; set one of model.elm, model.lstm, model.lif, "
      "model.custom");
}

absl::Status ValidateTrain(const TrainSpec& t) {
  if (!(std::isfinite(t.lr()) && t.lr() > 0)) {
    return Bad("train.lr", t.lr(), "a finite value > 0");
  }
  RETURN_IF_ERROR(AtLeast("train.weight_decay", t.weight_decay(), 0));
  if (!(t.beta1() >= 0 && t.beta1() < 1)) {
    return Bad("train.beta1", t.beta1(), "a value in [0, 1)");
  }
  if (!(t.beta2() >= 0 && t.beta2() < 1)) {
    return Bad("train.beta2", t.beta2(), "a value in [0, 1)");
  }
  RETURN_IF_ERROR(AtLeast("train.eps", t.eps(), 0));
  RETURN_IF_ERROR(AtLeast("train.momentum", t.momentum(), 0));
  RETURN_IF_ERROR(AtLeast("train.min_lr", t.min_lr(), 0));
  if (t.min_lr() > t.lr()) {
    return Bad("train.min_lr", t.min_lr(),
               absl::StrCat("a value <= train.lr = ", t.lr()));
  }
  if (t.warmup_steps() < 0) {
    return Bad("train.warmup_steps", t.warmup_steps(), ">= 0");
  }
  if (t.batch_size() < 1)
    return Bad("train.batch_size", t.batch_size(), ">= 1");
  if (t.batches_per_epoch() < 1) {
    return Bad("train.batches_per_epoch", t.batches_per_epoch(), ">= 1");
  }
  if (t.epochs() < 1) return Bad("train.epochs", t.epochs(), ">= 1");
  RETURN_IF_ERROR(AtLeast("train.clip_grad_norm", t.clip_grad_norm(), 0));
  if (!(t.input_dropout() >= 0 && t.input_dropout() < 1)) {
    return Bad("train.input_dropout", t.input_dropout(), "a value in [0, 1)");
  }
  if (t.threads() < 1 || t.threads() > 256) {
    return Bad("train.threads", t.threads(), "a value in [1, 256]");
  }
  if (t.shards() < 0 || t.shards() > 4096) {
    return Bad("train.shards", t.shards(),
               "a value in [0, 4096] (0: as many as train.threads)");
  }
  if (t.checkpoint_every_steps() < 0) {
    return Bad("train.checkpoint_every_steps", t.checkpoint_every_steps(),
               ">= 0 (0: at the end of each epoch)");
  }
  if (t.log_every_steps() < 1) {
    return Bad("train.log_every_steps", t.log_every_steps(), ">= 1");
  }
  return absl::OkStatus();
}

// The name of the data section's kind ("pathfinder"), or "no" when unset.
std::string DataKindName(const DatasetSpec& data) {
  const google::protobuf::OneofDescriptor* kind =
      data.GetDescriptor()->FindOneofByName("kind");
  CHECK(kind != nullptr);
  const google::protobuf::FieldDescriptor* set =
      data.GetReflection()->GetOneofFieldDescriptor(data, kind);
  return set == nullptr ? "no" : set->name();
}

// train.curriculum: stage lengths, and each stage's data (of the same kind
// as spec.data, and valid).
absl::Status ValidateCurriculum(const ExperimentSpec& spec) {
  const TrainSpec& t = spec.train();
  int64_t epochs = 0;
  for (int i = 0; i < t.curriculum_size(); ++i) {
    const std::string stage = absl::StrCat("train.curriculum[", i, "]");
    const int e = t.curriculum(i).epochs();
    if (e < 1) return BadCount(stage + ".epochs", e, ">= 1");
    epochs += e;
    if (epochs > t.epochs()) {
      return BadCount(stage + ".epochs", e,
                      absl::StrCat("stages of ", t.epochs(),
                                   " epochs at most in all (train.epochs)"));
    }
    ASSIGN_OR_RETURN(DatasetSpec data, CurriculumStageData(spec, i));
    if (data.kind_case() != spec.data().kind_case()) {
      return absl::InvalidArgumentError(
          absl::StrCat(stage, ".set: the stage trains on ", DataKindName(data),
                       " data, the run on ", DataKindName(spec.data()),
                       "; a stage may change the data's fields, not its kind"));
    }
    if (absl::Status valid = ValidateData(data); !valid.ok()) {
      return absl::Status(valid.code(),
                          absl::StrCat(stage, ": ", valid.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateEval(const EvalSpec& e) {
  if (e.window_ms() < 1) return Bad("eval.window_ms", e.window_ms(), ">= 1");
  if (e.burn_in_ms() < 0 || e.burn_in_ms() >= e.window_ms()) {
    return Bad(
        "eval.burn_in_ms", e.burn_in_ms(),
        absl::StrCat("a value in [0, eval.window_ms = ", e.window_ms(), ")"));
  }
  if (e.ignore_start_ms() < 0) {
    return Bad("eval.ignore_start_ms", e.ignore_start_ms(), ">= 0");
  }
  if (e.max_spike_count() < 0) {
    return Bad("eval.max_spike_count", e.max_spike_count(), ">= 0");
  }
  if (e.batch_size() < 1) return Bad("eval.batch_size", e.batch_size(), ">= 1");
  if (e.valid_files() < 1) {
    return Bad("eval.valid_files", e.valid_files(), ">= 1");
  }
  if (e.valid_batches() < 0) {
    return Bad("eval.valid_batches", e.valid_batches(), ">= 0");
  }
  if (e.test_batches() < 0) {
    return Bad("eval.test_batches", e.test_batches(), ">= 0");
  }
  if (e.plot_ms() < 1) return Bad("eval.plot_ms", e.plot_ms(), ">= 1");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExperimentSpec> ParseExperimentSpecText(
    absl::string_view text, absl::string_view source) {
  ExperimentSpec spec;
  if (absl::Status s = ParseTextProto(text, &spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec '", source,
        "' is not a valid elm.ExperimentSpec text proto: ", s.message()));
  }
  return spec;
}

absl::StatusOr<ExperimentSpec> ReadExperimentSpecFile(const std::string& path) {
  ASSIGN_OR_RETURN(
      const std::string text,
      ReadFileToString(path, "experiment spec", kMaxTextFileBytes));
  return ParseExperimentSpecText(text, path);
}

absl::Status ApplySpecOverride(absl::string_view assignment,
                               ExperimentSpec* spec) {
  const size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "override '", assignment, "': expected path.to.field=value"));
  }
  const absl::string_view path = assignment.substr(0, eq);
  const std::string value(assignment.substr(eq + 1));
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  google::protobuf::Message* message = spec;
  for (size_t i = 0; i < parts.size(); ++i) {
    const google::protobuf::Descriptor* d = message->GetDescriptor();
    const google::protobuf::FieldDescriptor* field =
        d->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) {
      std::vector<std::string> names;
      for (int f = 0; f < d->field_count(); ++f) {
        names.push_back(d->field(f)->name());
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "override '", assignment, "': ", d->name(), " has no field '",
          parts[i], "' (fields: ", absl::StrJoin(names, ", "), ")"));
    }
    const google::protobuf::Reflection* r = message->GetReflection();
    if (i + 1 < parts.size()) {
      if (field->cpp_type() !=
              google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
          field->is_repeated()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "override '", assignment, "': '", parts[i],
            "' is not a message field, so it has no '", parts[i + 1], "'"));
      }
      message = r->MutableMessage(message, field);
      continue;
    }
    if (field->is_repeated()) r->ClearField(message, field);
    std::string text = value;
    if (field->cpp_type() ==
            google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
        (text.empty() || (text.front() != '"' && text.front() != '\''))) {
      text = absl::StrCat("\"", absl::CEscape(text), "\"");
    }
    const std::string full =
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE
            ? absl::StrCat(field->name(), " ", text)
            : absl::StrCat(field->name(), ": ", text);
    std::unique_ptr<google::protobuf::Message> scratch(message->New());
    if (absl::Status s =
            ParseTextProto(full, scratch.get(), /*allow_partial=*/true);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("override '", assignment, "': bad value for ", d->name(),
                       ".", field->name(), ": ", s.message()));
    }
    r->ClearField(message, field);
    message->MergeFrom(*scratch);
  }
  return absl::OkStatus();
}

absl::StatusOr<DatasetSpec> CurriculumStageData(const ExperimentSpec& spec,
                                                int stage) {
  CHECK_GE(stage, 0);
  CHECK_LT(stage, spec.train().curriculum_size());
  const CurriculumStage& s = spec.train().curriculum(stage);
  ExperimentSpec copy;
  *copy.mutable_data() = spec.data();
  for (int j = 0; j < s.set_size(); ++j) {
    const std::string field =
        absl::StrCat("train.curriculum[", stage, "].set[", j, "]");
    if (!absl::StartsWith(s.set(j), "data.")) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " = '", s.set(j),
                       "'; expected an assignment to the data section, "
                       "\"data.<field>=<value>\""));
    }
    if (absl::Status applied = ApplySpecOverride(s.set(j), &copy);
        !applied.ok()) {
      return absl::Status(applied.code(),
                          absl::StrCat(field, ": ", applied.message()));
    }
  }
  return copy.data();
}

int CurriculumStageOfEpoch(const TrainSpec& train, int epoch) {
  int end = 0;
  for (int i = 0; i < train.curriculum_size(); ++i) {
    end += train.curriculum(i).epochs();
    if (epoch < end) return i;
  }
  return -1;
}

absl::Status ValidateSpec(const ExperimentSpec& spec) {
  if (spec.name().empty()) {
    return absl::InvalidArgumentError(
        "name is empty; name the experiment (letters, digits, '_', '-')");
  }
  for (char c : spec.name()) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
          c == '-')) {
      return absl::InvalidArgumentError(
          absl::StrCat("name = '", spec.name(),
                       "'; expected letters, digits, '_' and '-' only"));
    }
  }
  RETURN_IF_ERROR(ValidateData(spec.data()));
  RETURN_IF_ERROR(ValidateModel(spec.model(), spec.data()));
  RETURN_IF_ERROR(ValidateTrain(spec.train()));
  RETURN_IF_ERROR(ValidateEval(spec.eval()));
  RETURN_IF_ERROR(ValidateCurriculum(spec));
  if (spec.data().has_neuronio() &&
      spec.eval().selection() == EvalSpec::VALID_LOSS) {
    return absl::InvalidArgumentError(
        "eval.selection = VALID_LOSS is for classification; NeuronIO runs "
        "keep the lowest validation soma RMSE (DEFAULT)");
  }
  if (spec.data().has_neuronio() && spec.data().neuronio().has_generate()) {
    const NeuronioSpec& n = spec.data().neuronio();
    if (spec.train().batch_size() > n.generate().simulations_per_file()) {
      return absl::InvalidArgumentError(
          absl::StrCat("train.batch_size = ", spec.train().batch_size(),
                       "; a batch draws distinct simulations of one file, and "
                       "data.neuronio.generate.simulations_per_file = ",
                       n.generate().simulations_per_file()));
    }
    if (spec.eval().ignore_start_ms() >= n.generate().duration_ms()) {
      return Bad("eval.ignore_start_ms", spec.eval().ignore_start_ms(),
                 absl::StrCat("below the simulation length, ",
                              n.generate().duration_ms(),
                              " ms (the scored steps come after it)"));
    }
    if (spec.eval().window_ms() > n.generate().duration_ms()) {
      return Bad("eval.window_ms", spec.eval().window_ms(),
                 absl::StrCat("at most the simulation length, ",
                              n.generate().duration_ms(), " ms"));
    }
  }
  return absl::OkStatus();
}

std::string SpecToText(const ExperimentSpec& spec) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetExpandAny(true);
  printer.PrintToString(spec, &text);
  return text;
}

std::vector<std::string> TakeSetOverrides(int argc, char** argv,
                                          std::vector<char*>* rest) {
  std::vector<std::string> overrides;
  rest->clear();
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--set=")) {
      overrides.push_back(arg.substr(6));
    } else if (arg == "--set" && i + 1 < argc) {
      overrides.push_back(argv[++i]);
    } else {
      rest->push_back(argv[i]);
    }
  }
  return overrides;
}

}  // namespace elm
