// `bazel run //data:inspect -- <path>`: prints what a user checks first in a
// NeuronIO simulation file (pickle, optionally .gz, or compact .elmnio), an
// SHD HDF5 file (.h5), a ListOps TSV file, a Fashion-MNIST IDX file or a
// dataset spec (elm.DatasetSpec text proto): counts, durations, rates, soma
// range, lengths, class histogram, and for a spec its files per split and the
// summary of the first file of each split (`--max_files=N` for more). The kind
// is decided from the file's content. A relative path is taken from the
// directory `bazel run` was started in, as are relative paths inside a spec.
// With `--image_grid=<out.pgm>` and a dataset spec of an image dataset
// (Pathfinder, Fashion-MNIST), it writes instead a PGM grid of the first
// `--image_count` images of `--image_split` and lists their labels
// (data/image_grid.h). Exit status: 0 on success, 1 when the file cannot be
// inspected (the message names the file and the problem), 2 on a usage error.
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "base/user_path.h"
#include "data/dataset_factory.h"
#include "data/image_grid.h"
#include "data/inspect.h"
#include "gflags/gflags.h"

DEFINE_int32(max_files, 1,
             "for a dataset spec: files summarized per split (0: none)");

DEFINE_string(image_grid, "",
              "for a dataset spec of images: write a PGM grid of the first "
              "images to this path instead of the summary");
DEFINE_int32(image_count, 16, "with --image_grid: images in the grid");
DEFINE_string(image_split, "test", "with --image_grid: train, valid or test");

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "<NeuronIO file (.p, .p.gz, .elmnio) | SHD file (.h5) | ListOps TSV | "
      "IDX file | DatasetSpec textproto> "
      "[--max_files=N] [--image_grid=<out.pgm> --image_count=N "
      "--image_split=test]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 2) {
    std::fprintf(stderr,
                 "inspect: expected exactly one path, got %d\nusage: "
                 "bazel run //data:inspect -- %s\n",
                 argc - 1, gflags::ProgramUsage());
    return 2;
  }
  if (FLAGS_max_files < 0) {
    std::fprintf(stderr, "inspect: --max_files must be >= 0, got %d\n",
                 FLAGS_max_files);
    return 2;
  }
  if (!FLAGS_image_grid.empty()) {
    const absl::StatusOr<elm::Split> split = elm::ParseSplit(FLAGS_image_split);
    if (!split.ok()) {
      std::fprintf(stderr, "inspect: --image_split: %s\n",
                   std::string(split.status().message()).c_str());
      return 2;
    }
    elm::ImageGridOptions grid;
    grid.split = *split;
    grid.count = FLAGS_image_count;
    const absl::StatusOr<std::string> text = elm::WriteDatasetImageGrid(
        elm::ResolveUserPath(argv[1]), elm::ResolveUserPath(FLAGS_image_grid),
        grid);
    if (!text.ok()) {
      std::fprintf(stderr, "inspect: %s\n",
                   std::string(text.status().message()).c_str());
      return 1;
    }
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  elm::InspectOptions options;
  options.max_files = FLAGS_max_files;
  const absl::StatusOr<elm::InspectReport> report =
      elm::Inspect(elm::ResolveUserPath(argv[1]), options);
  if (!report.ok()) {
    std::fprintf(stderr, "inspect: %s\n",
                 std::string(report.status().message()).c_str());
    return 1;
  }
  std::fputs(report->text.c_str(), stdout);
  return 0;
}
