// Tests the PyTorch state_dict reader on zip archives assembled here (every
// supported dtype, storage offsets, strides, shared storages, empty and 0-dim
// tensors, _rebuild_parameter, another archive name, big-endian storages,
// zip64) and on every error path (compressed entries, CRC mismatches,
// unsupported storage types, bad views, corrupt and truncated archives), and,
// when ../shared is present, on the 15 released .pt files of
// golden/pretrained: names, order, dtypes and shapes as
// ../shared/notes/elm_reference.md §1.2 lists them, parameter counts as
// model_stats.json gives them, values equal to golden/trained/*.weights.txt,
// and every truncation or flipped byte of a real file either failing with the
// file's name or leaving the result unchanged.
#include "io/pt_reader.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"

namespace elm {
namespace {

constexpr char kSource[] = "model.pt";

// ---- Building archives ----

std::string Le(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

uint32_t Crc32(absl::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k)
      crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

struct ZipFile {
  std::string name;
  std::string data;
  uint16_t method = 0;  // what the directory claims
};

// A zip archive as torch writes it: local headers with the data-descriptor
// flag and zero sizes, the data, a data descriptor, the central directory
// (the authority on sizes and CRCs) and the end record; with `zip64`, every
// size and offset goes through zip64 extra fields and records.
std::string MakeZip(const std::vector<ZipFile>& files, bool zip64 = false) {
  std::string out, directory;
  for (const ZipFile& f : files) {
    const uint64_t offset = out.size();
    const uint32_t crc = Crc32(f.data);
    out += Le(0x04034b50, 4) + Le(20, 2) + Le(0x0808, 2) + Le(f.method, 2) +
           Le(0, 4) + Le(0, 4) + Le(0, 4) + Le(0, 4) + Le(f.name.size(), 2) +
           Le(4, 2) + f.name + Le(0x4246, 2) + Le(0, 2) + f.data;
    out += Le(0x08074b50, 4) + Le(crc, 4) + Le(f.data.size(), 4) +
           Le(f.data.size(), 4);
    const std::string extra = zip64 ? Le(1, 2) + Le(24, 2) +
                                          Le(f.data.size(), 8) +
                                          Le(f.data.size(), 8) + Le(offset, 8)
                                    : "";
    const uint64_t size32 = zip64 ? 0xFFFFFFFF : f.data.size();
    directory += Le(0x02014b50, 4) + Le(0x031e, 2) + Le(45, 2) + Le(0x0808, 2) +
                 Le(f.method, 2) + Le(0, 4) + Le(crc, 4) + Le(size32, 4) +
                 Le(size32, 4) + Le(f.name.size(), 2) + Le(extra.size(), 2) +
                 Le(0, 2) + Le(0, 2) + Le(0, 2) + Le(0, 4) +
                 Le(zip64 ? 0xFFFFFFFF : offset, 4) + f.name + extra;
  }
  const uint64_t cd_offset = out.size();
  out += directory;
  if (zip64) {
    const uint64_t record = out.size();
    out += Le(0x06064b50, 4) + Le(44, 8) + Le(45, 2) + Le(45, 2) + Le(0, 4) +
           Le(0, 4) + Le(files.size(), 8) + Le(files.size(), 8) +
           Le(directory.size(), 8) + Le(cd_offset, 8);
    out += Le(0x07064b50, 4) + Le(0, 4) + Le(record, 8) + Le(1, 4);
    out += Le(0x06054b50, 4) + Le(0, 2) + Le(0, 2) + Le(0xFFFF, 2) +
           Le(0xFFFF, 2) + Le(0xFFFFFFFF, 4) + Le(0xFFFFFFFF, 4) + Le(0, 2);
  } else {
    out += Le(0x06054b50, 4) + Le(0, 2) + Le(0, 2) + Le(files.size(), 2) +
           Le(files.size(), 2) + Le(directory.size(), 4) + Le(cd_offset, 4) +
           Le(0, 2);
  }
  return out;
}

// One state_dict entry.
struct TensorSpec {
  std::string name;
  std::string storage_type;  // e.g. "FloatStorage"
  std::string key;
  int64_t numel;
  int64_t offset;
  std::vector<int64_t> size;
  std::vector<int64_t> stride;
  bool parameter = false;  // wrapped in torch._utils._rebuild_parameter
};

// Protocol-2 pickle opcodes as torch.save writes a state_dict.
class TorchPickle {
 public:
  TorchPickle() {
    out_ = "\x80\x02";
    Global("collections", "OrderedDict");
    out_ += ")R(";  // EMPTY_TUPLE REDUCE MARK
  }
  void Global(absl::string_view module, absl::string_view name) {
    absl::StrAppend(&out_, "c", module, "\n", name, "\n");
  }
  void Str(absl::string_view s) {
    out_ += "X" + Le(s.size(), 4) + std::string(s);
  }
  void Int(int64_t v) { out_ += "J" + Le(static_cast<uint32_t>(v), 4); }
  void Ints(const std::vector<int64_t>& v) {
    out_ += "(";
    for (int64_t x : v) Int(x);
    out_ += "t";
  }
  void Add(const TensorSpec& t) {
    Str(t.name);
    if (t.parameter) Global("torch._utils", "_rebuild_parameter"), out_ += "(";
    Global("torch._utils", "_rebuild_tensor_v2");
    out_ += "((";
    Str("storage");
    Global("torch", t.storage_type);
    Str(t.key);
    Str("cuda:0");
    Int(t.numel);
    out_ += "tQ";  // TUPLE BINPERSID
    Int(t.offset);
    Ints(t.size);
    Ints(t.stride);
    out_ += "\x89";  // NEWFALSE
    Global("collections", "OrderedDict");
    out_ += ")RtR";                   // EMPTY_TUPLE REDUCE TUPLE REDUCE
    if (t.parameter) out_ += "\x88";  // requires_grad
    if (t.parameter) Global("collections", "OrderedDict"), out_ += ")RtR";
  }
  std::string Finish() { return out_ + "u."; }
  std::string& raw() { return out_; }

 private:
  std::string out_;
};

template <typename T>
std::string RawOf(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()),
                     v.size() * sizeof(T));
}

// An archive with `specs` and storages {key: bytes}.
std::string MakePt(const std::vector<TensorSpec>& specs,
                   const std::vector<std::pair<std::string, std::string>>& data,
                   const std::string& prefix = "archive", bool zip64 = false,
                   const std::string& byteorder = "") {
  TorchPickle pickle;
  for (const TensorSpec& t : specs) pickle.Add(t);
  std::vector<ZipFile> files = {{prefix + "/data.pkl", pickle.Finish()}};
  if (!byteorder.empty()) files.push_back({prefix + "/byteorder", byteorder});
  for (const auto& [key, bytes] : data) {
    files.push_back({prefix + "/data/" + key, bytes});
  }
  files.push_back({prefix + "/version", "3\n"});
  return MakeZip(files, zip64);
}

std::vector<NamedTensor> ParseOk(const std::string& contents) {
  absl::StatusOr<std::vector<NamedTensor>> t =
      ParsePtStateDict(contents, kSource);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : std::vector<NamedTensor>();
}

void ExpectError(const std::string& contents, const std::string& text,
                 absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  absl::StatusOr<std::vector<NamedTensor>> t =
      ParsePtStateDict(contents, kSource);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), code) << t.status();
  const std::string message(t.status().message());
  EXPECT_TRUE(absl::StartsWith(message, absl::StrCat(kSource, ":"))) << message;
  EXPECT_TRUE(absl::StrContains(message, text))
      << message << "\nshould contain: " << text;
}

// ---- Synthetic archives ----

TEST(PtReaderTest, ReadsEveryDtype) {
  const std::vector<float> f32 = {1.5f, -2.25f, 0.1f, 3e38f, -0.0f, 7.f};
  const std::vector<double> f64 = {0.1, -1e-300};
  const std::vector<int64_t> i64 = {-1, int64_t{1} << 50, 0};
  const std::string b1("\x01\x00\x00\x01", 4);
  const std::string pt =
      MakePt({{"w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}},
              {"d", "DoubleStorage", "1", 2, 0, {2}, {1}},
              {"idx", "LongStorage", "2", 3, 0, {3}, {1}},
              {"mask", "BoolStorage", "3", 4, 0, {4}, {1}},
              {"empty", "FloatStorage", "4", 0, 0, {0}, {1}},
              {"scalar", "DoubleStorage", "5", 1, 0, {}, {}}},
             {{"0", RawOf(f32)},
              {"1", RawOf(f64)},
              {"2", RawOf(i64)},
              {"3", b1},
              {"4", ""},
              {"5", RawOf(std::vector<double>{42.5})}});
  const std::vector<NamedTensor> t = ParseOk(pt);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].name, "w");
  EXPECT_EQ(t[0].dtype, "f32");
  EXPECT_EQ(t[0].shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(t[0].values.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(t[0].values[i], static_cast<double>(f32[i])) << i;  // exact
  }
  EXPECT_TRUE(std::signbit(t[0].values[4]));
  EXPECT_TRUE(t[0].int_values.empty());
  EXPECT_FALSE(t[0].sparse);
  EXPECT_EQ(t[1].dtype, "f64");
  EXPECT_EQ(t[1].values, f64);
  EXPECT_EQ(t[2].dtype, "i64");
  EXPECT_EQ(t[2].int_values, i64);
  EXPECT_TRUE(t[2].values.empty());
  EXPECT_EQ(t[3].dtype, "bool");
  EXPECT_EQ(t[3].int_values, (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(t[4].name, "empty");
  EXPECT_EQ(t[4].shape, (std::vector<int64_t>{0}));
  EXPECT_TRUE(t[4].values.empty());
  EXPECT_EQ(t[4].num_elements(), 0);
  EXPECT_TRUE(t[5].shape.empty());
  EXPECT_EQ(t[5].values, (std::vector<double>{42.5}));
}

TEST(PtReaderTest, OffsetsStridesSharedStoragesAndParameters) {
  std::vector<float> storage(12);
  for (int i = 0; i < 12; ++i) storage[i] = static_cast<float>(i);
  const std::string pt = MakePt(
      {{"matrix", "FloatStorage", "s", 12, 0, {3, 4}, {4, 1}},
       {"transposed", "FloatStorage", "s", 12, 0, {4, 3}, {1, 4}},
       {"strided", "FloatStorage", "s", 12, 5, {2}, {3}},
       {"broadcast", "FloatStorage", "s", 12, 1, {2, 3}, {0, 1}},
       {"param", "FloatStorage", "s", 12, 10, {2}, {1}, /*parameter=*/true},
       {"empty_view", "FloatStorage", "s", 12, 12, {0, 5}, {5, 1}}},
      {{"s", RawOf(storage)}});
  const std::vector<NamedTensor> t = ParseOk(pt);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].values,
            (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(t[1].shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(t[1].values,
            (std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(t[2].values, (std::vector<double>{5, 8}));
  EXPECT_EQ(t[3].values, (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(t[4].name, "param");
  EXPECT_EQ(t[4].values, (std::vector<double>{10, 11}));
  EXPECT_EQ(t[5].shape, (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(t[5].values.empty());
}

TEST(PtReaderTest, ArchiveNameZip64AndByteOrder) {
  const std::vector<float> f32 = {1.f, -2.f, 0.5f};
  const std::vector<TensorSpec> specs = {
      {"a", "FloatStorage", "0", 3, 0, {3}, {1}},
      {"b", "LongStorage", "1", 1, 0, {1}, {1}}};
  const std::vector<std::pair<std::string, std::string>> data = {
      {"0", RawOf(f32)}, {"1", RawOf(std::vector<int64_t>{-3})}};
  const std::vector<NamedTensor> plain = ParseOk(MakePt(specs, data));
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].values, (std::vector<double>{1, -2, 0.5}));
  // The prefix is whatever the archive is called.
  const std::vector<NamedTensor> named =
      ParseOk(MakePt(specs, data, "neuronio_best_model_state"));
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].values, plain[0].values);
  EXPECT_EQ(named[1].int_values, (std::vector<int64_t>{-3}));
  // zip64 records and extra fields.
  const std::vector<NamedTensor> zip64 =
      ParseOk(MakePt(specs, data, "archive", /*zip64=*/true));
  ASSERT_EQ(zip64.size(), 2u);
  EXPECT_EQ(zip64[0].values, plain[0].values);
  EXPECT_EQ(zip64[1].int_values, plain[1].int_values);
  // byteorder "big": storages are big-endian.
  std::vector<std::pair<std::string, std::string>> swapped = data;
  for (auto& [key, bytes] : swapped) {
    const size_t item = key == "0" ? 4 : 8;
    for (size_t i = 0; i < bytes.size(); i += item) {
      std::reverse(bytes.begin() + i, bytes.begin() + i + item);
    }
  }
  const std::vector<NamedTensor> big =
      ParseOk(MakePt(specs, swapped, "archive", false, "big"));
  ASSERT_EQ(big.size(), 2u);
  EXPECT_EQ(big[0].values, plain[0].values);
  EXPECT_EQ(big[1].int_values, plain[1].int_values);
  EXPECT_EQ(ParseOk(MakePt(specs, data, "archive", false, "little"))[0].values,
            plain[0].values);
}

TEST(PtReaderTest, Errors) {
  const std::string f4 = RawOf(std::vector<float>{1, 2, 3, 4});
  const TensorSpec w = {"w", "FloatStorage", "0", 4, 0, {4}, {1}};
  // Compressed entry.
  {
    TorchPickle p;
    p.Add(w);
    ExpectError(MakeZip({{"archive/data.pkl", p.Finish()},
                         {"archive/data/0", f4, /*method=*/8}}),
                "entry 'archive/data/0' is compressed (method 8, deflate); "
                "only stored (uncompressed) entries are supported",
                absl::StatusCode::kUnimplemented);
  }
  ExpectError(MakePt({{"h", "HalfStorage", "0", 2, 0, {2}, {1}}},
                     {{"0", std::string(4, '\0')}}),
              "tensor 'h': unsupported storage type torch.HalfStorage",
              absl::StatusCode::kUnimplemented);
  ExpectError(MakePt({w}, {}), "tensor 'w': no entry 'archive/data/0'");
  ExpectError(MakePt({w}, {{"0", f4 + "xx"}}),
              "storage 'archive/data/0' has 18 bytes, expected 4 x 4");
  ExpectError(
      MakePt({{"w", "FloatStorage", "0", 4, 1, {2, 2}, {2, 1}}}, {{"0", f4}}),
      "view (offset 1, size (2, 2), stride (2, 1)) leaves its storage "
      "of 4 elements");
  ExpectError(
      MakePt({{"w", "FloatStorage", "0", 4, 0, {4}, {1, 1}}}, {{"0", f4}}),
      "bad stride (1, 1) for size (4,)");
  ExpectError(MakePt({{"m", "BoolStorage", "0", 2, 0, {2}, {1}}},
                     {{"0", std::string("\x01\x02", 2)}}),
              "tensor 'm': bool element 1 is byte 2");
  ExpectError(MakePt({w, w}, {{"0", f4}}), "tensor 'w' appears twice");
  {
    std::string pt = MakePt({w}, {{"0", f4}});
    pt[pt.find(f4) + 5] ^= 0x40;  // a flipped data byte
    ExpectError(pt, "entry 'archive/data/0': CRC-32 mismatch");
  }
  ExpectError("PK\x03\x04 this is not really a zip file at all........",
              "not a zip archive, or truncated");
  ExpectError("abc", "not a zip archive: 3 bytes is too short");
  ExpectError(std::string("\x80\x02\x8a\x0alegacy", 10), "legacy",
              absl::StatusCode::kUnimplemented);
  ExpectError(MakeZip({{"archive/version", "3\n"}}),
              "no '<archive>/data.pkl' entry");
  {  // A global the reader does not accept.
    TorchPickle p;
    p.Str("q");
    p.Global("torch._utils", "_rebuild_qtensor");
    ExpectError(MakeZip({{"archive/data.pkl", p.Finish()}}),
                "model.pt:archive/data.pkl: byte 36: GLOBAL: unsupported "
                "global torch._utils._rebuild_qtensor",
                absl::StatusCode::kUnimplemented);
  }
  ExpectError(MakeZip({{"archive/data.pkl", "\x80\x02K\x05."}}),
              "expected a state_dict (dict of tensors), found int");
  {
    TorchPickle p;
    p.Str("x");
    p.Int(3);
    ExpectError(
        MakeZip({{"archive/data.pkl", p.Finish()}}),
        "tensor 'x': expected a tensor (torch._utils._rebuild_tensor_v2)"
        ", found int");
  }
  ExpectError(MakePt({w}, {{"0", f4}}, "archive", false, "middle"),
              "entry 'archive/byteorder' should be 'little' or 'big'");
  EXPECT_EQ(ReadPtStateDict("/nonexistent/model.pt").status().code(),
            absl::StatusCode::kNotFound);
}

// ---- The released models ----

struct Released {
  std::string dir;
  int num_memory;
};

std::vector<Released> ReleasedModels() {
  std::vector<Released> models = {{"best_elm_neuron", 100}};
  for (int m : {1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 75, 100}) {
    models.push_back({absl::StrCat("num_memory_", m), m});
  }
  return models;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() ||
          std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

TEST(PtReaderTest, ReleasedModelsMatchTheReference) {
  std::string missing;
  const std::string dir = FindSharedPath("golden/pretrained", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  double total_seconds = 0;
  int64_t total_bytes = 0;
  for (const Released& model : ReleasedModels()) {
    SCOPED_TRACE(model.dir);
    const std::string path =
        absl::StrCat(dir, "/", model.dir, "/neuronio_best_model_state.pt");
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<NamedTensor>> tensors = ReadPtStateDict(path);
    total_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    total_bytes += std::filesystem::file_size(path);
    ASSERT_TRUE(tensors.ok()) << tensors.status();
    // elm_reference.md §1.2: S = 4500 synapses, B_r = 45 branches, H = 2 d_m.
    const int64_t d = model.num_memory, h = 2 * d, s = 4500;
    const struct {
      const char* name;
      const char* dtype;
      std::vector<int64_t> shape;
    } expected[] = {
        {"_proto_w_s", "f32", {s}},
        {"tau_s", "f32", {s}},
        {"_proto_tau_m", "f32", {d}},
        {"input_to_synapse_indices", "i64", {s}},
        {"valid_indices_mask", "bool", {s}},
        {"mlp.network.0.weight", "f32", {h, 45 + d}},
        {"mlp.network.0.bias", "f32", {h}},
        {"mlp.network.2.weight", "f32", {d, h}},
        {"mlp.network.2.bias", "f32", {d}},
        {"w_y.weight", "f32", {2, d}},
        {"w_y.bias", "f32", {2}},
    };
    ASSERT_EQ(tensors->size(), std::size(expected));
    int64_t trainable = 0;
    for (size_t i = 0; i < tensors->size(); ++i) {
      const NamedTensor& t = (*tensors)[i];
      EXPECT_EQ(t.name, expected[i].name);
      EXPECT_EQ(t.dtype, expected[i].dtype) << t.name;
      EXPECT_EQ(t.shape, expected[i].shape) << t.name;
      if (t.name == "_proto_w_s" || absl::StartsWith(t.name, "mlp.") ||
          absl::StartsWith(t.name, "w_y.")) {
        trainable += t.num_elements();
      }
    }
    // model_stats.json: {"model_flop_count": null, "model_param_count": N}.
    const std::string stats =
        ReadTestFile(absl::StrCat(dir, "/", model.dir, "/model_stats.json"));
    const size_t at = stats.find("\"model_param_count\":");
    ASSERT_NE(at, std::string::npos) << stats;
    EXPECT_EQ(trainable, std::atoll(stats.c_str() + at + 20));
    // tau_s is 5 everywhere; the routing is neuronio_routing (§1.3).
    for (double v : (*tensors)[1].values) ASSERT_EQ(v, 5.0);
    const std::vector<int64_t>& idx = (*tensors)[3].int_values;
    const std::vector<int64_t>& mask = (*tensors)[4].int_values;
    EXPECT_EQ(std::vector<int64_t>(idx.begin(), idx.begin() + 6),
              (std::vector<int64_t>{0, 639, 1, 640, 2, 641}));
    EXPECT_EQ(std::vector<int64_t>(idx.begin() + 100, idx.begin() + 104),
              (std::vector<int64_t>{653, 15, 654, 16}));
    int64_t valid = 0;
    for (size_t i = 0; i < mask.size(); ++i) {
      valid += mask[i];
      if (mask[i] == 0) {
        ASSERT_EQ(idx[i], 1277) << i;
      }
    }
    EXPECT_EQ(valid, 4282);
  }
  std::printf("read %zu .pt files (%.1f KB) in %.1f ms\n",
              ReleasedModels().size(), total_bytes / 1e3, total_seconds * 1e3);
}

TEST(PtReaderTest, ReleasedModelsEqualTheWeightsFiles) {
  std::string missing;
  const std::string pretrained = FindSharedPath("golden/pretrained", &missing);
  if (pretrained.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string trained = FindSharedPath("golden/trained", &missing);
  if (trained.empty()) GTEST_SKIP() << "missing " << missing;
  for (const char* name : {"num_memory_15", "best_elm_neuron"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<std::vector<NamedTensor>> tensors = ReadPtStateDict(
        absl::StrCat(pretrained, "/", name, "/neuronio_best_model_state.pt"));
    ASSERT_TRUE(tensors.ok()) << tensors.status();
    absl::StatusOr<ElmTensorFile> golden =
        ReadElmTensorFile(absl::StrCat(trained, "/", name, ".weights.txt"));
    ASSERT_TRUE(golden.ok()) << golden.status();
    ASSERT_EQ(tensors->size(), golden->tensors.size());
    for (size_t i = 0; i < tensors->size(); ++i) {
      const NamedTensor& a = (*tensors)[i];
      const NamedTensor& b = golden->tensors[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.dtype, b.dtype) << a.name;
      EXPECT_EQ(a.shape, b.shape) << a.name;
      EXPECT_TRUE(SameBits(a.values, b.values)) << a.name;
      EXPECT_EQ(a.int_values, b.int_values) << a.name;
    }
  }
}

// The tensors as one comparable string.
std::string Fingerprint(const std::vector<NamedTensor>& tensors) {
  std::string out;
  for (const NamedTensor& t : tensors) {
    absl::StrAppend(&out, t.name, " ", t.dtype, " ", t.shape.size(), ":");
    for (int64_t d : t.shape) absl::StrAppend(&out, d, ",");
    out.append(reinterpret_cast<const char*>(t.values.data()),
               t.values.size() * sizeof(double));
    out.append(reinterpret_cast<const char*>(t.int_values.data()),
               t.int_values.size() * sizeof(int64_t));
  }
  return out;
}

TEST(PtReaderTest, CorruptCopiesOfARealFileFailWithItsName) {
  std::string missing;
  const std::string dir = FindSharedPath("golden/pretrained", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string original = ReadTestFile(
      absl::StrCat(dir, "/num_memory_15/neuronio_best_model_state.pt"));
  ASSERT_FALSE(original.empty());
  const std::string good = Fingerprint(ParseOk(original));
  const std::string path = TestTempPath("corrupt_model.pt");
  // Files on disk: the message names the path.
  for (size_t n :
       {size_t{0}, size_t{100}, original.size() / 2, original.size() - 1}) {
    WriteTestFile(path, original.substr(0, n));
    absl::StatusOr<std::vector<NamedTensor>> t = ReadPtStateDict(path);
    ASSERT_FALSE(t.ok()) << n;
    EXPECT_TRUE(absl::StartsWith(t.status().message(), path + ": "))
        << t.status();
  }
  {
    std::string flipped = original;
    flipped[original.size() / 2] ^= 0x01;
    WriteTestFile(path, flipped);
    absl::StatusOr<std::vector<NamedTensor>> t = ReadPtStateDict(path);
    ASSERT_FALSE(t.ok());
    EXPECT_TRUE(absl::StartsWith(t.status().message(), path + ": "))
        << t.status();
    EXPECT_TRUE(absl::StrContains(t.status().message(), "CRC-32 mismatch"))
        << t.status();
  }
  std::remove(path.c_str());
  // Every truncation fails; every flipped byte fails or changes nothing
  // (flips in fields the reader does not use: local sizes, times, padding).
  const size_t size = original.size();
  int errors = 0, unchanged = 0;
  for (size_t n = 0; n < size; n += (n < 300 || n + 300 > size) ? 1 : 53) {
    absl::StatusOr<std::vector<NamedTensor>> t =
        ParsePtStateDict(original.substr(0, n), path);
    ASSERT_FALSE(t.ok()) << "truncated to " << n << " bytes";
    ASSERT_TRUE(absl::StartsWith(t.status().message(), path + ": "))
        << t.status();
  }
  for (size_t i = 0; i < size; i += (i < 1200 || i + 1400 > size) ? 1 : 37) {
    std::string bytes = original;
    bytes[i] ^= (i % 2 == 0) ? 0x01 : 0x80;
    absl::StatusOr<std::vector<NamedTensor>> t = ParsePtStateDict(bytes, path);
    if (t.ok()) {
      ASSERT_EQ(Fingerprint(*t), good) << "flip at byte " << i;
      ++unchanged;
    } else {
      ASSERT_TRUE(absl::StartsWith(t.status().message(), path + ": "))
          << t.status();
      ++errors;
    }
  }
  std::printf("single-byte flips: %d detected, %d in unused fields\n", errors,
              unchanged);
  EXPECT_GT(errors, unchanged);
}

}  // namespace
}  // namespace elm
