// Tests of the conversion to the compact form and of the conversion cache, on
// synthetic NeuronIO pickles (io/neuronio_test_files.h).
#include "data/neuronio_convert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSameFile;
using ::elm::neuronio_testing::MakeSynth;
using ::elm::neuronio_testing::WriteSynth;
using ::testing::HasSubstr;

// A synthetic pickle of 4 simulations of 900 ms with dendritic traces.
std::string WritePickle(const std::string& path, uint64_t seed) {
  neuronio_testing::SynthFile f = MakeSynth(4, 900, seed);
  f.dvt_columns = 50;
  WriteSynth(f, path);
  return path;
}

NeuronioFile Read(const std::string& path) {
  absl::StatusOr<NeuronioFile> f = ReadNeuronioFile(path);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : NeuronioFile();
}

int64_t MtimeNs(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

// Sets the modification time of `path` `seconds` from now.
void Touch(const std::string& path, int seconds) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec += seconds;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

TEST(NeuronioConvertTest, CompactNames) {
  EXPECT_EQ(NeuronioCompactName("a/b/sim__1.p"), "sim__1.elmnio");
  EXPECT_EQ(NeuronioCompactName("a/sim__1.p.gz"), "sim__1.elmnio");
  EXPECT_EQ(NeuronioCompactName("x.pickle"), "x.elmnio");
  EXPECT_EQ(NeuronioCompactName("/d/x.pkl"), "x.elmnio");
  EXPECT_EQ(NeuronioCompactName("/d/x.elmnio"), "x.elmnio");
  EXPECT_EQ(NeuronioCompactName("/d/x.bin"), "x.bin.elmnio");
}

TEST(NeuronioConvertTest, SameContentsFindsTheDifference) {
  const std::string dir = MakeTestDir("same");
  const NeuronioFile a = Read(WritePickle(dir + "/a.p", 1));
  NeuronioFile b = a;
  b.path = "elsewhere";
  std::string why;
  EXPECT_TRUE(SameNeuronioContents(a, b, &why)) << why;
  b.simulations[2].soma_mv[17] += 1e-3f;
  EXPECT_FALSE(SameNeuronioContents(a, b, &why));
  EXPECT_EQ(why, "simulation 2: soma_mv[17] differs");
  b = a;
  b.simulations[1].channel_times.back() += 1;
  EXPECT_FALSE(SameNeuronioContents(a, b, &why));
  EXPECT_THAT(why, HasSubstr("simulation 1: channel_times"));
  b = a;
  b.simulations.pop_back();
  EXPECT_FALSE(SameNeuronioContents(a, b, &why));
  EXPECT_EQ(why, "4 vs 3 simulations");
  b = a;
  b.params.random_seed += 1;
  EXPECT_FALSE(SameNeuronioContents(a, b, &why));
  EXPECT_THAT(why, HasSubstr("Params"));
}

TEST(NeuronioConvertTest, ConvertsChecksAndSkipsWhatIsDone) {
  const std::string dir = MakeTestDir("convert");
  const std::string in = WritePickle(dir + "/sim__1.p", 2);
  const std::string out = dir + "/out/sim__1.elmnio";
  ASSERT_EQ(mkdir((dir + "/out").c_str(), 0755), 0);
  absl::StatusOr<NeuronioConversion> r = ConvertNeuronioFile(in, out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->skipped);
  EXPECT_EQ(r->simulations, 4);
  EXPECT_EQ(r->in_bytes, static_cast<int64_t>(ReadTestFile(in).size()));
  EXPECT_EQ(r->out_bytes, static_cast<int64_t>(ReadTestFile(out).size()));
  EXPECT_LT(r->out_bytes, r->in_bytes);  // the traces are gone
  const NeuronioFile source = Read(in);
  ExpectSameFile(source, Read(out));

  // Again: skipped, the file left as it was.
  const int64_t mtime = MtimeNs(out);
  r = ConvertNeuronioFile(in, out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->skipped);
  EXPECT_EQ(r->simulations, 4);
  EXPECT_EQ(MtimeNs(out), mtime);

  // A corrupt output (one byte flipped: the checksum fails) is converted
  // again, and so is one older than its source.
  std::string bytes = ReadTestFile(out);
  bytes[bytes.size() / 2] ^= 0x40;
  WriteTestFile(out, bytes);
  r = ConvertNeuronioFile(in, out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->skipped);
  ExpectSameFile(source, Read(out));
  Touch(in, 100);
  r = ConvertNeuronioFile(in, out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->skipped);

  // An output in format version 1 (an earlier build's) is converted again,
  // to the current version.
  ASSERT_TRUE(WriteNeuronioCompact(source, out, 1).ok());
  Touch(out, 150);
  ASSERT_EQ(NeuronioCompactFileVersion(out), 1);
  r = ConvertNeuronioFile(in, out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->skipped);
  EXPECT_EQ(NeuronioCompactFileVersion(out), kNeuronioCompactVersion);
  ExpectSameFile(source, Read(out));

  // A truncated output (as if written without the atomic rename) likewise.
  WriteTestFile(out, ReadTestFile(out).substr(0, 1000));
  Touch(out, 200);
  r = ConvertNeuronioFile(in, out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->skipped);
  ExpectSameFile(source, Read(out));
}

TEST(NeuronioConvertTest, ErrorsNameTheFileAndLeaveNoOutput) {
  const std::string dir = MakeTestDir("convert_errors");
  const std::string in = WritePickle(dir + "/bad.p", 3);
  WriteTestFile(in, ReadTestFile(in).substr(0, 5000));  // truncated
  const std::string out = dir + "/bad.elmnio";
  absl::StatusOr<NeuronioConversion> r = ConvertNeuronioFile(in, out);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(in));
  EXPECT_NE(access(out.c_str(), F_OK), 0);

  r = ConvertNeuronioFile(dir + "/missing.p", out);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("missing.p"));

  // An output folder that does not exist: the write error names the output.
  const std::string good = WritePickle(dir + "/good.p", 4);
  r = ConvertNeuronioFile(good, dir + "/no/such/dir/good.elmnio");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no/such/dir/good.elmnio"));
}

TEST(NeuronioConvertTest, CacheWritesOnFirstReadAndReadsItLater) {
  const std::string dir = MakeTestDir("cache");
  const std::string cache = dir + "/cache";
  ASSERT_EQ(mkdir(cache.c_str(), 0755), 0);
  const std::string in = WritePickle(dir + "/sim__7.p", 5);
  const NeuronioFile want = Read(in);

  absl::StatusOr<std::string> entry = NeuronioCachePath(in, cache);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_THAT(*entry, ::testing::MatchesRegex(
                          ".*/cache/sim__7\\.[0-9a-f]{16}\\.elmnio"));
  EXPECT_NE(access(entry->c_str(), F_OK), 0);

  absl::StatusOr<NeuronioFile> first = ReadNeuronioFileCached(in, cache);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->path, in);
  ExpectSameFile(want, *first);
  ASSERT_EQ(access(entry->c_str(), F_OK), 0) << "no cache entry written";
  ExpectSameFile(want, Read(*entry));

  // Later reads come from the entry: make the source unreadable as a pickle
  // while keeping its size and modification time (the key), and the cached
  // contents still come back.
  const int64_t mtime = MtimeNs(in);
  const std::string pickle = ReadTestFile(in);
  WriteTestFile(in, std::string(pickle.size(), 'x'));
  struct timespec times[2] = {{mtime / 1000000000, mtime % 1000000000},
                              {mtime / 1000000000, mtime % 1000000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, in.c_str(), times, 0), 0);
  EXPECT_FALSE(ReadNeuronioFile(in).ok());
  ASSERT_EQ(*NeuronioCachePath(in, cache), *entry);
  absl::StatusOr<NeuronioFile> second = ReadNeuronioFileCached(in, cache);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->path, in);
  ExpectSameFile(want, *second);

  // A changed source gets a new key: the stale entry is not used.
  WriteTestFile(in, pickle);
  Touch(in, 300);
  absl::StatusOr<std::string> new_entry = NeuronioCachePath(in, cache);
  ASSERT_TRUE(new_entry.ok());
  EXPECT_NE(*new_entry, *entry);
  absl::StatusOr<NeuronioFile> third = ReadNeuronioFileCached(in, cache);
  ASSERT_TRUE(third.ok()) << third.status();
  ExpectSameFile(want, *third);
  EXPECT_EQ(access(new_entry->c_str(), F_OK), 0);
}

TEST(NeuronioConvertTest, CorruptCacheEntryIsRecreated) {
  const std::string dir = MakeTestDir("cache_corrupt");
  const std::string in = WritePickle(dir + "/sim__8.p", 6);
  const NeuronioFile want = Read(in);
  ASSERT_TRUE(ReadNeuronioFileCached(in, dir).ok());
  const std::string entry = *NeuronioCachePath(in, dir);
  const std::string good = ReadTestFile(entry);
  for (const std::string& bad :
       {good.substr(0, good.size() / 3), std::string("garbage"),
        std::string(good).replace(good.size() / 2, 4, "\xff\xff\xff\xff")}) {
    WriteTestFile(entry, bad);
    absl::StatusOr<NeuronioFile> f = ReadNeuronioFileCached(in, dir);
    ASSERT_TRUE(f.ok()) << f.status();
    ExpectSameFile(want, *f);
    EXPECT_EQ(ReadTestFile(entry), good) << "entry not re-created";
  }
}

TEST(NeuronioConvertTest, VersionOneCacheEntryIsRewrittenInTheCurrentVersion) {
  const std::string dir = MakeTestDir("cache_v1");
  const std::string in = WritePickle(dir + "/sim__9.p", 7);
  const NeuronioFile want = Read(in);
  const std::string entry = *NeuronioCachePath(in, dir);
  ASSERT_TRUE(WriteNeuronioCompact(want, entry, 1).ok());
  // Read as views (the sampler) and in full: the same contents, and the entry
  // is version 2 afterwards.
  absl::StatusOr<std::shared_ptr<const NeuronioFileView>> view =
      ReadNeuronioFileCachedView(in, dir);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->path, in);
  ASSERT_EQ((*view)->simulations.size(), want.simulations.size());
  EXPECT_TRUE((*view)->simulations[1].step_channels ==
              ViewOf(want.simulations[1]).step_channels);
  EXPECT_EQ(NeuronioCompactFileVersion(entry), kNeuronioCompactVersion);
  ASSERT_TRUE(WriteNeuronioCompact(want, entry, 1).ok());
  absl::StatusOr<NeuronioFile> full = ReadNeuronioFileCached(in, dir);
  ASSERT_TRUE(full.ok()) << full.status();
  ExpectSameFile(want, *full);
  EXPECT_EQ(NeuronioCompactFileVersion(entry), kNeuronioCompactVersion);
  // A version-2 entry is read from the cache (the view holds the mapping).
  view = ReadNeuronioFileCachedView(in, dir);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->path, in);
  EXPECT_NE((*view)->storage, nullptr);
}

TEST(NeuronioConvertTest, CacheErrorsAreTheReadersAndWriteFailuresAreNot) {
  const std::string dir = MakeTestDir("cache_errors");
  // A missing or broken source gives ReadNeuronioFile's error.
  absl::StatusOr<NeuronioFile> f =
      ReadNeuronioFileCached(dir + "/missing.p", dir);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status(), ReadNeuronioFile(dir + "/missing.p").status());
  const std::string bad = WritePickle(dir + "/bad.p", 7);
  WriteTestFile(bad, ReadTestFile(bad).substr(0, 3000));
  f = ReadNeuronioFileCached(bad, dir);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status(), ReadNeuronioFile(bad).status());
  // A cache folder that cannot be written to: the file is still read.
  const std::string in = WritePickle(dir + "/sim__9.p", 8);
  f = ReadNeuronioFileCached(in, dir + "/no/such/folder");
  ASSERT_TRUE(f.ok()) << f.status();
  ExpectSameFile(Read(in), *f);
  // A compact source is read as it is, with no entry.
  const std::string compact = MakeTestDir("cache_errors_compact");
  ASSERT_TRUE(WriteNeuronioCompact(Read(in), compact + "/c.elmnio").ok());
  f = ReadNeuronioFileCached(compact + "/c.elmnio", dir + "/c");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, compact + "/c.elmnio");
  ExpectSameFile(Read(in), *f);
}

}  // namespace
}  // namespace elm
