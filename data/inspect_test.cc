// Tests of the inspect reports: on the NeuronIO fixtures (both pickle
// encodings, gzipped and not) the counts match expected_stats.json; on the SHD
// mock they match expected_binning.json (label histogram, spike totals, the
// spikes the 1 s binning drops); a dataset spec lists its splits' files and
// summarizes each file once, with relative paths taken from the user's
// directory; the kind is detected from the content; and every bad input (a
// random-bytes file, a missing file, a directory, an empty file, a spec naming
// a missing file, a spec without a kind, names that contradict the content)
// is an error naming the file. The built `//data:inspect` binary prints the
// report and exits 0, 1 or 2.
#include "data/inspect.h"

#include <sys/wait.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "data/fashion_mnist.h"
#include "data/listops.h"
#include "data/neuronio_generator.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "io/neuronio_compact.h"

namespace elm {
namespace {

constexpr char kPy2Fixture[] =
    "neuronio_l5pc_2sims_6s_seed100520_py2style.p.gz";
constexpr char kPy3Fixture[] =
    "neuronio_l5pc_2sims_6s_seed100520_py3proto2.p.gz";

std::string Gunzip(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  std::string out;
  if (gz == nullptr) return out;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(gz, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  gzclose(gz);
  return out;
}

bool ReadJson(const std::string& path, google::protobuf::Struct* out) {
  return google::protobuf::util::JsonStringToMessage(ReadTestFile(path), out)
      .ok();
}

const google::protobuf::Value& Field(const google::protobuf::Struct& s,
                                     const std::string& key) {
  static const google::protobuf::Value* const kNull =
      new google::protobuf::Value();
  auto it = s.fields().find(key);
  EXPECT_TRUE(it != s.fields().end()) << "the JSON lacks " << key;
  return it == s.fields().end() ? *kNull : it->second;
}

int64_t Int(const google::protobuf::Struct& s, const std::string& key) {
  return static_cast<int64_t>(Field(s, key).number_value());
}

// Checks `stats` of a NeuronIO fixture against expected_stats.json.
void ExpectMatchesExpectedStats(const NeuronioFileStats& stats,
                                const google::protobuf::Struct& want) {
  EXPECT_EQ(stats.num_simulations, Int(want, "num_simulations"));
  EXPECT_EQ(stats.num_segments, Int(want, "num_segments"));
  EXPECT_EQ(stats.num_basal_segments, Int(want, "num_basal_segments"));
  EXPECT_EQ(stats.num_apical_segments, Int(want, "num_apical_segments"));
  EXPECT_EQ(stats.duration_ms, Int(want, "sim_duration_ms"));
  EXPECT_EQ(stats.random_seed, Int(want, "randomSeed"));
  EXPECT_EQ(stats.excitatory_synapse_type,
            Field(want, "excitatorySynapseType").string_value());
  EXPECT_EQ(stats.inhibitory_synapse_type,
            Field(want, "inhibitorySynapseType").string_value());
  const auto& sims = Field(want, "sims").list_value();
  ASSERT_EQ(static_cast<int>(stats.simulations.size()), sims.values_size());
  int64_t ex = 0, inh = 0, out = 0;
  double soma_max = -1e9;
  for (int i = 0; i < sims.values_size(); ++i) {
    SCOPED_TRACE(absl::StrCat("simulation ", i));
    const google::protobuf::Struct& w = sims.values(i).struct_value();
    const NeuronioSimulationStats& s = stats.simulations[i];
    EXPECT_EQ(s.excitatory_spikes, Int(w, "num_ex_input_spikes"));
    EXPECT_EQ(s.inhibitory_spikes, Int(w, "num_inh_input_spikes"));
    EXPECT_DOUBLE_EQ(
        s.excitatory_per_ms,
        Int(w, "num_ex_input_spikes") / static_cast<double>(stats.duration_ms));
    EXPECT_EQ(
        s.output_spikes,
        Field(w, "output_spike_times_ms_float16").list_value().values_size());
    EXPECT_EQ(s.soma_max_mv, Field(w, "soma_lowres_max").number_value());
    EXPECT_NEAR(s.soma_mean_mv, Field(w, "soma_lowres_mean").number_value(),
                1e-9);
    EXPECT_LE(
        s.soma_min_mv,
        Field(w, "soma_lowres_first5").list_value().values(4).number_value());
    ex += Int(w, "num_ex_input_spikes");
    inh += Int(w, "num_inh_input_spikes");
    out += s.output_spikes;
    soma_max = std::max(soma_max, Field(w, "soma_lowres_max").number_value());
  }
  EXPECT_EQ(stats.excitatory_spikes, ex);  // 49887 + 46194
  EXPECT_EQ(stats.inhibitory_spikes, inh);
  EXPECT_EQ(stats.output_spikes, out);
  EXPECT_DOUBLE_EQ(stats.excitatory_per_ms, ex / (2.0 * stats.duration_ms));
  EXPECT_DOUBLE_EQ(stats.output_rate_hz,
                   out / (stats.num_simulations * stats.duration_ms / 1000.0));
  EXPECT_EQ(stats.soma_max_mv, soma_max);
}

class NeuronioInspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    dir_ = FindSharedPath("data/neuronio", &missing);
    if (dir_.empty()) GTEST_SKIP() << "missing " << missing;
    ASSERT_TRUE(ReadJson(dir_ + "/expected_stats.json", &want_));
  }
  std::string dir_;
  google::protobuf::Struct want_;
};

TEST_F(NeuronioInspectTest, CountsMatchExpectedStats) {
  for (const char* name : {kPy2Fixture, kPy3Fixture}) {
    SCOPED_TRACE(name);
    const std::string path = absl::StrCat(dir_, "/", name);
    absl::StatusOr<InspectReport> r = Inspect(path, InspectOptions());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->kind, InspectKind::kNeuronioFile);
    ASSERT_TRUE(r->neuronio.has_value());
    ExpectMatchesExpectedStats(*r->neuronio, want_);
    EXPECT_EQ(r->neuronio->excitatory_spikes, 49887 + 46194);
    // The report shows the counts as plain integers.
    for (const std::string line :
         {"simulations: 2\n", "segments: 639 (basal 262, apical 377)\n",
          "duration_ms: 6000\n",
          "input spikes: excitatory 96081, inhibitory 72133\n",
          "excitatory 8.007, inhibitory 6.011", "output spikes: 19 (1.583 Hz)",
          "excitatory 8.315 (49887)", "max 24.328"}) {
      EXPECT_TRUE(absl::StrContains(r->text, line)) << line << "\n" << r->text;
    }
  }
}

TEST_F(NeuronioInspectTest, GzipAndNamesMustAgree) {
  const std::string gz = absl::StrCat(dir_, "/", kPy2Fixture);
  const std::string pickle = Gunzip(gz);
  ASSERT_FALSE(pickle.empty());
  // A plain pickle under any name other than *.gz is a NeuronIO file.
  const std::string plain = TestTempPath("sims.data");
  WriteTestFile(plain, pickle);
  absl::StatusOr<InspectReport> r = Inspect(plain, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectMatchesExpectedStats(*r->neuronio, want_);

  // A plain pickle named .gz, and a gzipped one not named .gz.
  const std::string fake_gz = TestTempPath("plain.p.gz");
  WriteTestFile(fake_gz, pickle);
  absl::StatusOr<InspectKind> k = DetectInspectKind(fake_gz);
  ASSERT_FALSE(k.ok());
  EXPECT_TRUE(absl::StrContains(k.status().message(), fake_gz));
  EXPECT_TRUE(absl::StrContains(k.status().message(), "not gzip-compressed"))
      << k.status();
  const std::string unnamed_gz = TestTempPath("zipped.p");
  WriteTestFile(unnamed_gz, ReadTestFile(gz));
  k = DetectInspectKind(unnamed_gz);
  ASSERT_FALSE(k.ok());
  EXPECT_TRUE(absl::StrContains(k.status().message(), "does not end in .gz"))
      << k.status();
}

TEST(ShdInspectTest, CountsMatchExpectedBinning) {
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string json =
      FindSharedPath("data/shd_mock/expected_binning.json", &missing);
  if (json.empty()) GTEST_SKIP() << "missing " << missing;
  google::protobuf::Struct want;
  ASSERT_TRUE(ReadJson(json, &want));

  absl::StatusOr<InspectReport> r = Inspect(h5, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, InspectKind::kShdFile);
  ASSERT_TRUE(r->shd.has_value());
  const ShdFileStats& s = *r->shd;
  EXPECT_EQ(s.num_samples, Int(want, "num_samples"));
  std::vector<int64_t> histogram(20, 0);
  for (const auto& label : Field(want, "labels").list_value().values()) {
    ++histogram[static_cast<int>(label.number_value())];
  }
  EXPECT_EQ(s.label_counts, histogram);
  int64_t total = 0, kept = 0, empty = 0;
  for (const auto& sample : Field(want, "samples").list_value().values()) {
    total += Int(sample.struct_value(), "num_spikes_total");
    kept += Int(sample.struct_value(), "num_spikes_kept");
    empty += Int(sample.struct_value(), "num_spikes_total") == 0;
  }
  EXPECT_EQ(s.total_spikes, total);
  // At 10 ms bins up to 1 s, the binning keeps exactly the spikes before 1 s.
  EXPECT_EQ(s.spikes_after_1s, total - kept);
  EXPECT_EQ(s.num_empty_samples, empty);
  EXPECT_DOUBLE_EQ(s.spikes_per_sample, total / 8.0);
  EXPECT_GT(s.channels_used, 0);
  EXPECT_LE(s.channels_used, 700);
  EXPECT_LE(s.max_unit, 699);
  EXPECT_GT(s.max_duration_s, 1.0);  // the mock has spikes after 1 s
  EXPECT_LE(s.min_duration_s, s.max_duration_s);
  EXPECT_TRUE(s.has_speakers);
  EXPECT_GE(s.num_speakers, 1);
  for (const std::string& line :
       std::vector<std::string>{"samples: 8 (1 without spikes)\n",
                                absl::StrCat("spikes: ", total, " total"),
                                "classes: 8 of 20 present; samples per label: "
                                "0: 1, 3: 1, 5: 1, 9: 1, "
                                "10: 1, 13: 1, 15: 1, 19: 1\n"}) {
    EXPECT_TRUE(absl::StrContains(r->text, line)) << line << "\n" << r->text;
  }
}

TEST(SpecInspectTest, ShdSpecWithPathsRelativeToTheUserDirectory) {
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string spec = TestTempPath("shd.textproto");
  std::ofstream(spec) << "shd {\n  train_file: \"shd_mock_8.h5\"\n"
                         "  test_file: \"shd_mock_8.h5\"\n}\nseed: 4\n";
  setenv("BUILD_WORKING_DIRECTORY",
         std::filesystem::path(h5).parent_path().c_str(), 1);
  absl::StatusOr<InspectReport> r = Inspect(spec, InspectOptions());
  unsetenv("BUILD_WORKING_DIRECTORY");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, InspectKind::kDatasetSpec);
  ASSERT_TRUE(r->spec.has_value());
  const DatasetSpecStats& s = *r->spec;
  EXPECT_EQ(s.kind, "shd");
  EXPECT_EQ(s.seed, 4u);
  EXPECT_EQ(s.info.steps, 100);
  EXPECT_EQ(s.info.input_dim, 700);
  EXPECT_EQ(s.info.num_classes, 20);
  ASSERT_EQ(s.splits.size(), 3u);
  EXPECT_EQ(s.splits[0].num_samples + s.splits[1].num_samples, 8);
  EXPECT_EQ(s.splits[2].num_samples, 8);
  EXPECT_EQ(s.splits[2].files,
            std::vector<std::string>{
                (std::filesystem::path(h5).parent_path() / "shd_mock_8.h5")
                    .string()});
  // One file in all three splits: summarized once.
  ASSERT_EQ(s.shd_files.size(), 1u);
  EXPECT_TRUE(s.neuronio_files.empty());
  EXPECT_EQ(s.shd_files[0].num_samples, 8);
  EXPECT_TRUE(absl::StrContains(r->text, "[train, valid, test] SHD file"))
      << r->text;
  EXPECT_TRUE(absl::StrContains(r->text, "test: 1 file, 8 samples")) << r->text;
}

TEST(SpecInspectTest, NeuronioSpecExpandsGlobsAndLimitsSummaries) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string spec = TestTempPath("neuronio.textproto");
  std::ofstream(spec) << "neuronio {\n  train_files: \"" << dir
                      << "/*.p.gz\"\n  test_files: \"" << dir << "/"
                      << kPy3Fixture << "\"\n  window_ms: 1000\n}\n";
  InspectOptions options;
  absl::StatusOr<DatasetSpecStats> s = InspectDatasetSpec(spec, options);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->kind, "neuronio");
  EXPECT_EQ(s->info.steps, 1000);
  EXPECT_EQ(s->info.input_dim, 1278);
  EXPECT_EQ(s->info.num_classes, 0);
  EXPECT_EQ(s->splits[0].files,
            (std::vector<std::string>{absl::StrCat(dir, "/", kPy2Fixture),
                                      absl::StrCat(dir, "/", kPy3Fixture)}));
  EXPECT_TRUE(s->splits[1].files.empty());
  EXPECT_EQ(s->splits[2].files.size(), 1u);
  // First of train (py2) and first of test (py3).
  ASSERT_EQ(s->neuronio_files.size(), 2u);
  EXPECT_EQ(s->neuronio_files[0].path, absl::StrCat(dir, "/", kPy2Fixture));
  EXPECT_EQ(s->neuronio_files[1].path, absl::StrCat(dir, "/", kPy3Fixture));
  const std::string text = FormatDatasetSpecStats(*s, options);
  EXPECT_TRUE(absl::StrContains(text, "train: 2 files: ")) << text;
  EXPECT_TRUE(absl::StrContains(text, "valid: no files")) << text;
  EXPECT_TRUE(absl::StrContains(text, "fits the spec")) << text;

  options.max_files = 0;
  s = InspectDatasetSpec(spec, options);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->neuronio_files.empty());
  options.max_files = 5;
  s = InspectDatasetSpec(spec, options);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->neuronio_files.size(), 2u);  // py3 is in train and test
  EXPECT_TRUE(absl::StrContains(s->files_report, "[train, test] NeuronIO"))
      << s->files_report;
}

TEST(InspectErrorsTest, RandomBytesAreNoneOfTheKinds) {
  std::mt19937 gen(20240);
  std::string bytes(300, '\0');
  for (char& c : bytes) c = static_cast<char>(gen() & 0xff);
  for (const std::string name : {"random.bin", "random.h5", "random.p"}) {
    const std::string path = TestTempPath(name);
    WriteTestFile(path, bytes);
    absl::StatusOr<InspectReport> r = Inspect(path, InspectOptions());
    ASSERT_FALSE(r.ok()) << name;
    const std::string message(r.status().message());
    EXPECT_TRUE(absl::StrContains(message, path)) << message;
    EXPECT_TRUE(absl::StrContains(message,
                                  "is not a NeuronIO simulation file (a "
                                  "pickle, optionally .gz), an SHD HDF5 file"))
        << message;
    if (name == "random.h5") {
      EXPECT_TRUE(absl::StrContains(message, "no HDF5 signature")) << message;
    }
  }
}

TEST(InspectErrorsTest, MissingEmptyAndDirectory) {
  absl::StatusOr<InspectReport> r =
      Inspect(TestTempPath("no_such_file.h5"), InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "no_such_file.h5"));
  EXPECT_TRUE(absl::StrContains(r.status().message(), "does not exist"));

  WriteTestFile(TestTempPath("empty.textproto"), "");
  r = Inspect(TestTempPath("empty.textproto"), InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "is empty"))
      << r.status();

  r = Inspect(TestTempPath(""), InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "is a directory"))
      << r.status();

  // Issue 18: /dev/zero hung inspect; a device is refused without reading.
  r = Inspect("/dev/zero", InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "is not a regular file (a device, pipe or "
                                "socket)"))
      << r.status();
}

TEST(InspectErrorsTest, BadSpecs) {
  // A spec naming a missing file.
  const std::string spec = TestTempPath("missing_file.textproto");
  const std::string gone = TestTempPath("gone.h5");
  std::ofstream(spec) << "shd { train_file: \"" << gone << "\" test_file: \""
                      << gone << "\" }\n";
  absl::StatusOr<InspectReport> r = Inspect(spec, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), spec)) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), gone)) << r.status();

  // A NeuronIO glob matching nothing names the field.
  std::ofstream(spec) << "neuronio { train_files: \"" << TestTempPath("none*.p")
                      << "\" }\n";
  r = Inspect(spec, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "train_files"))
      << r.status();

  // No kind.
  std::ofstream(spec) << "seed: 3\n";
  r = Inspect(spec, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "no dataset kind"))
      << r.status();

  // Text that is not a spec.
  std::ofstream(spec) << "hello: world\n";
  r = Inspect(spec, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "line 1, column"))
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "inspect takes"))
      << r.status();
}

// ---- The binary ----

CommandResult RunInspect(const std::string& args, const std::string& env = "") {
  return RunTestBinary("data/inspect", args, env);
}

TEST(InspectBinaryTest, ReportsAndExitCodes) {
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string dir = std::filesystem::path(h5).parent_path().string();
  // A relative path is taken from BUILD_WORKING_DIRECTORY.
  CommandResult r = RunInspect("shd_mock_8.h5",
                               absl::StrCat("BUILD_WORKING_DIRECTORY=", dir));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "samples: 8")) << r.output;

  r = RunInspect(TestTempPath("absent.textproto"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "inspect: '")) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "absent.textproto")) << r.output;

  r = RunInspect("");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "exactly one path")) << r.output;
  r = RunInspect(absl::StrCat("--max_files=-1 ", h5));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace elm

namespace elm {
namespace {

// ---- ListOps, IDX, compact NeuronIO and the other spec kinds ----

std::vector<ListOpsExample> SyntheticListOps() {
  std::vector<ListOpsExample> out;
  for (const char* text :
       {"[MAX 2 9 ]", "[MIN [SM 3 4 ] 8 ]", "[MED 1 2 3 ]"}) {
    ListOpsExample e;
    e.tokens = *ParseListOpsText(text);
    e.label = *EvaluateListOps(e.tokens);
    out.push_back(e);
  }
  return out;
}

TEST(ListOpsInspectTest, CountsLengthsLabelsAndDepth) {
  const std::string path = TestTempPath("listops_small.tsv");
  ASSERT_TRUE(WriteListOpsTsv(path, SyntheticListOps()).ok());
  absl::StatusOr<InspectReport> r = Inspect(path, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, InspectKind::kListOpsFile);
  ASSERT_TRUE(r->listops.has_value());
  const ListOpsFileStats& s = *r->listops;
  EXPECT_EQ(s.num_examples, 3);
  EXPECT_EQ(s.min_length, 4);
  EXPECT_EQ(s.max_length, 7);
  EXPECT_NEAR(s.mean_length, 16.0 / 3, 1e-12);
  EXPECT_EQ(s.max_depth, 3);
  EXPECT_EQ(s.label_counts,
            (std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 1, 0, 1}));
  for (const std::string line : {"examples: 3", "min 4, mean 5.3, max 7",
                                 "max depth: 3", "labels: 2: 1, 7: 1, 9: 1"}) {
    EXPECT_TRUE(absl::StrContains(r->text, line)) << line << "\n" << r->text;
  }

  // A wrong target is the reader's error, naming the file and line.
  std::string bytes = ReadTestFile(path);
  bytes.replace(bytes.rfind("\t2\r\n"), 4, "\t5\r\n");
  WriteTestFile(path, bytes);
  r = Inspect(path, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), path)) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "4")) << r.status();
}

TEST(IdxInspectTest, ImagesAndLabelsPlainAndGzipped) {
  IdxArray images;
  images.dims = {3, 2, 2};
  images.data = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};  // mean 55
  IdxArray labels;
  labels.dims = {5};
  labels.data = {0, 3, 3, 9, 12};
  for (const bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzipped" : "plain");
    const std::string images_path =
        TestTempPath(gzip ? "imgs-idx3-ubyte.gz" : "imgs-idx3-ubyte");
    const std::string labels_path =
        TestTempPath(gzip ? "lbls-idx1-ubyte.gz" : "lbls-idx1-ubyte");
    ASSERT_TRUE(WriteIdxFile(images_path, images, gzip).ok());
    ASSERT_TRUE(WriteIdxFile(labels_path, labels, gzip).ok());

    absl::StatusOr<InspectReport> r = Inspect(images_path, InspectOptions());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->kind, InspectKind::kIdxFile);
    ASSERT_TRUE(r->idx.has_value());
    EXPECT_FALSE(r->idx->is_labels);
    EXPECT_EQ(r->idx->count, 3);
    EXPECT_EQ(r->idx->dims, (std::vector<int64_t>{3, 2, 2}));
    EXPECT_DOUBLE_EQ(r->idx->mean_pixel, 55.0);
    EXPECT_TRUE(absl::StrContains(r->text, "dims: 3 x 2 x 2")) << r->text;
    EXPECT_TRUE(absl::StrContains(r->text, "mean pixel: 55.000")) << r->text;

    r = Inspect(labels_path, InspectOptions());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->idx.has_value());
    EXPECT_TRUE(r->idx->is_labels);
    EXPECT_EQ(r->idx->count, 5);
    EXPECT_EQ(r->idx->label_counts,
              (std::vector<int64_t>{1, 0, 0, 2, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(r->idx->labels_out_of_range, 1);
    EXPECT_TRUE(absl::StrContains(r->text, "labels: 0: 1, 3: 2, 9: 1"))
        << r->text;
    EXPECT_TRUE(absl::StrContains(r->text, "labels outside 0..9: 1"))
        << r->text;
  }

  // A truncated IDX file is the reader's error, naming the file.
  const std::string cut = TestTempPath("cut-idx3-ubyte");
  WriteTestFile(cut,
                ReadTestFile(TestTempPath("imgs-idx3-ubyte")).substr(0, 20));
  absl::StatusOr<InspectReport> r = Inspect(cut, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), cut)) << r.status();
}

TEST(IdxInspectTest, DebianFashionMnistFiles) {
  const std::string dir = kFashionMnistDebianDir;
  const std::string labels = FashionMnistPath(dir, "t10k-labels-idx1-ubyte");
  const std::string images = FashionMnistPath(dir, "t10k-images-idx3-ubyte");
  if (!std::filesystem::exists(labels) || !std::filesystem::exists(images)) {
    GTEST_SKIP() << "missing " << labels << " or " << images
                 << " (Debian package dataset-fashion-mnist)";
  }
  absl::StatusOr<InspectReport> r = Inspect(labels, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->idx.has_value());
  EXPECT_EQ(r->idx->count, 10000);
  EXPECT_EQ(r->idx->label_counts, std::vector<int64_t>(10, 1000));
  r = Inspect(images, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->idx.has_value());
  EXPECT_EQ(r->idx->dims, (std::vector<int64_t>{10000, 28, 28}));
  EXPECT_GT(r->idx->mean_pixel, 50);
  EXPECT_LT(r->idx->mean_pixel, 100);
}

TEST(CompactNeuronioInspectTest, GeneratedFileIsANeuronioFile) {
  NeuronioGeneratorOptions options;
  options.num_simulations = 2;
  options.duration_ms = 300;
  options.teacher = NeuronioTeacher::kLif;
  absl::StatusOr<NeuronioFile> file = GenerateNeuronioFile(options, 5);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string path = TestTempPath("inspect_generated.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(*file, path).ok());
  absl::StatusOr<InspectReport> r = Inspect(path, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, InspectKind::kNeuronioFile);
  ASSERT_TRUE(r->neuronio.has_value());
  const NeuronioFileStats want = ComputeNeuronioStats(*file);
  EXPECT_EQ(r->neuronio->num_simulations, 2);
  EXPECT_EQ(r->neuronio->duration_ms, 300);
  EXPECT_EQ(r->neuronio->excitatory_spikes, want.excitatory_spikes);
  EXPECT_EQ(r->neuronio->output_spikes, want.output_spikes);
}

TEST(SpecInspectTest, ListOpsSpecWithDataDir) {
  const std::string dir = TestTempPath("listops_dir");
  std::filesystem::create_directories(dir);
  ListOpsSplits splits;
  splits.train = SyntheticListOps();
  splits.valid = {SyntheticListOps()[0]};
  splits.test = {SyntheticListOps()[1], SyntheticListOps()[2]};
  ASSERT_TRUE(WriteListOpsDir(dir, splits).ok());
  const std::string spec = TestTempPath("listops_dir.textproto");
  std::ofstream(spec) << "listops { data_dir: \"" << dir << "\" steps: 16 }\n";
  absl::StatusOr<InspectReport> r = Inspect(spec, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->spec.has_value());
  const DatasetSpecStats& s = *r->spec;
  EXPECT_EQ(s.kind, "listops");
  EXPECT_EQ(s.info.steps, 16);
  EXPECT_EQ(s.info.num_classes, 10);
  ASSERT_EQ(s.splits.size(), 3u);
  EXPECT_EQ(s.splits[0].num_samples, 3);
  EXPECT_EQ(s.splits[1].num_samples, 1);
  EXPECT_EQ(s.splits[2].num_samples, 2);
  ASSERT_EQ(s.listops_files.size(), 3u);
  EXPECT_EQ(s.listops_files[2].max_length, 7);
  EXPECT_TRUE(absl::StrContains(r->text, "basic_val.tsv")) << r->text;
  EXPECT_TRUE(absl::StrContains(r->text, "max depth: 3")) << r->text;
}

TEST(SpecInspectTest, GeneratedKindsAreDescribedNotGenerated) {
  const std::string spec = TestTempPath("generated.textproto");
  // Defaults would take minutes to generate; inspect only describes them.
  std::ofstream(spec) << "listops { num_train: 96000 } seed: 4\n";
  absl::StatusOr<InspectReport> r = Inspect(spec, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->spec.has_value());
  EXPECT_EQ(r->spec->splits[0].num_samples, 96000);
  EXPECT_EQ(r->spec->splits[2].num_samples, 2000);
  EXPECT_EQ(r->spec->info.steps, 2000);
  EXPECT_TRUE(absl::StrContains(r->text, "96000 examples to generate"))
      << r->text;
  EXPECT_TRUE(absl::StrContains(r->text, "LRA algorithm (seed 4)")) << r->text;

  std::ofstream(spec) << "neuronio { window_ms: 200 generate { "
                         "num_train_files: 3 teacher: ALIF } }\n";
  r = Inspect(spec, InspectOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->spec.has_value());
  EXPECT_EQ(r->spec->info.steps, 200);
  EXPECT_EQ(r->spec->info.input_dim, 1278);
  EXPECT_EQ(r->spec->splits[0].generated_files, 3);
  EXPECT_EQ(r->spec->splits[1].generated_files, 1);
  EXPECT_TRUE(absl::StrContains(r->text, "3 files to generate")) << r->text;
  EXPECT_TRUE(absl::StrContains(r->text, "teacher ALIF")) << r->text;
  EXPECT_TRUE(absl::StrContains(r->text, "6000 ms each")) << r->text;

  // Invalid generate specs name the field.
  std::ofstream(spec) << "neuronio { generate { duration_ms: 700 } }\n";
  r = Inspect(spec, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "duration_ms"))
      << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), spec)) << r.status();
  std::ofstream(spec) << "listops { num_train: -1 }\n";
  r = Inspect(spec, InspectOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "num_train"))
      << r.status();
}

TEST(SpecInspectTest, FashionMnistSpecOfSyntheticFiles) {
  const std::string dir = TestTempPath("fmnist");
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, int64_t n, bool is_images) {
    IdxArray a;
    a.dims =
        is_images ? std::vector<int64_t>{n, 28, 28} : std::vector<int64_t>{n};
    a.data.resize(is_images ? n * 784 : n);
    for (size_t i = 0; i < a.data.size(); ++i) {
      a.data[i] = is_images ? static_cast<uint8_t>(i % 256) : i % 10;
    }
    ASSERT_TRUE(WriteIdxFile(absl::StrCat(dir, "/", name), a, true).ok());
  };
  write("train-images-idx3-ubyte.gz", 6, true);
  write("train-labels-idx1-ubyte.gz", 6, false);
  write("t10k-images-idx3-ubyte.gz", 3, true);
  write("t10k-labels-idx1-ubyte.gz", 3, false);
  const std::string spec = TestTempPath("fmnist.textproto");
  std::ofstream(spec) << "fashion_mnist { dir: \"" << dir
                      << "\" num_valid: 2 encoding: ROW }\n";
  InspectOptions options;
  options.max_files = 2;
  absl::StatusOr<InspectReport> r = Inspect(spec, options);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->spec.has_value());
  const DatasetSpecStats& s = *r->spec;
  EXPECT_EQ(s.info.steps, 28);
  EXPECT_EQ(s.splits[0].num_samples, 4);
  EXPECT_EQ(s.splits[1].num_samples, 2);
  EXPECT_EQ(s.splits[2].num_samples, 3);
  ASSERT_EQ(s.idx_files.size(), 4u);  // train files shared with valid: once
  EXPECT_EQ(s.idx_files[1].count, 6);
  EXPECT_TRUE(s.idx_files[1].is_labels);
  EXPECT_TRUE(absl::StrContains(r->text, "[train, valid] IDX file")) << r->text;
}

}  // namespace
}  // namespace elm
