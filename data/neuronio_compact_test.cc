#include "io/neuronio_compact.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSameFile;
using ::testing::HasSubstr;

NeuronioGeneratorOptions SmallOptions() {
  NeuronioGeneratorOptions options;
  options.num_simulations = 3;
  options.duration_ms = 400;
  options.teacher = NeuronioTeacher::kLif;
  return options;
}

NeuronioFile Generated(uint64_t seed) {
  absl::StatusOr<NeuronioFile> file =
      GenerateNeuronioFile(SmallOptions(), seed);
  EXPECT_TRUE(file.ok()) << file.status();
  return *std::move(file);
}

TEST(NeuronioCompactTest, RoundTripKeepsEveryArray) {
  const NeuronioFile file = Generated(7);
  ASSERT_FALSE(file.simulations.empty());
  int64_t spikes = 0;
  for (const auto& sim : file.simulations) spikes += sim.channel_times.size();
  ASSERT_GT(spikes, 0);
  const std::string path = TestTempPath("round_trip.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(file, path).ok());
  EXPECT_EQ(ReadTestFile(path).substr(0, 8), "ELMNIO1\n");

  absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->path, path);
  ExpectSameFile(file, *read);

  // ReadNeuronioFile recognises the magic.
  absl::StatusOr<NeuronioFile> via_reader = ReadNeuronioFile(path);
  ASSERT_TRUE(via_reader.ok()) << via_reader.status();
  ExpectSameFile(file, *via_reader);
}

TEST(NeuronioCompactTest, RoundTripOfHandMadeSimulationWithRepeats) {
  NeuronioFile file;
  file.params.segment_types = {"basal", "apical"};
  file.params.duration_ms = 5;
  file.params.segment_dist_from_soma = {1.5, 2.5};
  file.params.random_seed = 42;
  file.params.excitatory_synapse_type = "AMPA_NMDA";
  file.params.inhibitory_synapse_type = "GABA_A";
  NeuronioSimulation sim =
      MakeNeuronioInputSimulation(2, 5, {{0, 3}, {4, 0}, {2, 1}, {2, 0}});
  sim.channel_times = {4, 2, 2, 2, 0};  // a repeat, as files may list
  sim.channel_begin = {0, 3, 4, 4, 5};
  sim.output_spike_times_ms = {0.5, 3.5};
  sim.soma_mv = {-70, -60, -50, -65, 20};
  file.simulations.push_back(sim);
  const std::string path = TestTempPath("hand_made.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(file, path).ok());
  absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->params.segment_types, file.params.segment_types);
  EXPECT_EQ(read->params.segment_dist_from_soma,
            file.params.segment_dist_from_soma);
  EXPECT_EQ(read->params.random_seed, 42);
  EXPECT_EQ(read->params.excitatory_synapse_type, "AMPA_NMDA");
  const NeuronioSimulation& r = read->simulations[0];
  EXPECT_EQ(r.channel_times, sim.channel_times);
  EXPECT_EQ(r.output_spike_steps, (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(r.StepChannels(2).size(), 2u);  // channels 0 and 1, repeat dropped
  EXPECT_EQ(r.StepChannels(2)[0], 0);
  EXPECT_EQ(r.StepChannels(2)[1], 1);
  EXPECT_EQ(r.StepChannels(0)[0], 3);
  EXPECT_EQ(r.soma_mv, sim.soma_mv);
}

TEST(NeuronioCompactTest, WriteIsAtomicAndReplaces) {
  const std::string path = TestTempPath("replace.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(Generated(1), path).ok());
  ASSERT_TRUE(WriteNeuronioCompact(Generated(2), path).ok());
  absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameFile(Generated(2), *read);
  // Nothing but the file itself is left in the directory (no temporaries).
  DIR* dir = opendir(std::string(TestTempPath("")).c_str());
  ASSERT_NE(dir, nullptr);
  int leftovers = 0;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind("replace.elmnio", 0) == 0 && name != "replace.elmnio") {
      ++leftovers;
    }
  }
  closedir(dir);
  EXPECT_EQ(leftovers, 0) << "a temporary file is left behind";
}

TEST(NeuronioCompactTest, WriteErrorsNameTheFile) {
  NeuronioFile file = Generated(3);
  file.simulations[1].soma_mv.pop_back();
  const std::string path = TestTempPath("inconsistent.elmnio");
  const absl::Status st = WriteNeuronioCompact(file, path);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr(path));
  EXPECT_THAT(st.message(), HasSubstr("simulation 1"));

  const std::string bad_dir = TestTempPath("no/such/dir/x.elmnio");
  const absl::Status st2 = WriteNeuronioCompact(Generated(3), bad_dir);
  EXPECT_FALSE(st2.ok());
  EXPECT_THAT(st2.message(), HasSubstr(bad_dir));
}

TEST(NeuronioCompactTest, BadMagicIsAnError) {
  const std::string path = TestTempPath("bad_magic.elmnio");
  WriteTestFile(path, "ELMNIO2\nxxxxxxxxxxxxxxxx");
  const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr(path));
  EXPECT_THAT(read.status().message(), HasSubstr("bad magic"));
}

TEST(NeuronioCompactTest, MissingFileIsAnError) {
  const std::string path = TestTempPath("missing.elmnio");
  const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr(path));
}

TEST(NeuronioCompactTest, UnknownVersionIsAnError) {
  const std::string path = TestTempPath("version.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(Generated(4), path).ok());
  std::string bytes = ReadTestFile(path);
  bytes[8] = 9;
  WriteTestFile(path, bytes);
  const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("unsupported version 9"));
  EXPECT_THAT(read.status().message(), HasSubstr(path));
}

TEST(NeuronioCompactTest, TruncatedFilesAreErrors) {
  const std::string path = TestTempPath("full.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(Generated(5), path).ok());
  const std::string bytes = ReadTestFile(path);
  const std::string cut = TestTempPath("cut.elmnio");
  for (size_t size : {size_t{8}, size_t{14}, size_t{30}, bytes.size() / 2,
                      bytes.size() - 1}) {
    SCOPED_TRACE(absl::StrCat("cut at ", size));
    WriteTestFile(cut, bytes.substr(0, size));
    const absl::StatusOr<NeuronioFile> read = ReadNeuronioFile(cut);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(read.status().message(), HasSubstr(cut));
    EXPECT_THAT(read.status().message(),
                ::testing::AnyOf(HasSubstr("truncated"),
                                 HasSubstr("checksum mismatch")));
  }
}

TEST(NeuronioCompactTest, CorruptByteFailsTheChecksum) {
  const std::string path = TestTempPath("corrupt.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(Generated(6), path).ok());
  std::string bytes = ReadTestFile(path);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteTestFile(path, bytes);
  const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(read.status().message(), HasSubstr(path));
}

TEST(NeuronioCompactTest, ChecksumOncePerFileVersionStillCatchesChanges) {
  constexpr NeuronioChecksum kOnce = NeuronioChecksum::kOncePerFileVersion;
  const std::string path = TestTempPath("once.elmnio");
  const NeuronioFile good = Generated(9);
  ASSERT_TRUE(WriteNeuronioCompact(good, path).ok());
  const std::string bytes = ReadTestFile(path);
  std::string bad = bytes;
  bad[bad.size() - 100] ^= 0x10;  // a soma sample: only the CRC sees it
  // A corrupt file never passes, however often it is read.
  WriteTestFile(path, bad);
  for (int k = 0; k < 2; ++k) {
    const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path, kOnce);
    ASSERT_FALSE(read.ok());
    EXPECT_THAT(read.status().message(), HasSubstr("checksum mismatch"));
  }
  // A good file, read again: the same contents.
  usleep(20000);  // past the file system's timestamp granularity
  WriteTestFile(path, bytes);
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path, kOnce);
    ASSERT_TRUE(read.ok()) << read.status();
    read->path = good.path;
    ExpectSameFile(*read, good);
  }
  // Changed in place, or replaced (rename: a new inode): checked again.
  usleep(20000);
  WriteTestFile(path, bad);
  EXPECT_FALSE(ReadNeuronioCompact(path, kOnce).ok());
  WriteTestFile(path + ".new", bytes);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
  ASSERT_TRUE(ReadNeuronioCompact(path, kOnce).ok());
  WriteTestFile(path + ".new", bad);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
  EXPECT_FALSE(ReadNeuronioCompact(path, kOnce).ok());
}

TEST(NeuronioCompactTest, TrailingBytesAreAnError) {
  const std::string path = TestTempPath("trailing.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(Generated(8), path).ok());
  std::string bytes = ReadTestFile(path);
  bytes.insert(bytes.size() - 4, "zz");
  WriteTestFile(path, bytes);
  EXPECT_FALSE(ReadNeuronioCompact(path).ok());
}

void ExpectSameBatch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.input_dim(), b.input_dim());
  EXPECT_EQ(a.inputs.row_begin, b.inputs.row_begin);
  EXPECT_EQ(a.inputs.col, b.inputs.col);
  EXPECT_EQ(a.inputs.value, b.inputs.value);
  EXPECT_EQ(a.spike, b.spike);
  EXPECT_EQ(a.soma, b.soma);
}

TEST(NeuronioCompactTest, DatasetOfWrittenFilesMatchesInMemoryDataset) {
  std::vector<NeuronioFile> files = {Generated(11), Generated(12)};
  NeuronioSpec spec;
  spec.set_window_ms(100);
  spec.set_ignore_start_ms(50);
  spec.set_file_load_fraction(1.0);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string path = TestTempPath(absl::StrCat("ds_", i, ".elmnio"));
    ASSERT_TRUE(WriteNeuronioCompact(files[i], path).ok());
    spec.add_train_files(path);
  }
  constexpr uint64_t kSeed = 99;
  absl::StatusOr<std::unique_ptr<NeuronioDataset>> on_disk =
      NeuronioDataset::Create(spec, kSeed);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  NeuronioSpec memory_spec = spec;
  memory_spec.clear_train_files();
  absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>> in_memory =
      GeneratedNeuronioDataset::Create(memory_spec, std::move(files), {}, {},
                                       kSeed);
  ASSERT_TRUE(in_memory.ok()) << in_memory.status();
  auto a = (*on_disk)->MakeSampler(Split::kTrain, 2, 5);
  auto b = (*in_memory)->MakeSampler(Split::kTrain, 2, 5);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  for (int k = 0; k < 20; ++k) {
    SCOPED_TRACE(absl::StrCat("batch ", k));
    absl::StatusOr<Batch> x = (*a)->Next();
    absl::StatusOr<Batch> y = (*b)->Next();
    ASSERT_TRUE(x.ok()) << x.status();
    ASSERT_TRUE(y.ok()) << y.status();
    ExpectSameBatch(*x, *y);
  }
}

}  // namespace
}  // namespace elm
