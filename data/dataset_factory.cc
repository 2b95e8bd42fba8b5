// The dataset factory: see dataset_factory.h.
#include "data/dataset_factory.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/text_proto.h"
#include "base/user_path.h"
#include "data/fashion_mnist.h"
#include "data/listops.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "data/pathfinder.h"
#include "data/shd.h"
#include "google/protobuf/descriptor.h"

namespace elm {

std::string DatasetKindName(const DatasetSpec& spec) {
  if (spec.kind_case() == DatasetSpec::KIND_NOT_SET) return "";
  if (spec.has_shd()) return spec.shd().adding() ? "shd_adding" : "shd";
  // The oneof field's name, for kinds added later.
  const google::protobuf::FieldDescriptor* field =
      DatasetSpec::descriptor()->FindFieldByNumber(spec.kind_case());
  return field == nullptr ? absl::StrCat("kind ", spec.kind_case())
                          : field->name();
}

absl::StatusOr<DatasetSpec> ParseDatasetSpecText(absl::string_view text,
                                                 absl::string_view source) {
  DatasetSpec spec;
  if (absl::Status s = ParseTextProto(text, &spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset spec '", source,
        "' is not a valid elm.DatasetSpec text proto: ", s.message()));
  }
  return spec;
}

absl::StatusOr<DatasetSpec> ReadDatasetSpecFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, "dataset spec", kMaxTextFileBytes));
  return ParseDatasetSpecText(text, path);
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeDataset(const DatasetSpec& spec) {
  if (spec.has_neuronio()) {
    if (spec.neuronio().has_generate()) {
      ASSIGN_OR_RETURN(
          std::unique_ptr<GeneratedNeuronioDataset> d,
          MakeGeneratedNeuronioDataset(spec.neuronio(), spec.seed()));
      return std::unique_ptr<Dataset>(std::move(d));
    }
    return MakeNeuronioDataset(spec.neuronio(), spec.seed());
  }
  if (spec.has_shd()) return MakeShdDataset(spec.shd(), spec.seed());
  if (spec.has_listops()) {
    const ListOpsSpec& l = spec.listops();
    ListOpsSplits splits;
    if (!l.data_dir().empty()) {
      ASSIGN_OR_RETURN(splits, ReadListOpsDir(ResolveUserPath(l.data_dir())));
    } else {
      ListOpsGeneratorOptions options;
      options.num_train = l.num_train();
      options.num_valid = l.num_valid();
      options.num_test = l.num_test();
      options.min_length = l.min_length();
      options.max_length = l.max_length();
      options.max_depth = l.max_depth();
      if (l.has_train_min_length()) {
        options.train_min_length = l.train_min_length();
      }
      if (l.has_train_max_length()) {
        options.train_max_length = l.train_max_length();
      }
      options.seed = spec.seed();
      ASSIGN_OR_RETURN(splits, GenerateListOps(options));
    }
    ListOpsDatasetOptions options;
    options.steps = l.steps();
    options.pad_at_start = l.padding() == ListOpsSpec::START;
    options.length_curriculum = l.length_curriculum();
    ASSIGN_OR_RETURN(std::unique_ptr<ListOpsDataset> d,
                     ListOpsDataset::Create(std::move(splits), options));
    return std::unique_ptr<Dataset>(std::move(d));
  }
  if (spec.has_fashion_mnist()) {
    const FashionMnistSpec& f = spec.fashion_mnist();
    FashionMnistOptions options;
    options.dir = ResolveUserPath(f.dir());
    options.encoding = f.encoding() == FashionMnistSpec::ROW
                           ? FashionMnistEncoding::kRow
                           : FashionMnistEncoding::kPixel;
    options.num_valid = f.num_valid();
    ASSIGN_OR_RETURN(std::unique_ptr<FashionMnistDataset> d,
                     FashionMnistDataset::Load(options));
    return std::unique_ptr<Dataset>(std::move(d));
  }
  if (spec.has_pathfinder()) {
    const PathfinderSpec& p = spec.pathfinder();
    PathfinderDatasetOptions options;
    options.image = PathfinderPreset(p.size());
    if (p.grey_bins() != 0) options.image.grey_bins = p.grey_bins();
    if (p.num_distractors() >= 0) {
      options.image.num_distractors = p.num_distractors();
    }
    if (p.contour_length() > 0) {
      options.image.contour_length = p.contour_length();
    }
    if (p.line_contrast() != 0) {
      options.image.line_contrast = p.line_contrast();
    }
    options.num_train = p.num_train();
    options.num_valid = p.num_valid();
    options.num_test = p.num_test();
    ASSIGN_OR_RETURN(std::unique_ptr<PathfinderDataset> d,
                     PathfinderDataset::Create(options, spec.seed()));
    return std::unique_ptr<Dataset>(std::move(d));
  }
  if (spec.kind_case() == DatasetSpec::KIND_NOT_SET) {
    return absl::InvalidArgumentError(
        "DatasetSpec has no dataset kind: set `neuronio { ... }`, `shd { ... "
        "}`, "
        "`listops { ... }`, `fashion_mnist { ... }` or `pathfinder { ... }`");
  }
  return absl::UnimplementedError(absl::StrCat(
      "DatasetSpec kind '", DatasetKindName(spec),
      "' is not built by MakeDataset yet (data/dataset_factory.cc)"));
}

absl::StatusOr<Split> ParseSplit(absl::string_view name) {
  for (Split s : {Split::kTrain, Split::kValid, Split::kTest}) {
    if (name == SplitName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown split '", name, "': expected train, valid or test"));
}

}  // namespace elm
