// Tests WriteNeuronioPickle (io/neuronio_pickle_writer.h): a file read from a
// synthetic pickle, written and read back, is the same file, with and without
// the dendritic and high-resolution traces (which have their Kaggle shapes
// and are stepped over by the reader), for whole and fractional seconds; and
// a path that cannot be written is an error naming it.
#include "io/neuronio_pickle_writer.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_file.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"
#include "io/pickle.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSameFile;
using ::elm::neuronio_testing::MakeSynth;
using ::elm::neuronio_testing::WriteSynth;

// A file as ReadNeuronioFile gives it, from a synthetic pickle.
NeuronioFile ReadSynth(int sims, int64_t duration_ms, uint64_t seed) {
  const std::string path = TestTempPath("synth.p");
  WriteSynth(MakeSynth(sims, duration_ms, seed), path);
  absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(path);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : NeuronioFile();
}

TEST(NeuronioPickleWriterTest, ReadsBackToTheSameFile) {
  for (const int64_t duration : {int64_t{1000}, int64_t{1500}}) {
    for (const bool traces : {false, true}) {
      SCOPED_TRACE(testing::Message() << duration << " ms, traces " << traces);
      const NeuronioFile want = ReadSynth(3, duration, 5);
      ASSERT_EQ(want.simulations.size(), 3u);
      const std::string path = TestTempPath("written.p");
      NeuronioPickleOptions options;
      options.dendritic_traces = traces;
      ASSERT_TRUE(WriteNeuronioPickle(want, path, options).ok());
      absl::StatusOr<NeuronioFile> got = ReadNeuronioFile(path);
      ASSERT_TRUE(got.ok()) << got.status();
      ExpectSameFile(want, *got);
    }
  }
}

TEST(NeuronioPickleWriterTest, TracesHaveTheKaggleShapes) {
  const NeuronioFile file = ReadSynth(2, 1000, 6);
  const std::string path = TestTempPath("traces.p");
  NeuronioPickleOptions options;
  options.dendritic_traces = true;
  ASSERT_TRUE(WriteNeuronioPickle(file, path, options).ok());
  absl::StatusOr<Pickle> p = ReadPickleFile(path);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->root().Find("Params")->Find("collectAndSaveDVTs")->AsBool());
  EXPECT_EQ(p->root().Find("Params")->Find("numSimulations")->AsInt(), 2);
  const PickleValue sim =
      p->root().Find("Results")->Find("listOfSingleSimulationDicts")->item(1);
  const int segments = file.params.num_segments();
  const NdArray& dvt = sim.Find("dendriticVoltagesLowRes")->array();
  EXPECT_EQ(dvt.type(), NumpyType::kFloat16);
  EXPECT_EQ(dvt.shape(), (std::vector<int64_t>{segments, 1000}));
  EXPECT_EQ(dvt.ToDoubles()[12345], -65.0);
  for (const char* key : {"somaVoltageHighRes", "nexusVoltageHighRes"}) {
    EXPECT_EQ(sim.Find(key)->array().shape(), (std::vector<int64_t>{8000}))
        << key;
  }
  EXPECT_EQ(sim.Find("recordingTimeHighRes")->array().type(),
            NumpyType::kFloat32);
  EXPECT_EQ(sim.Find("nexusVoltageLowRes")->array().num_elements(), 1000);
  // The spike times are numpy.int64 scalars, as in the Kaggle files: the
  // reader turns them into ints.
  const PickleValue ex = *sim.Find("exInputSpikeTimes");
  ASSERT_GT(ex.size(), 0u);
  EXPECT_TRUE(ex.key(0).is_int());
}

TEST(NeuronioPickleWriterTest, AnUnwritablePathIsAnError) {
  const NeuronioFile file = ReadSynth(1, 1000, 7);
  const std::string path = TestTempPath("no/such/dir/file.p");
  const absl::Status st = WriteNeuronioPickle(file, path);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), testing::HasSubstr(path));
}

}  // namespace
}  // namespace elm
