#include "io/neuronio_compact.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/checksum.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_pickle_writer.h"
#include "io/neuronio_reader.h"
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

// ---- Version 2 ----

// Every array of two views equal (spans compared element by element).
void ExpectSameView(const NeuronioSimulationView& a,
                    const NeuronioSimulationView& b) {
  EXPECT_EQ(a.num_segments, b.num_segments);
  EXPECT_EQ(a.duration_ms, b.duration_ms);
  EXPECT_TRUE(a.step_begin == b.step_begin);
  EXPECT_TRUE(a.step_channels == b.step_channels);
  EXPECT_TRUE(a.output_spike_steps == b.output_spike_steps);
  EXPECT_TRUE(a.soma_mv == b.soma_mv);
}

TEST(NeuronioCompactV2Test, V2ReadsBackToTheSimulationsOfV1AndThePickle) {
  const NeuronioFile file = Generated(21);
  const std::string v1 = TestTempPath("same_v1.elmnio");
  const std::string v2 = TestTempPath("same_v2.elmnio");
  const std::string pkl = TestTempPath("same.p");
  ASSERT_TRUE(WriteNeuronioCompact(file, v1, 1).ok());
  ASSERT_TRUE(WriteNeuronioCompact(file, v2).ok());
  ASSERT_TRUE(WriteNeuronioPickle(file, pkl).ok());
  uint32_t version = 0;
  std::memcpy(&version, ReadTestFile(v1).data() + 8, 4);
  EXPECT_EQ(version, 1u);
  std::memcpy(&version, ReadTestFile(v2).data() + 8, 4);
  EXPECT_EQ(version, 2u);

  absl::StatusOr<NeuronioFile> from_v1 = ReadNeuronioCompact(v1);
  absl::StatusOr<NeuronioFile> from_v2 = ReadNeuronioCompact(v2);
  absl::StatusOr<NeuronioFile> from_pickle = ReadNeuronioFile(pkl);
  ASSERT_TRUE(from_v1.ok()) << from_v1.status();
  ASSERT_TRUE(from_v2.ok()) << from_v2.status();
  ASSERT_TRUE(from_pickle.ok()) << from_pickle.status();
  ExpectSameFile(file, *from_v1);
  ExpectSameFile(file, *from_v2);  // channel lists read off the step index
  ExpectSameFile(file, *from_pickle);

  // The views: of v2 into its mapping, of v1 and of a pickle into a file.
  for (const std::string& path : {v1, v2, pkl}) {
    SCOPED_TRACE(path);
    absl::StatusOr<std::shared_ptr<const NeuronioFileView>> view =
        ReadNeuronioFileView(path);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ((*view)->path, path);
    EXPECT_EQ((*view)->params.segment_types, file.params.segment_types);
    ASSERT_EQ((*view)->simulations.size(), file.simulations.size());
    ASSERT_NE((*view)->storage, nullptr);
    for (size_t i = 0; i < file.simulations.size(); ++i) {
      ExpectSameView((*view)->simulations[i], ViewOf(file.simulations[i]));
    }
  }
  // v2's arrays lie in the file's bytes: a step index page of the mapping.
  absl::StatusOr<std::shared_ptr<const NeuronioFileView>> mapped =
      ReadNeuronioCompactView(v2);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  const std::string bytes = ReadTestFile(v2);
  const NeuronioSimulationView& last = (*mapped)->simulations.back();
  ASSERT_FALSE(last.step_channels.empty());
  EXPECT_EQ(std::memcmp(last.step_channels.data(),
                        bytes.data() + bytes.size() - 4 -
                            last.step_channels.size() * 4 -
                            (last.step_channels.size() % 2 == 1 ? 4 : 0),
                        last.step_channels.size() * 4),
            0);
}

TEST(NeuronioCompactV2Test, RepeatsAndUnorderedListsAreStoredAndReadBack) {
  for (int version : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("version ", version));
    NeuronioFile file;
    file.params.segment_types = {"basal", "apical"};
    file.params.duration_ms = 5;
    NeuronioSimulation sim =
        MakeNeuronioInputSimulation(2, 5, {{0, 3}, {4, 0}, {2, 1}, {2, 0}});
    sim.channel_times = {4, 2, 2, 2, 0};  // a repeat, then out of order
    sim.channel_begin = {0, 3, 4, 4, 5};
    sim.output_spike_times_ms = {0.5, 3.5};
    sim.soma_mv = {-70, -60, -50, -65, 20};
    file.simulations.push_back(sim);
    IndexNeuronioSteps(&file.simulations[0]);
    file.simulations[0].output_spike_steps = {0, 3};
    const std::string path = TestTempPath("lists.elmnio");
    ASSERT_TRUE(WriteNeuronioCompact(file, path, version).ok());
    absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(path);
    ASSERT_TRUE(read.ok()) << read.status();
    read->path = file.path;
    ExpectSameFile(file, *read);
    absl::StatusOr<std::shared_ptr<const NeuronioFileView>> view =
        ReadNeuronioCompactView(path);
    ASSERT_TRUE(view.ok()) << view.status();
    ExpectSameView((*view)->simulations[0], ViewOf(file.simulations[0]));
  }
}

// The bytes of `file` with its last 4 bytes (the CRC-32) made valid again.
std::string WithValidCrc(std::string bytes) {
  const uint32_t crc =
      Crc32(absl::string_view(bytes).substr(0, bytes.size() - 4));
  std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
  return bytes;
}

TEST(NeuronioCompactV2Test,
     EveryTruncationAndCorruptionIsAnErrorNamingTheFile) {
  // Small enough to cut and change at every byte (3 segments, 30 ms).
  absl::StatusOr<NeuronioFile> file = NeuronioFile();
  file->params.segment_types = {"basal", "basal", "apical"};
  file->params.duration_ms = 30;
  file->params.segment_dist_from_soma = {10, 20, 30};
  for (int i = 0; i < 2; ++i) {
    NeuronioSimulation sim = MakeNeuronioInputSimulation(
        3, 30, {{0, 5}, {3, 1}, {3, 4}, {17, 0}, {29, 2 + i}, {12, 3}});
    sim.output_spike_times_ms = {4.5 + i, 20.5};
    sim.soma_mv.assign(30, -70.0f + i);
    file->simulations.push_back(sim);
  }
  for (int version : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("version ", version));
    const std::string path = TestTempPath("every_byte.elmnio");
    ASSERT_TRUE(WriteNeuronioCompact(*file, path, version).ok());
    const std::string bytes = ReadTestFile(path);
    const std::string bad = TestTempPath("every_byte_bad.elmnio");
    int valid_after_fixing_crc = 0;
    for (size_t k = 0; k < bytes.size(); ++k) {
      // Cut before byte k.
      WriteTestFile(bad, bytes.substr(0, k));
      absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(bad);
      ASSERT_FALSE(read.ok()) << "cut at " << k;
      ASSERT_THAT(read.status().message(), HasSubstr(bad)) << "cut at " << k;
      // Byte k changed: the CRC says so.
      std::string changed = bytes;
      changed[k] ^= 0x41;
      WriteTestFile(bad, changed);
      read = ReadNeuronioCompact(bad);
      ASSERT_FALSE(read.ok()) << "byte " << k;
      ASSERT_THAT(read.status().message(), HasSubstr(bad)) << "byte " << k;
      // With the CRC made valid, the other checks: an error naming the file,
      // or (a soma sample, a spike time with the same step) a file whose
      // full read and view agree.
      if (k + 4 >= bytes.size()) continue;
      WriteTestFile(bad, WithValidCrc(changed));
      read = ReadNeuronioCompact(bad);
      absl::StatusOr<std::shared_ptr<const NeuronioFileView>> view =
          ReadNeuronioCompactView(bad);
      ASSERT_EQ(read.ok(), view.ok()) << "byte " << k;
      if (!read.ok()) {
        ASSERT_THAT(read.status().message(), HasSubstr(bad)) << "byte " << k;
        continue;
      }
      ++valid_after_fixing_crc;
      ASSERT_EQ(read->simulations.size(), (*view)->simulations.size());
      for (size_t i = 0; i < read->simulations.size(); ++i) {
        ExpectSameView((*view)->simulations[i], ViewOf(read->simulations[i]));
      }
    }
    // Some changes leave a valid file (soma values, segment types), the
    // others give errors.
    EXPECT_GT(valid_after_fixing_crc, 0);
    EXPECT_LT(valid_after_fixing_crc, static_cast<int>(bytes.size()) - 4);
  }
}

// Values a writer never writes, with a valid CRC: each check of the step
// index and the output steps names the file and the problem.
TEST(NeuronioCompactV2Test, InconsistentStepIndexIsAnError) {
  NeuronioFile file;
  file.params.segment_types = {"basal", "apical"};
  file.params.duration_ms = 5;
  NeuronioSimulation sim =
      MakeNeuronioInputSimulation(2, 5, {{0, 3}, {4, 0}, {2, 1}, {2, 0}});
  sim.output_spike_times_ms = {0.5, 3.5};
  sim.soma_mv = {-70, -60, -50, -65, 20};
  file.simulations.push_back(sim);
  const std::string path = TestTempPath("index.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(file, path).ok());
  const std::string bytes = ReadTestFile(path);
  // Layout of this file: the header to a multiple of 8, then the simulation:
  // 40 bytes of counts, step_begin[6], output steps[2], times[2], soma[5],
  // step_channels[4].
  const size_t header =
      bytes.size() - 4 -
      (40 + 6 * 8 + 2 * 8 + 2 * 8 + 5 * 4 + 4 * 4 + 4);  // + padding
  const size_t step_begin = header + 40;
  const size_t output_steps = step_begin + 6 * 8;
  const size_t channels = output_steps + 2 * 8 + 2 * 8 + 5 * 4;
  int32_t first_channel = -1;
  std::memcpy(&first_channel, bytes.data() + channels, 4);
  ASSERT_EQ(first_channel, 3) << "layout";  // step 0: channel 3
  const std::string bad = TestTempPath("index_bad.elmnio");
  struct Case {
    size_t offset;
    int64_t value;
    int width;
    const char* error;
  };
  for (const Case& c : {
           Case{channels, 4, 4, "step 0 lists channel 4"},    // out of range
           Case{channels, -1, 4, "step 0 lists channel -1"},  // negative
           Case{channels + 8, 0, 4, "step 2 lists channel 0 after 0"},
           Case{step_begin + 8, 9, 8, "step_begin does not run"},
           Case{output_steps, 1, 8, "output spike step 1 of time 0.5"},
       }) {
    SCOPED_TRACE(c.error);
    std::string changed = bytes;
    std::memcpy(&changed[c.offset], &c.value, c.width);
    WriteTestFile(bad, WithValidCrc(changed));
    const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(bad);
    ASSERT_FALSE(read.ok());
    EXPECT_THAT(read.status().message(), HasSubstr(bad));
    EXPECT_THAT(read.status().message(), HasSubstr(c.error));
    EXPECT_FALSE(ReadNeuronioCompactView(bad).ok());
  }
}

TEST(NeuronioCompactV2Test, StoredListsMustMatchTheStoredIndex) {
  NeuronioFile file;
  file.params.segment_types = {"basal"};
  file.params.duration_ms = 4;
  NeuronioSimulation sim = MakeNeuronioInputSimulation(1, 4, {{1, 0}, {2, 1}});
  sim.channel_times = {2, 1, 1};  // out of order and a repeat: stored
  sim.channel_begin = {0, 1, 3};
  sim.soma_mv = {-70, -60, -50, -65};
  file.simulations.push_back(sim);
  const std::string path = TestTempPath("stored_lists.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(file, path).ok());
  std::string bytes = ReadTestFile(path);
  // The stored list's last time (2 · 1 + 1 entries, just before padding and
  // the CRC) moved from step 1 to step 3: the lists no longer give the index.
  const size_t last_time = bytes.size() - 4 - 4 - 4;
  int32_t t = 0;
  std::memcpy(&t, bytes.data() + last_time, 4);
  ASSERT_EQ(t, 1) << "layout";
  t = 3;
  std::memcpy(&bytes[last_time], &t, 4);
  const std::string bad = TestTempPath("stored_lists_bad.elmnio");
  WriteTestFile(bad, WithValidCrc(bytes));
  const absl::StatusOr<NeuronioFile> read = ReadNeuronioCompact(bad);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(),
              HasSubstr("not the one of the stored channel lists"));
}

// Batches of the sampler over the same files as pickles, v1 and v2 compact
// files, with and without prefetch, through the cache: all bit for bit the
// same (several loads per run: file_load_fraction 0.3).
TEST(NeuronioCompactV2Test, SamplerBatchesAreTheSameForEveryFormat) {
  NeuronioGeneratorOptions options = SmallOptions();
  options.num_simulations = 4;
  options.duration_ms = 600;
  NeuronioSpec base;
  base.set_window_ms(100);
  base.set_ignore_start_ms(50);
  base.set_file_load_fraction(0.3);
  std::vector<NeuronioSpec> specs;
  for (const char* format : {"p", "v1", "v2"}) {
    NeuronioSpec spec = base;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<NeuronioFile> file = GenerateNeuronioFile(options, 30 + i);
      ASSERT_TRUE(file.ok()) << file.status();
      const std::string path =
          TestTempPath(absl::StrCat("formats_", i, ".", format));
      ASSERT_TRUE((std::string(format) == "p"
                       ? WriteNeuronioPickle(*file, path)
                       : WriteNeuronioCompact(
                             *file, path, std::string(format) == "v1" ? 1 : 2))
                      .ok());
      spec.add_train_files(path);
    }
    for (bool prefetch : {false, true}) {
      spec.set_prefetch(prefetch);
      specs.push_back(spec);
    }
    if (std::string(format) == "p") {  // pickles through the cache
      spec.set_cache_dir(TestTempPath("formats_cache"));
      specs.push_back(spec);
      specs.push_back(spec);  // its second run reads the v2 entries
    }
  }
  std::vector<Batch> first;
  for (size_t s = 0; s < specs.size(); ++s) {
    SCOPED_TRACE(absl::StrCat("spec ", s, ": ", specs[s].ShortDebugString()));
    absl::StatusOr<std::unique_ptr<NeuronioDataset>> d =
        NeuronioDataset::Create(specs[s], 17);
    ASSERT_TRUE(d.ok()) << d.status();
    absl::StatusOr<std::unique_ptr<BatchSampler>> sampler =
        (*d)->MakeSampler(Split::kTrain, 3, 5);
    ASSERT_TRUE(sampler.ok()) << sampler.status();
    for (int k = 0; k < 40; ++k) {  // 4 batches per load: 10 loads
      absl::StatusOr<Batch> b = (*sampler)->Next();
      ASSERT_TRUE(b.ok()) << b.status();
      if (s == 0) {
        first.push_back(*std::move(b));
      } else {
        SCOPED_TRACE(absl::StrCat("batch ", k));
        ExpectSameBatch(first[k], *b);
      }
    }
  }
}

}  // namespace
}  // namespace elm
