// Tests the SHD reader, binning, split and datasets: the shd_mock fixture
// against the values of its expected_binning.json (when ../shared is present);
// float16 times through HDF5's conversion against our own decoding of every
// finite non-negative float16; the reference's bin counts and edge behaviour
// for 1, 2, 4, 5, 6, 8, 10, 20, 50 and 100 ms against an independent
// linear-scan digitize; reader errors on synthetic HDF5 files written here with
// the C API (messages name the file and the dataset path, HDF5 prints nothing,
// no handle stays open); the split fractions; and the SHD / SHD-Adding samplers
// (order, determinism, concatenation, labels, Batch::IsConsistent).
#include "data/shd.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "hdf5.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

// -----------------------------------------------------------------------------
// Writing synthetic SHD files with the HDF5 C API.

// The IEEE half-precision type as h5py writes it (HDF5 1.10 has no predefined
// one).
hid_t MakeFloat16() {
  const hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  EXPECT_GE(H5Tset_fields(t, 15, 10, 5, 0, 10), 0);
  EXPECT_GE(H5Tset_precision(t, 16), 0);
  EXPECT_GE(H5Tset_size(t, 2), 0);
  EXPECT_GE(H5Tset_ebias(t, 15), 0);
  return t;
}

// Creates `name` (and its groups) in `file`: a 1-D dataset of one vlen array
// per row, stored as `file_base` elements, written from `mem_base` elements.
template <typename T>
void WriteVlen(hid_t file, const std::string& name, hid_t file_base,
               hid_t mem_base, const std::vector<std::vector<T>>& rows) {
  std::vector<hvl_t> data(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    data[i].len = rows[i].size();
    data[i].p = const_cast<T*>(rows[i].data());
  }
  const hsize_t n = rows.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t ftype = H5Tvlen_create(file_base);
  const hid_t mtype = H5Tvlen_create(mem_base);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t d = H5Dcreate2(file, name.c_str(), ftype, space, lcpl,
                             H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0) << name;
  if (n > 0) {
    ASSERT_GE(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0)
        << name;
  }
  H5Dclose(d);
  H5Pclose(lcpl);
  H5Tclose(mtype);
  H5Tclose(ftype);
  H5Sclose(space);
}

// Creates `name`: a dataset of `dims` (1-D by default) stored as `file_type`.
template <typename T>
void WriteArray(hid_t file, const std::string& name, hid_t file_type,
                hid_t mem_type, const std::vector<T>& values,
                std::vector<hsize_t> dims = {}) {
  if (dims.empty()) dims = {values.size()};
  const hid_t space =
      H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t d = H5Dcreate2(file, name.c_str(), file_type, space, lcpl,
                             H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0) << name;
  if (!values.empty()) {
    ASSERT_GE(
        H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0)
        << name;
  }
  H5Dclose(d);
  H5Pclose(lcpl);
  H5Sclose(space);
}

// What a synthetic file holds; times are written as float32, units as int32
// (the fixture covers float16/uint16).
struct SyntheticShd {
  std::vector<std::vector<float>> times;
  std::vector<std::vector<int32_t>> units;
  std::vector<int64_t> labels;
  std::vector<int64_t> speakers;  // extra/speaker when non-empty
  bool write_times = true;
  bool write_units = true;
  bool write_labels = true;
};

SyntheticShd ThreeSamples() {
  SyntheticShd s;
  s.times = {{0.001f, 0.5f, 0.999f}, {}, {0.25f, 1.5f}};
  s.units = {{0, 7, 699}, {}, {3, 4}};
  s.labels = {0, 19, 7};
  return s;
}

hid_t CreateFile(const std::string& path) {
  const hid_t f =
      H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  return f;
}

std::string WriteShd(absl::string_view name, const SyntheticShd& s) {
  const std::string path = TestTempPath(name);
  const hid_t f = CreateFile(path);
  if (s.write_times) {
    WriteVlen(f, "spikes/times", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s.times);
  }
  if (s.write_units) {
    WriteVlen(f, "spikes/units", H5T_STD_I32LE, H5T_NATIVE_INT32, s.units);
  }
  if (s.write_labels) {
    WriteArray(f, "labels", H5T_STD_U16LE, H5T_NATIVE_INT64, s.labels);
  }
  if (!s.speakers.empty()) {
    WriteArray(f, "extra/speaker", H5T_STD_U16LE, H5T_NATIVE_INT64, s.speakers);
  }
  H5Fclose(f);
  return path;
}

// HDF5 files, datasets, groups and attributes open anywhere (datatypes are left
// to IdLeakCheck: with H5F_OBJ_ALL files this count includes transient ones).
ssize_t OpenHdf5Objects() {
  return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE | H5F_OBJ_DATASET |
                                           H5F_OBJ_GROUP | H5F_OBJ_ATTR);
}

// Finds transient dataspace and datatype identifiers left open by code run
// between construction and Leaked(). HDF5 1.10 numbers the identifiers of each
// kind in creation order and never reuses a number, and H5Inmembers refuses
// library kinds, so this probes every number created in between with
// H5Iis_valid.
class IdLeakCheck {
 public:
  IdLeakCheck() : space_(NewSpace()), type_(H5Tcopy(H5T_NATIVE_INT)) {}
  ~IdLeakCheck() {
    H5Sclose(space_);
    H5Tclose(type_);
  }
  int Leaked() const {
    const hid_t space_end = NewSpace();
    const hid_t type_end = H5Tcopy(H5T_NATIVE_INT);
    int leaked = 0;
    for (hid_t id = space_ + 1; id < space_end; ++id) {
      leaked += H5Iis_valid(id) > 0;
    }
    for (hid_t id = type_ + 1; id < type_end; ++id) {
      leaked += H5Iis_valid(id) > 0;
    }
    H5Sclose(space_end);
    H5Tclose(type_end);
    return leaked;
  }

 private:
  static hid_t NewSpace() {
    const hsize_t one = 1;
    return H5Screate_simple(1, &one, nullptr);
  }
  const hid_t space_, type_;
};

// Reads `path`, expecting an error; checks that HDF5 printed nothing and left
// nothing open, and returns the message.
std::string ReadError(const std::string& path) {
  IdLeakCheck ids;
  testing::internal::CaptureStderr();
  absl::StatusOr<std::vector<ShdSample>> r = ReadShdFile(path);
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.ok()) << path;
  EXPECT_EQ(printed, "") << "HDF5 printed to stderr";
  EXPECT_EQ(OpenHdf5Objects(), 0) << "an HDF5 object stayed open";
  EXPECT_EQ(ids.Leaked(), 0) << "a dataspace or datatype stayed open";
  return r.ok() ? "" : std::string(r.status().message());
}

// -----------------------------------------------------------------------------
// Reader.

TEST(ShdReaderTest, ReadsSyntheticFile) {
  SyntheticShd s = ThreeSamples();
  s.speakers = {3, 11, 0};
  const std::string path = WriteShd("good.h5", s);
  IdLeakCheck ids;
  absl::StatusOr<std::vector<ShdSample>> r = ReadShdFile(path);
  EXPECT_EQ(ids.Leaked(), 0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const ShdSample& got = (*r)[i];
    ASSERT_EQ(got.times_s.size(), s.times[i].size());
    for (size_t k = 0; k < got.times_s.size(); ++k) {
      EXPECT_EQ(got.times_s[k],
                static_cast<double>(s.times[i][k]));  // exact widening
      EXPECT_EQ(got.units[k], s.units[i][k]);
    }
    EXPECT_EQ(got.label, s.labels[i]);
    EXPECT_EQ(got.speaker, s.speakers[i]);
  }
  EXPECT_EQ(OpenHdf5Objects(), 0);
}

TEST(ShdReaderTest, ConvertsOtherWidthsAndHasNoSpeakerWithoutExtra) {
  // float64 times (kept exact: not rounded through float), uint8 units, int8
  // labels.
  const std::string path = TestTempPath("widths.h5");
  const hid_t f = CreateFile(path);
  const std::vector<std::vector<double>> times = {
      {0.1, 0.30000000000000004, 0.7}, {0.35}};
  const std::vector<std::vector<uint8_t>> units = {{1, 200, 255}, {9}};
  WriteVlen(f, "spikes/times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, times);
  WriteVlen(f, "spikes/units", H5T_STD_U8LE, H5T_NATIVE_UINT8, units);
  WriteArray(f, "labels", H5T_STD_I8LE, H5T_NATIVE_INT64,
             std::vector<int64_t>{12, 4});
  H5Fclose(f);
  absl::StatusOr<std::vector<ShdSample>> r = ReadShdFile(path);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].times_s, times[0]);
  EXPECT_EQ((*r)[0].units, (std::vector<int32_t>{1, 200, 255}));
  EXPECT_EQ((*r)[1].times_s, times[1]);
  EXPECT_EQ((*r)[0].label, 12);
  EXPECT_EQ((*r)[1].label, 4);
  EXPECT_EQ((*r)[0].speaker, -1);
}

double HalfToDouble(uint16_t h) {
  const int exponent = (h >> 10) & 31;
  const int mantissa = h & 1023;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa != 0 ? std::numeric_limits<double>::quiet_NaN()
                      : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return (h & 0x8000) != 0 ? -v : v;
}

// Writes one sample whose times are the given float16 bit patterns, stored as
// float16.
std::string WriteHalfTimes(absl::string_view name,
                           const std::vector<uint16_t>& bits) {
  const std::string path = TestTempPath(name);
  const hid_t f = CreateFile(path);
  const hid_t f16 = MakeFloat16();
  WriteVlen(f, "spikes/times", f16, f16,
            std::vector<std::vector<uint16_t>>{bits});
  WriteVlen(f, "spikes/units", H5T_STD_U16LE, H5T_NATIVE_UINT16,
            std::vector<std::vector<uint16_t>>{
                std::vector<uint16_t>(bits.size(), 5)});
  WriteArray(f, "labels", H5T_STD_U16LE, H5T_NATIVE_INT64,
             std::vector<int64_t>{1});
  H5Tclose(f16);
  H5Fclose(f);
  return path;
}

TEST(ShdReaderTest, Float16TimesConvertExactly) {
  // Every finite non-negative float16, subnormals included, through HDF5's
  // conversion.
  std::vector<uint16_t> bits;
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    bits.push_back(static_cast<uint16_t>(h));
  }
  const std::string path = WriteHalfTimes("half.h5", bits);
  absl::StatusOr<std::vector<ShdSample>> r = ReadShdFile(path);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  const ShdSample& s = (*r)[0];
  ASSERT_EQ(s.times_s.size(), bits.size());
  int wrong = 0;
  for (size_t k = 0; k < bits.size(); ++k) {
    if (s.times_s[k] != HalfToDouble(bits[k]) && ++wrong <= 5) {
      ADD_FAILURE() << "float16 0x" << std::hex << bits[k] << std::dec
                    << " read as " << s.times_s[k] << ", expected "
                    << HalfToDouble(bits[k]);
    }
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(s.times_s[0x3C00], 1.0);
  EXPECT_EQ(s.times_s[1], std::ldexp(1.0, -24));
  EXPECT_EQ(s.times_s[0x7BFF], 65504.0);
}

TEST(ShdReaderTest, Float16NanNegativeAndInfinityAreErrors) {
  const std::string nan_path = WriteHalfTimes("half_nan.h5", {0x3800, 0x7E00});
  std::string m = ReadError(nan_path);
  EXPECT_THAT(m, HasSubstr(nan_path));
  EXPECT_THAT(m, HasSubstr("'spikes/times'"));
  EXPECT_THAT(m, HasSubstr("sample 0 spike 1: time is NaN"));

  const std::string neg_path = WriteHalfTimes("half_neg.h5", {0xB800});  // -0.5
  m = ReadError(neg_path);
  EXPECT_THAT(m, HasSubstr(neg_path));
  EXPECT_THAT(m, HasSubstr("'spikes/times'"));
  EXPECT_THAT(m, HasSubstr("-0.5"));

  m = ReadError(WriteHalfTimes("half_inf.h5", {0x7C00}));
  EXPECT_THAT(m, HasSubstr("'spikes/times'"));
  EXPECT_THAT(m, HasSubstr("sample 0 spike 0: time is infinite"));

  // -0.0 is not negative: it bins with 0.
  absl::StatusOr<std::vector<ShdSample>> r =
      ReadShdFile(WriteHalfTimes("half_negzero.h5", {0x8000}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].times_s[0], 0.0);
}

TEST(ShdReaderTest, MissingFile) {
  const std::string path = TestTempPath("no_such_file.h5");
  const std::string m = ReadError(path);
  EXPECT_THAT(m, HasSubstr(path));
  EXPECT_THAT(m, HasSubstr("No such file"));
  EXPECT_EQ(ReadShdFile(path).status().code(), absl::StatusCode::kNotFound);
}

TEST(ShdReaderTest, NotAnHdf5File) {
  const std::string path = TestTempPath("text.h5");
  WriteTestFile(path, "spikes/times, but not HDF5\n");
  const std::string m = ReadError(path);
  EXPECT_THAT(m, HasSubstr(path));
  EXPECT_THAT(m, HasSubstr("not an HDF5 file"));
}

struct LayoutCase {
  const char* name;
  void (*edit)(SyntheticShd*);
  const char* dataset;  // quoted in the message
  const char* problem;  // also in the message
};

class ShdLayoutErrorTest : public testing::TestWithParam<LayoutCase> {};

TEST_P(ShdLayoutErrorTest, NamesFileAndDataset) {
  const LayoutCase& c = GetParam();
  SyntheticShd s = ThreeSamples();
  c.edit(&s);
  const std::string path = WriteShd(absl::StrCat(c.name, ".h5"), s);
  const std::string m = ReadError(path);
  EXPECT_THAT(m, HasSubstr(absl::StrCat("SHD file '", path, "'")));
  EXPECT_THAT(m, HasSubstr(absl::StrCat("dataset '", c.dataset, "'")));
  EXPECT_THAT(m, HasSubstr(c.problem));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ShdLayoutErrorTest,
    testing::Values(
        LayoutCase{"no_units", [](SyntheticShd* s) { s->write_units = false; },
                   "spikes/units", "missing"},
        LayoutCase{
            "no_spikes",
            [](SyntheticShd* s) { s->write_times = s->write_units = false; },
            "spikes/times", "missing"},
        LayoutCase{"no_labels",
                   [](SyntheticShd* s) { s->write_labels = false; }, "labels",
                   "missing"},
        LayoutCase{"short_labels",
                   [](SyntheticShd* s) { s->labels.pop_back(); }, "labels",
                   "has 2 entries but spikes/times has 3"},
        LayoutCase{"short_units", [](SyntheticShd* s) { s->units.pop_back(); },
                   "spikes/units", "has 2 entries but spikes/times has 3"},
        LayoutCase{"sample_length",
                   [](SyntheticShd* s) { s->units[2].pop_back(); },
                   "spikes/units", "sample 2 has 1 units but 2 times"},
        LayoutCase{"unit_700", [](SyntheticShd* s) { s->units[0][1] = 700; },
                   "spikes/units",
                   "sample 0 spike 1: unit 700 is outside [0, 700)"},
        LayoutCase{"unit_negative",
                   [](SyntheticShd* s) { s->units[2][0] = -1; }, "spikes/units",
                   "sample 2 spike 0: unit -1"},
        LayoutCase{
            "time_negative", [](SyntheticShd* s) { s->times[2][1] = -0.25f; },
            "spikes/times", "sample 2 spike 1: time -0.25 s is negative"},
        LayoutCase{"time_nan",
                   [](SyntheticShd* s) { s->times[0][2] = std::nanf(""); },
                   "spikes/times", "sample 0 spike 2: time is NaN"},
        LayoutCase{"label_20", [](SyntheticShd* s) { s->labels[1] = 20; },
                   "labels", "label 20 of sample 1 is outside [0, 20)"},
        LayoutCase{"speaker_length",
                   [](SyntheticShd* s) {
                     s->speakers = {1, 2};
                   },
                   "extra/speaker", "has 2 entries"}),
    [](const testing::TestParamInfo<LayoutCase>& info) {
      return info.param.name;
    });

TEST(ShdReaderTest, WrongElementTypes) {
  // Times stored as plain floats, not one vlen array per sample.
  std::string path = TestTempPath("flat_times.h5");
  hid_t f = CreateFile(path);
  WriteArray(f, "spikes/times", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
             std::vector<float>{0.1f, 0.2f});
  WriteVlen(f, "spikes/units", H5T_STD_U16LE, H5T_NATIVE_UINT16,
            std::vector<std::vector<uint16_t>>{{1}, {2}});
  WriteArray(f, "labels", H5T_STD_U16LE, H5T_NATIVE_INT64,
             std::vector<int64_t>{1, 2});
  H5Fclose(f);
  std::string m = ReadError(path);
  EXPECT_THAT(m, HasSubstr(path));
  EXPECT_THAT(
      m, HasSubstr("dataset 'spikes/times': stores float elements; expected "
                   "variable-length arrays of float"));

  // Units as vlen floats; labels as a 2-D array.
  path = TestTempPath("float_units.h5");
  f = CreateFile(path);
  WriteVlen(f, "spikes/times", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
            std::vector<std::vector<float>>{{0.1f}});
  WriteVlen(f, "spikes/units", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
            std::vector<std::vector<float>>{{1.0f}});
  WriteArray(f, "labels", H5T_STD_U16LE, H5T_NATIVE_INT64,
             std::vector<int64_t>{1});
  H5Fclose(f);
  m = ReadError(path);
  EXPECT_THAT(
      m, HasSubstr(
             "dataset 'spikes/units': stores variable-length arrays of float; "
             "expected integer"));

  path = TestTempPath("labels_2d.h5");
  f = CreateFile(path);
  WriteVlen(f, "spikes/times", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
            std::vector<std::vector<float>>{{0.1f}, {0.2f}});
  WriteVlen(f, "spikes/units", H5T_STD_U16LE, H5T_NATIVE_UINT16,
            std::vector<std::vector<uint16_t>>{{1}, {2}});
  WriteArray(f, "labels", H5T_STD_U16LE, H5T_NATIVE_INT64,
             std::vector<int64_t>{1, 2}, {1, 2});
  H5Fclose(f);
  m = ReadError(path);
  EXPECT_THAT(m, HasSubstr("dataset 'labels': has rank 2"));
}

TEST(ShdReaderTest, Hdf5FailuresPrintNothing) {
  // Cases where HDF5 calls themselves fail (and would print their error stack).
  std::string path = TestTempPath("times_group.h5");
  hid_t f = CreateFile(path);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  H5Gclose(H5Gcreate2(f, "spikes/times/not_a_dataset", lcpl, H5P_DEFAULT,
                      H5P_DEFAULT));
  H5Pclose(lcpl);
  H5Fclose(f);
  std::string m = ReadError(path);
  EXPECT_THAT(m, HasSubstr(path));
  EXPECT_THAT(m, HasSubstr("dataset 'spikes/times': is not a dataset"));

  // A good file cut short: the signature is there, the rest is not.
  const std::string good = WriteShd("to_truncate.h5", ThreeSamples());
  const std::string bytes = ReadTestFile(good);
  path = TestTempPath("truncated.h5");
  WriteTestFile(path, bytes.substr(0, bytes.size() / 3));
  m = ReadError(path);
  EXPECT_THAT(m, HasSubstr(path));
}

TEST(ShdReaderTest, VisitorErrorStopsTheRead) {
  const std::string path = WriteShd("visit.h5", ThreeSamples());
  int calls = 0;
  const absl::Status s =
      ForEachShdSample(path, [&](int64_t i, const ShdSample&) {
        ++calls;
        return i == 1 ? absl::CancelledError("stop") : absl::OkStatus();
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(OpenHdf5Objects(), 0);
}

TEST(ShdReaderTest, ManySamplesAcrossChunks) {
  // More samples than one read chunk (1024).
  SyntheticShd s;
  for (int i = 0; i < 2500; ++i) {
    s.times.push_back({0.001f * (i % 900), 0.5f});
    s.units.push_back({i % 700, 1});
    s.labels.push_back(i % 20);
  }
  absl::StatusOr<std::vector<ShdSample>> r =
      ReadShdFile(WriteShd("many.h5", s));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2500u);
  for (int i = 0; i < 2500; ++i) {
    ASSERT_EQ((*r)[i].units[0], i % 700) << i;
    ASSERT_EQ((*r)[i].times_s[0], static_cast<double>(0.001f * (i % 900))) << i;
    ASSERT_EQ((*r)[i].label, i % 20) << i;
  }
}

// -----------------------------------------------------------------------------
// The fixture.

const google::protobuf::Value& Field(const google::protobuf::Struct& s,
                                     const char* key) {
  static const google::protobuf::Value* const kNull =
      new google::protobuf::Value();
  auto it = s.fields().find(key);
  EXPECT_TRUE(it != s.fields().end()) << "expected_binning.json lacks " << key;
  return it == s.fields().end() ? *kNull : it->second;
}

TEST(ShdFixtureTest, MatchesExpectedBinning) {
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string json_path =
      FindSharedPath("data/shd_mock/expected_binning.json", &missing);
  if (json_path.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string json = ReadTestFile(json_path);
  google::protobuf::Struct expected;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(json, &expected).ok());

  absl::StatusOr<std::vector<ShdSample>> samples = ReadShdFile(h5);
  ASSERT_TRUE(samples.ok()) << samples.status();
  const double bin_ms = Field(expected, "bin_size_ms").number_value();
  const std::vector<double> edges = ShdBinEdges(bin_ms, 1.0);
  EXPECT_EQ(static_cast<double>(edges.size() - 1),
            Field(expected, "num_bins").number_value());
  ASSERT_EQ(static_cast<double>(samples->size()),
            Field(expected, "num_samples").number_value());
  EXPECT_EQ(Field(expected, "num_channels").number_value(), kShdNumUnits);
  const auto& labels = Field(expected, "labels").list_value();
  const auto& want = Field(expected, "samples").list_value();
  ASSERT_EQ(want.values_size(), 8);

  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(absl::StrCat("sample ", i));
    const ShdSample& s = (*samples)[i];
    const google::protobuf::Struct& w = want.values(i).struct_value();
    EXPECT_EQ(s.label, labels.values(i).number_value());
    EXPECT_EQ(s.label, Field(w, "label").number_value());
    EXPECT_GE(s.speaker, 0);
    EXPECT_EQ(static_cast<double>(s.times_s.size()),
              Field(w, "num_spikes_total").number_value());

    const ShdFrames f = BinShdSample(s, edges);
    EXPECT_EQ(f.label, s.label);
    ASSERT_EQ(f.num_bins(), 100);
    EXPECT_EQ(static_cast<double>(f.num_kept()),
              Field(w, "num_spikes_kept").number_value());
    float max_count = 0;
    for (float c : f.count) max_count = std::max(max_count, c);
    EXPECT_EQ(max_count, Field(w, "max_count").number_value());

    // The first nonzeros in (bin, unit) order.
    std::vector<std::vector<double>> events;
    for (int64_t t = 0; t < f.num_bins() && events.size() < 5; ++t) {
      for (int32_t k = f.bin_begin[t];
           k < f.bin_begin[t + 1] && events.size() < 5; ++k) {
        events.push_back({static_cast<double>(t),
                          static_cast<double>(f.unit[k]),
                          static_cast<double>(f.count[k])});
      }
    }
    const auto& want_events =
        Field(w, "first_events_bin_unit_count").list_value();
    ASSERT_EQ(static_cast<int>(events.size()), want_events.values_size());
    for (int e = 0; e < want_events.values_size(); ++e) {
      const auto& triple = want_events.values(e).list_value();
      ASSERT_EQ(triple.values_size(), 3);
      for (int j = 0; j < 3; ++j) {
        EXPECT_EQ(events[e][j], triple.values(j).number_value())
            << "event " << e << "." << j;
      }
    }

    const auto& want_sums = Field(w, "sum_over_bins_first5_units").list_value();
    ASSERT_EQ(want_sums.values_size(), 5);
    for (int unit = 0; unit < 5; ++unit) {
      double sum = 0;
      for (size_t k = 0; k < f.unit.size(); ++k) {
        if (f.unit[k] == unit) sum += f.count[k];
      }
      EXPECT_EQ(sum, want_sums.values(unit).number_value()) << "unit " << unit;
    }
  }
}

TEST(ShdFixtureTest, StoresFloat16TimesAndUint16Units) {
  // The synthetic float16 files above use the same type as h5py's.
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  const hid_t f = H5Fopen(h5.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t d = H5Dopen2(f, "spikes/times", H5P_DEFAULT);
  const hid_t vlen = H5Dget_type(d);
  const hid_t base = H5Tget_super(vlen);
  const hid_t f16 = MakeFloat16();
  EXPECT_GT(H5Tequal(base, f16), 0);
  H5Tclose(f16);
  H5Tclose(base);
  H5Tclose(vlen);
  H5Dclose(d);
  H5Fclose(f);
}

// -----------------------------------------------------------------------------
// Binning.

ShdSample Spikes(std::vector<double> times, std::vector<int32_t> units,
                 int64_t label = 0) {
  ShdSample s;
  s.times_s = std::move(times);
  s.units = std::move(units);
  s.label = label;
  return s;
}

// The bin of each kept spike as a (bin -> units) map.
std::map<int64_t, std::vector<std::pair<int, float>>> Events(
    const ShdFrames& f) {
  std::map<int64_t, std::vector<std::pair<int, float>>> out;
  for (int64_t t = 0; t < f.num_bins(); ++t) {
    for (int32_t k = f.bin_begin[t]; k < f.bin_begin[t + 1]; ++k) {
      out[t].push_back({f.unit[k], f.count[k]});
    }
  }
  return out;
}

// The bin of one spike at `t`, or -1 where it is dropped.
int64_t BinOf(double t, double bin_ms) {
  const ShdFrames f = BinShdSample(Spikes({t}, {3}), ShdBinEdges(bin_ms, 1.0));
  auto e = Events(f);
  if (e.empty()) return -1;
  EXPECT_EQ(e.size(), 1u);
  return e.begin()->first;
}

TEST(ShdBinningTest, StepsPerBinSizeAsTheReference) {
  // elm_reference.md §5.3.
  const std::vector<std::pair<double, int>> table = {
      {1, 1000}, {2, 500},  {4, 250}, {5, 200}, {6, 167},
      {8, 125},  {10, 100}, {20, 50}, {50, 20}, {100, 10}};
  for (const auto& [bin_ms, steps] : table) {
    const std::vector<double> edges = ShdBinEdges(bin_ms, 1.0);
    EXPECT_EQ(static_cast<int>(edges.size()) - 1, steps) << bin_ms << " ms";
    const double step = bin_ms / 1000.0;
    for (size_t k = 0; k < edges.size(); ++k) {
      ASSERT_EQ(edges[k], static_cast<double>(k) * step)
          << bin_ms << " ms, edge " << k;
    }
  }
  EXPECT_EQ(ShdBinEdges(6, 1.0).back(), 1.002);
  EXPECT_EQ(ShdBinEdges(10, 1.0).back(), 1.0);
  EXPECT_EQ(ShdBinEdges(1, 1.0).back(), 1.0);
  // Bin sizes that do not divide max_time: numpy's ceil((stop) / step) edge
  // count.
  EXPECT_EQ(ShdBinEdges(3, 1.0).size(), 335u);
  EXPECT_EQ(ShdBinEdges(7, 1.0).size(), 144u);
  EXPECT_EQ(ShdBinEdges(10, 0.5).size(), 51u);
}

TEST(ShdBinningTest, FloatingPointEdges) {
  // Values from Python's bisect_right over [k * step for k in range(n)] (=
  // np.digitize): k·step in double can land above the decimal k·bin, so a spike
  // at that decimal falls into the earlier bin.
  EXPECT_EQ(BinOf(0.3, 100), 2);  // 3 * 0.1 = 0.30000000000000004
  EXPECT_EQ(BinOf(0.30000000000000004, 100), 3);
  EXPECT_EQ(BinOf(0.6, 100), 5);
  EXPECT_EQ(BinOf(0.7, 100), 6);
  EXPECT_EQ(BinOf(0.35, 10), 34);  // 35 * 0.01 = 0.35000000000000003
  EXPECT_EQ(BinOf(0.7, 10), 69);
  EXPECT_EQ(BinOf(0.5, 10), 50);  // 50 * 0.01 = 0.5 exactly
  EXPECT_EQ(BinOf(0.3, 6), 50);
  EXPECT_EQ(BinOf(0.9, 6), 150);
  EXPECT_EQ(BinOf(0.5, 4), 125);
  EXPECT_EQ(BinOf(0.3, 1), 300);
  EXPECT_EQ(BinOf(0.999, 1), 999);
  EXPECT_EQ(BinOf(0.0, 10), 0);
  // The end: spikes at or after the last edge are dropped.
  EXPECT_EQ(BinOf(1.0, 10), -1);
  EXPECT_EQ(BinOf(std::nextafter(1.0, 0.0), 10), 99);
  EXPECT_EQ(BinOf(1.0, 1), -1);
  EXPECT_EQ(BinOf(1.0, 100), -1);
  EXPECT_EQ(BinOf(1.5, 10), -1);
  EXPECT_EQ(BinOf(1.0, 6), 166);  // 6 ms keeps [1.0, 1.002)
  EXPECT_EQ(BinOf(1.001, 6), 166);
  EXPECT_EQ(BinOf(1.002, 6), -1);
  EXPECT_EQ(BinOf(std::nextafter(1.002, 0.0), 6), 166);
}

TEST(ShdBinningTest, SpikesOnEveryEdge) {
  for (double bin_ms : {1.0, 4.0, 6.0, 10.0, 100.0}) {
    const std::vector<double> edges = ShdBinEdges(bin_ms, 1.0);
    const int64_t steps = static_cast<int64_t>(edges.size()) - 1;
    ShdSample on, below;
    for (int64_t k = 0; k <= steps; ++k) {
      on.times_s.push_back(edges[k]);
      on.units.push_back(static_cast<int32_t>(k % kShdNumUnits));
      if (k > 0) {
        below.times_s.push_back(std::nextafter(edges[k], 0.0));
        below.units.push_back(static_cast<int32_t>(k % kShdNumUnits));
      }
    }
    const ShdFrames f_on = BinShdSample(on, edges);
    const ShdFrames f_below = BinShdSample(below, edges);
    ASSERT_EQ(f_on.num_bins(), steps);
    EXPECT_EQ(f_on.num_kept(), steps)
        << bin_ms;  // the spike on the last edge is dropped
    EXPECT_EQ(f_below.num_kept(), steps) << bin_ms;
    for (int64_t t = 0; t < steps; ++t) {
      // Edge t starts bin t; just below edge t + 1 is still bin t.
      ASSERT_EQ(f_on.bin_begin[t + 1] - f_on.bin_begin[t], 1)
          << bin_ms << " ms bin " << t;
      EXPECT_EQ(f_on.unit[f_on.bin_begin[t]], t % kShdNumUnits);
      ASSERT_EQ(f_below.bin_begin[t + 1] - f_below.bin_begin[t], 1);
      EXPECT_EQ(f_below.unit[f_below.bin_begin[t]], (t + 1) % kShdNumUnits);
    }
  }
}

TEST(ShdBinningTest, CountsSummedAndUnitsSorted) {
  const ShdFrames f =
      BinShdSample(Spikes({0.012, 0.015, 0.019, 0.011, 0.0, 0.999, 1.0, 1.2},
                          {7, 7, 3, 7, 650, 2, 5, 5}, 13),
                   ShdBinEdges(10, 1.0));
  EXPECT_EQ(f.label, 13);
  EXPECT_EQ(f.num_kept(), 6);
  const auto e = Events(f);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e.at(0), (std::vector<std::pair<int, float>>{{650, 1.0f}}));
  EXPECT_EQ(e.at(1),
            (std::vector<std::pair<int, float>>{{3, 1.0f}, {7, 3.0f}}));
  EXPECT_EQ(e.at(99), (std::vector<std::pair<int, float>>{{2, 1.0f}}));
  const ShdFrames empty = BinShdSample(Spikes({}, {}), ShdBinEdges(10, 1.0));
  EXPECT_EQ(empty.num_bins(), 100);
  EXPECT_EQ(empty.num_kept(), 0);
  EXPECT_EQ(empty.bin_begin.back(), 0);
}

TEST(ShdBinningTest, MatchesLinearScanDigitize) {
  // np.digitize(t, edges) − 1 written as a linear scan (count the edges <= t),
  // densified with the last bin dropped, against BinShdSample, on random
  // float16-like and double times.
  Rng rng(5);
  for (double bin_ms :
       {1.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 20.0, 50.0, 100.0}) {
    const std::vector<double> edges = ShdBinEdges(bin_ms, 1.0);
    const int64_t steps = static_cast<int64_t>(edges.size()) - 1;
    ShdSample s;
    for (int k = 0; k < 3000; ++k) {
      double t = rng.Uniform(0.0, 1.3);
      if (k % 3 == 0) {
        t = std::ldexp(std::round(std::ldexp(t, 11)), -11);  // on a grid
      }
      if (k % 7 == 0) t = edges[rng.UniformInt(edges.size())];
      s.times_s.push_back(t);
      s.units.push_back(static_cast<int32_t>(rng.UniformInt(kShdNumUnits)));
    }
    std::vector<float> want((steps + 1) * kShdNumUnits, 0.0f);
    for (size_t k = 0; k < s.times_s.size(); ++k) {
      int64_t d = 0;
      while (d < static_cast<int64_t>(edges.size()) && edges[d] <= s.times_s[k])
        ++d;
      want[(d - 1) * kShdNumUnits + s.units[k]] += 1.0f;
    }
    want.resize(steps * kShdNumUnits);  // drop the last bin
    const ShdFrames f = BinShdSample(s, edges);
    std::vector<float> got(steps * kShdNumUnits, 0.0f);
    for (int64_t t = 0; t < steps; ++t) {
      for (int32_t k = f.bin_begin[t]; k < f.bin_begin[t + 1]; ++k) {
        if (k > f.bin_begin[t]) {
          ASSERT_LT(f.unit[k - 1], f.unit[k]);
        }
        got[t * kShdNumUnits + f.unit[k]] = f.count[k];
      }
    }
    EXPECT_EQ(got, want) << bin_ms << " ms";
  }
}

// -----------------------------------------------------------------------------
// Split.

TEST(ShdSplitTest, FractionAndDeterminism) {
  for (uint64_t seed : {0, 1, 2, 3, 4}) {
    const std::vector<bool> mask = ShdValidMask(20000, 0.2, seed);
    const double fraction =
        static_cast<double>(std::count(mask.begin(), mask.end(), true)) /
        mask.size();
    EXPECT_NEAR(fraction, 0.2, 0.01) << "seed " << seed;  // 3.5 sigma
    EXPECT_EQ(ShdValidMask(20000, 0.2, seed), mask);
  }
  EXPECT_NE(ShdValidMask(1000, 0.2, 1), ShdValidMask(1000, 0.2, 2));
  const std::vector<bool> none = ShdValidMask(1000, 0.0, 7);
  EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
  const std::vector<bool> half = ShdValidMask(20000, 0.5, 7);
  EXPECT_NEAR(std::count(half.begin(), half.end(), true) / 20000.0, 0.5, 0.015);
}

// -----------------------------------------------------------------------------
// Datasets and samplers.

// A binned sample whose only spike in bin 0 is unit `id` (which identifies it
// in batches), with a few random spikes after 50 ms.
ShdFrames IdSample(int id, int64_t label, const std::vector<double>& edges,
                   Rng& rng) {
  ShdSample s = Spikes({0.0}, {id}, label);
  const int n = static_cast<int>(rng.UniformInt(20));
  for (int k = 0; k < n; ++k) {
    s.times_s.push_back(rng.Uniform(0.05, 1.1));
    s.units.push_back(static_cast<int32_t>(rng.UniformInt(kShdNumUnits)));
  }
  return BinShdSample(s, edges);
}

ShdSpec Spec(double bin_ms, bool adding, double valid_fraction = 0.2) {
  ShdSpec spec;
  spec.set_bin_size_ms(bin_ms);
  spec.set_adding(adding);
  spec.set_valid_fraction(valid_fraction);
  return spec;
}

std::unique_ptr<ShdDataset> MakeSynthetic(const ShdSpec& spec, uint64_t seed,
                                          int n_train, int n_test) {
  const std::vector<double> edges =
      ShdBinEdges(spec.bin_size_ms(), spec.max_time_s());
  Rng rng(99);
  std::vector<ShdFrames> train, test;
  for (int i = 0; i < n_train; ++i) {
    train.push_back(IdSample(i, (i * 7) % 20, edges, rng));
  }
  for (int i = 0; i < n_test; ++i) {
    test.push_back(IdSample(i, (i * 3) % 20, edges, rng));
  }
  absl::StatusOr<std::unique_ptr<ShdDataset>> d =
      ShdDataset::Create(spec, seed, std::move(train), std::move(test));
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? std::move(*d) : nullptr;
}

// The dense [T, 700] input of one binned sample.
std::vector<float> Dense(const ShdFrames& f) {
  std::vector<float> out(f.num_bins() * kShdNumUnits, 0.0f);
  for (int64_t t = 0; t < f.num_bins(); ++t) {
    for (int32_t k = f.bin_begin[t]; k < f.bin_begin[t + 1]; ++k) {
      out[t * kShdNumUnits + f.unit[k]] = f.count[k];
    }
  }
  return out;
}

// The id (unit of the bin-0 spike) of sequence b at step t of a batch.
int IdAt(const Batch& b, int64_t seq, int64_t step) {
  const int64_t r = seq * b.steps + step;
  EXPECT_EQ(b.inputs.row_begin[r + 1] - b.inputs.row_begin[r], 1);
  return b.inputs.col[b.inputs.row_begin[r]];
}

void ExpectSameBatch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.inputs.row_begin, b.inputs.row_begin);
  EXPECT_EQ(a.inputs.col, b.inputs.col);
  EXPECT_EQ(a.inputs.value, b.inputs.value);
  EXPECT_EQ(a.labels, b.labels);
}

TEST(ShdDatasetTest, Info) {
  std::unique_ptr<ShdDataset> shd = MakeSynthetic(Spec(10, false), 1, 10, 4);
  ASSERT_NE(shd, nullptr);
  EXPECT_EQ(shd->info().name, "shd");
  EXPECT_EQ(shd->info().input_dim, 700);
  EXPECT_EQ(shd->info().steps, 100);
  EXPECT_EQ(shd->info().num_classes, 20);
  EXPECT_EQ(shd->info().delta_t_ms, 10.0);
  std::unique_ptr<ShdDataset> adding = MakeSynthetic(Spec(10, true), 1, 10, 4);
  ASSERT_NE(adding, nullptr);
  EXPECT_EQ(adding->info().name, "shd_adding");
  EXPECT_EQ(adding->info().steps, 200);
  EXPECT_EQ(adding->info().num_classes, 19);
  std::unique_ptr<ShdDataset> six = MakeSynthetic(Spec(6, false), 1, 10, 4);
  ASSERT_NE(six, nullptr);
  EXPECT_EQ(six->info().steps, 167);
  EXPECT_EQ(six->info().delta_t_ms, 6.0);
}

TEST(ShdDatasetTest, SplitFollowsValidMask) {
  std::unique_ptr<ShdDataset> d =
      MakeSynthetic(Spec(10, false, 0.2), 17, 500, 30);
  ASSERT_NE(d, nullptr);
  const std::vector<bool> mask = ShdValidMask(500, 0.2, 17);
  EXPECT_EQ(d->num_samples(Split::kTrain) + d->num_samples(Split::kValid), 500);
  EXPECT_EQ(d->num_samples(Split::kValid),
            std::count(mask.begin(), mask.end(), true));
  EXPECT_EQ(d->num_samples(Split::kTest), 30);
  EXPECT_EQ(d->num_sequences(Split::kTest), 30);  // a fixed set
  EXPECT_EQ(
      MakeSynthetic(Spec(10, true), 1, 10, 4)->num_sequences(Split::kTest),
      0);  // SHD-Adding pairs are sampled
  for (int64_t i = 0; i < d->num_samples(Split::kValid); ++i) {
    EXPECT_TRUE(mask[d->file_index(Split::kValid, i)]);
  }
  for (int64_t i = 0; i < d->num_samples(Split::kTrain); ++i) {
    EXPECT_FALSE(mask[d->file_index(Split::kTrain, i)]);
  }
  // Another seed, another split.
  std::unique_ptr<ShdDataset> e =
      MakeSynthetic(Spec(10, false, 0.2), 18, 500, 30);
  ASSERT_NE(e, nullptr);
  bool differs = e->num_samples(Split::kValid) != d->num_samples(Split::kValid);
  for (int64_t i = 0; !differs && i < d->num_samples(Split::kValid); ++i) {
    differs =
        e->file_index(Split::kValid, i) != d->file_index(Split::kValid, i);
  }
  EXPECT_TRUE(differs);
}

TEST(ShdDatasetTest, TrainSamplerShufflesEachEpochAndIsDeterministic) {
  std::unique_ptr<ShdDataset> d =
      MakeSynthetic(Spec(10, false, 0.2), 3, 90, 10);
  ASSERT_NE(d, nullptr);
  const int64_t n = d->num_samples(Split::kTrain);
  const int kBatch = 8;
  const int64_t per_epoch = n / kBatch;
  // Train sample ids (the training-file index) in the split.
  std::set<int> train_ids;
  for (int64_t i = 0; i < n; ++i) {
    train_ids.insert(d->file_index(Split::kTrain, i));
  }

  auto sampler = d->MakeSampler(Split::kTrain, kBatch, 42);
  auto again = d->MakeSampler(Split::kTrain, kBatch, 42);
  auto other = d->MakeSampler(Split::kTrain, kBatch, 43);
  ASSERT_TRUE(sampler.ok() && again.ok() && other.ok());
  std::vector<std::vector<int>> epochs(3);
  bool other_differs = false;
  for (int e = 0; e < 3; ++e) {
    for (int64_t k = 0; k < per_epoch; ++k) {
      absl::StatusOr<Batch> b = (*sampler)->Next();
      absl::StatusOr<Batch> b2 = (*again)->Next();
      absl::StatusOr<Batch> b3 = (*other)->Next();
      ASSERT_TRUE(b.ok() && b2.ok() && b3.ok());
      std::string why;
      ASSERT_TRUE(b->IsConsistent(&why)) << why;
      ASSERT_EQ(b->batch, kBatch);
      ASSERT_EQ(b->steps, 100);
      ASSERT_EQ(b->input_dim(), 700);
      ExpectSameBatch(*b, *b2);
      other_differs |= b->inputs.col != b3->inputs.col;
      std::vector<float> dense(b->batch * b->steps * b->input_dim());
      b->ToDense(dense.data());
      for (int s = 0; s < kBatch; ++s) {
        const int id = IdAt(*b, s, 0);
        epochs[e].push_back(id);
        ASSERT_TRUE(train_ids.count(id)) << id << " is not a training sample";
        // The training file's sample `id`: find it through the split.
        int64_t pos = -1;
        for (int64_t i = 0; i < n; ++i) {
          if (d->file_index(Split::kTrain, i) == id) pos = i;
        }
        const ShdFrames& want = d->frames(Split::kTrain, pos);
        EXPECT_EQ(b->labels[s], want.label);
        const std::vector<float> want_dense = Dense(want);
        ASSERT_TRUE(std::equal(want_dense.begin(), want_dense.end(),
                               dense.begin() + s * b->steps * b->input_dim()));
      }
    }
  }
  EXPECT_TRUE(other_differs);
  for (int e = 0; e < 3; ++e) {
    // Each epoch: per_epoch · B distinct training samples (the rest is the
    // dropped tail).
    const std::set<int> distinct(epochs[e].begin(), epochs[e].end());
    EXPECT_EQ(static_cast<int64_t>(distinct.size()), per_epoch * kBatch)
        << "epoch " << e;
  }
  EXPECT_NE(epochs[0], epochs[1]);  // reshuffled
  EXPECT_NE(epochs[1], epochs[2]);
}

// A process holding only some sequences of each batch (one MPI rank) gets
// the same rows, for SHD and SHD-Adding pairs.
TEST(ShdDatasetTest, HeldPartsAreRowsOfTheWholeBatch) {
  for (const bool adding : {false, true}) {
    std::unique_ptr<ShdDataset> d =
        MakeSynthetic(Spec(10, adding, 0.2), 3, 90, 10);
    ASSERT_NE(d, nullptr);
    const absl::Status held = CheckHeldParts(*d, Split::kTrain, 8, 42, 5);
    EXPECT_TRUE(held.ok()) << "adding " << adding << ": " << held;
  }
}

TEST(ShdDatasetTest, ValidAndTestInFixedOrderDroppingThePartialBatch) {
  std::unique_ptr<ShdDataset> d =
      MakeSynthetic(Spec(10, false, 0.3), 5, 40, 12);
  ASSERT_NE(d, nullptr);
  for (Split split : {Split::kValid, Split::kTest}) {
    const int64_t n = d->num_samples(split);
    ASSERT_GE(n, 5);
    auto a = d->MakeSampler(split, 5, 1);
    auto b = d->MakeSampler(split, 5, 2);  // the seed does not matter
    ASSERT_TRUE(a.ok() && b.ok());
    const int64_t per_epoch = n / 5;
    for (int64_t k = 0; k < 2 * per_epoch + 1; ++k) {
      absl::StatusOr<Batch> x = (*a)->Next();
      absl::StatusOr<Batch> y = (*b)->Next();
      ASSERT_TRUE(x.ok() && y.ok());
      ExpectSameBatch(*x, *y);
      std::string why;
      ASSERT_TRUE(x->IsConsistent(&why)) << why;
      for (int s = 0; s < 5; ++s) {
        const int64_t i =
            (k % per_epoch) * 5 + s;  // wraps after the last full batch
        EXPECT_EQ(IdAt(*x, s, 0), d->file_index(split, i)) << SplitName(split);
        EXPECT_EQ(x->labels[s], d->frames(split, i).label);
      }
    }
  }
}

TEST(ShdDatasetTest, SamplerErrors) {
  std::unique_ptr<ShdDataset> d = MakeSynthetic(Spec(10, false), 5, 40, 6);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->MakeSampler(Split::kTest, 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status s = d->MakeSampler(Split::kTest, 7, 1).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("'test' has 6 samples"));
  std::unique_ptr<ShdDataset> no_valid =
      MakeSynthetic(Spec(10, true, 0.0), 5, 40, 6);
  ASSERT_NE(no_valid, nullptr);
  EXPECT_EQ(no_valid->num_samples(Split::kValid), 0);
  EXPECT_FALSE(no_valid->MakeSampler(Split::kValid, 1, 1).ok());
  EXPECT_TRUE(
      no_valid->MakeSampler(Split::kTest, 50, 1).ok());  // with replacement
}

TEST(ShdDatasetTest, AddingConcatenatesTwoSamplesAndAddsLabels) {
  std::unique_ptr<ShdDataset> d = MakeSynthetic(Spec(10, true, 0.2), 9, 60, 25);
  ASSERT_NE(d, nullptr);
  const int kBatch = 6;
  for (Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
    SCOPED_TRACE(SplitName(split));
    const int64_t n = d->num_samples(split);
    std::map<int, int64_t> pos;  // file index -> position in the split
    for (int64_t i = 0; i < n; ++i) pos[d->file_index(split, i)] = i;
    auto a = d->MakeSampler(split, kBatch, 11);
    auto again = d->MakeSampler(split, kBatch, 11);
    auto other = d->MakeSampler(split, kBatch, 12);
    ASSERT_TRUE(a.ok() && again.ok() && other.ok());
    std::set<int> seen;
    bool other_differs = false;
    Rng draws(
        11);  // the sampler's stream: 2B indices per batch, first halves first
    for (int k = 0; k < 60; ++k) {
      std::vector<int64_t> idx(2 * kBatch);
      for (int64_t& i : idx) i = static_cast<int64_t>(draws.UniformInt(n));
      absl::StatusOr<Batch> b = (*a)->Next();
      absl::StatusOr<Batch> b2 = (*again)->Next();
      absl::StatusOr<Batch> b3 = (*other)->Next();
      ASSERT_TRUE(b.ok() && b2.ok() && b3.ok());
      ExpectSameBatch(*b, *b2);
      other_differs |=
          b->labels != b3->labels || b->inputs.col != b3->inputs.col;
      std::string why;
      ASSERT_TRUE(b->IsConsistent(&why)) << why;
      ASSERT_EQ(b->steps, 200);
      std::vector<float> dense(b->batch * b->steps * b->input_dim());
      b->ToDense(dense.data());
      for (int s = 0; s < kBatch; ++s) {
        const int first = IdAt(*b, s, 0);
        const int second = IdAt(*b, s, 100);
        ASSERT_TRUE(pos.count(first) && pos.count(second))
            << "not from this split";
        EXPECT_EQ(first, d->file_index(split, idx[s]));
        EXPECT_EQ(second, d->file_index(split, idx[kBatch + s]));
        seen.insert(first);
        seen.insert(second);
        const ShdFrames& fa = d->frames(split, pos[first]);
        const ShdFrames& fb = d->frames(split, pos[second]);
        EXPECT_EQ(b->labels[s], fa.label % 10 + fb.label % 10);
        ASSERT_GE(b->labels[s], 0);
        ASSERT_LT(b->labels[s], 19);
        const std::vector<float> da = Dense(fa), db = Dense(fb);
        const auto seq = dense.begin() + s * 200 * 700;
        ASSERT_TRUE(std::equal(da.begin(), da.end(), seq));
        ASSERT_TRUE(std::equal(db.begin(), db.end(), seq + 100 * 700));
      }
    }
    EXPECT_TRUE(other_differs);
    // 720 draws with replacement reach every sample of a split of at most ~60.
    EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
  }
}

// -----------------------------------------------------------------------------
// The spec and the factory.

TEST(ShdSpecTest, ValidationNamesTheField) {
  struct Case {
    void (*edit)(ShdSpec*);
    const char* field;
  };
  const Case cases[] = {
      {[](ShdSpec* s) { s->clear_train_file(); }, "'train_file'"},
      {[](ShdSpec* s) { s->set_test_file(""); }, "'test_file'"},
      {[](ShdSpec* s) { s->set_bin_size_ms(0); }, "'bin_size_ms'"},
      {[](ShdSpec* s) { s->set_bin_size_ms(-4); }, "'bin_size_ms'"},
      {[](ShdSpec* s) { s->set_bin_size_ms(std::nan("")); }, "'bin_size_ms'"},
      {[](ShdSpec* s) { s->set_bin_size_ms(1e-6); },
       "'bin_size_ms'"},  // 10^9 bins
      {[](ShdSpec* s) { s->set_max_time_s(0); }, "'max_time_s'"},
      {[](ShdSpec* s) { s->set_max_time_s(INFINITY); }, "'max_time_s'"},
      {[](ShdSpec* s) { s->set_valid_fraction(1.0); }, "'valid_fraction'"},
      {[](ShdSpec* s) { s->set_valid_fraction(-0.1); }, "'valid_fraction'"},
  };
  for (const Case& c : cases) {
    ShdSpec spec;
    spec.set_train_file("train.h5");
    spec.set_test_file("test.h5");
    ASSERT_TRUE(ValidateShdSpec(spec, true).ok());
    c.edit(&spec);
    const absl::Status s = ValidateShdSpec(spec, true);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.field));
    absl::StatusOr<std::unique_ptr<Dataset>> d = MakeShdDataset(spec, 0);
    ASSERT_FALSE(d.ok());
    EXPECT_THAT(std::string(d.status().message()), HasSubstr(c.field));
  }
  ShdSpec no_files;
  EXPECT_TRUE(ValidateShdSpec(no_files, false).ok());
  EXPECT_FALSE(ValidateShdSpec(no_files, true).ok());
}

TEST(ShdSpecTest, CreateChecksTheBinning) {
  const std::vector<double> edges10 = ShdBinEdges(10, 1.0);
  std::vector<ShdFrames> train = {BinShdSample(Spikes({0.5}, {1}, 3), edges10)};
  absl::StatusOr<std::unique_ptr<ShdDataset>> d =
      ShdDataset::Create(Spec(20, false), 0, train, {});
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()),
              HasSubstr("train sample 0 has 100 bins"));
  train[0].label = 20;
  d = ShdDataset::Create(Spec(10, false), 0, train, {});
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("label 20"));
}

TEST(ShdFactoryTest, MissingAndBadFilesAreNamed) {
  ShdSpec spec;
  spec.set_train_file(TestTempPath("absent_train.h5"));
  spec.set_test_file(TestTempPath("absent_test.h5"));
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeShdDataset(spec, 0);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("absent_train.h5"));
  SyntheticShd bad = ThreeSamples();
  bad.units[1] = {};
  bad.times[1] = {};
  bad.units[2][1] = 800;
  spec.set_train_file(WriteShd("factory_good.h5", ThreeSamples()));
  spec.set_test_file(WriteShd("factory_bad.h5", bad));
  d = MakeShdDataset(spec, 0);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("factory_bad.h5"));
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("'spikes/units'"));
}

TEST(ShdFactoryTest, BuildsFromFiles) {
  ShdSpec spec;
  spec.set_train_file(WriteShd("factory_train.h5", ThreeSamples()));
  spec.set_test_file(spec.train_file());
  spec.set_valid_fraction(0.0);
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeShdDataset(spec, 4);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 100);
  auto sampler = (*d)->MakeSampler(Split::kTest, 3, 0);
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  absl::StatusOr<Batch> b = (*sampler)->Next();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->labels, (std::vector<int64_t>{0, 19, 7}));
  // Sample 0: 0.001 -> bin 0 unit 0; 0.5 -> bin 50 unit 7 (0.5f is exact);
  // 0.999f -> bin 99. Sample 2: 0.25 -> bin 25 unit 3; 1.5 s dropped.
  std::vector<float> dense(3 * 100 * 700);
  b->ToDense(dense.data());
  auto at = [&](int s, int t, int u) { return dense[(s * 100 + t) * 700 + u]; };
  EXPECT_EQ(at(0, 0, 0), 1.0f);
  EXPECT_EQ(at(0, 50, 7), 1.0f);
  EXPECT_EQ(at(0, 99, 699), 1.0f);
  EXPECT_EQ(at(2, 25, 3), 1.0f);
  EXPECT_EQ(std::accumulate(dense.begin(), dense.end(), 0.0f), 4.0f);
  EXPECT_EQ(b->inputs.value.size(), 4u);
}

TEST(ShdFactoryTest, MockFixtureAsShdAndShdAdding) {
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  ShdSpec spec;
  spec.set_train_file(h5);
  spec.set_test_file(h5);
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeShdDataset(spec, 0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 100);
  auto test = (*d)->MakeSampler(Split::kTest, 8, 0);
  ASSERT_TRUE(test.ok()) << test.status();
  absl::StatusOr<Batch> b = (*test)->Next();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->labels, (std::vector<int64_t>{0, 19, 5, 15, 9, 10, 3, 13}));
  // Kept spikes per sample, as expected_binning.json states.
  const std::vector<float> kept = {258, 0, 147, 297, 246, 58, 131, 78};
  for (int s = 0; s < 8; ++s) {
    float sum = 0;
    for (int64_t k = b->inputs.row_begin[s * 100];
         k < b->inputs.row_begin[(s + 1) * 100]; ++k) {
      sum += b->inputs.value[k];
    }
    EXPECT_EQ(sum, kept[s]) << "sample " << s;
  }

  spec.set_adding(true);
  spec.set_bin_size_ms(6);
  d = MakeShdDataset(spec, 0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 334);
  EXPECT_EQ((*d)->info().num_classes, 19);
  auto adding = (*d)->MakeSampler(Split::kTrain, 4, 1);
  ASSERT_TRUE(adding.ok()) << adding.status();
  b = (*adding)->Next();
  ASSERT_TRUE(b.ok());
  std::string why;
  EXPECT_TRUE(b->IsConsistent(&why)) << why;
  for (int64_t label : b->labels) EXPECT_LT(label, 19);
}

}  // namespace
}  // namespace elm
