// Builds the dataset an experiment names. A `DatasetSpec` (dataset_spec.proto)
// holds one kind of dataset (NeuronIO read or generated, SHD, ListOps,
// Fashion-MNIST); `MakeDataset` dispatches to that reader's factory with the
// spec's seed, so every tool and trainer builds datasets the same way. This
// also reads a spec from a protobuf text-format file (`ReadDatasetSpecFile`,
// errors with the file, line and column) and parses split names for command
// lines (`ParseSplit`). Relative file paths inside a spec are resolved by the
// readers against the directory `bazel run` was started in.
#ifndef ELM_DATA_DATASET_FACTORY_H_
#define ELM_DATA_DATASET_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"

namespace elm {

// The name of the spec's kind: "neuronio", "shd", "shd_adding" (an SHD spec
// with `adding`), the oneof field's name for other kinds, or "" when none is
// set.
std::string DatasetKindName(const DatasetSpec& spec);

// Parses `text` as an elm.DatasetSpec in protobuf text format. Errors name
// `source` (a file name, for messages), the line and the column.
absl::StatusOr<DatasetSpec> ParseDatasetSpecText(absl::string_view text,
                                                 absl::string_view source);

// Reads and parses the text-format DatasetSpec at `path` (used as given: the
// caller resolves it). Errors: the file cannot be read, a parse error.
absl::StatusOr<DatasetSpec> ReadDatasetSpecFile(const std::string& path);

// The dataset of `spec`, built with spec.seed(): MakeNeuronioDataset for
// `neuronio` (MakeGeneratedNeuronioDataset when its `generate` is set: the
// data generated in memory), MakeShdDataset for `shd`, ListOps read from its
// TSV folder or generated, Fashion-MNIST from its IDX files. Errors: no kind
// set (InvalidArgument; the message names DatasetSpec and the fields to set), a
// kind this factory does not build yet (Unimplemented), and the readers'
// errors.
absl::StatusOr<std::unique_ptr<Dataset>> MakeDataset(const DatasetSpec& spec);

// "train", "valid" or "test". The error names the accepted values.
absl::StatusOr<Split> ParseSplit(absl::string_view name);

}  // namespace elm

#endif  // ELM_DATA_DATASET_FACTORY_H_
