// FuzzReader and MutateBytes: see reader_fuzz.h.
#include "io/reader_fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "base/checksum.h"
#include "glog/logging.h"
#include "io/elmtensor.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_reader.h"
#include "io/npy.h"
#include "io/pickle.h"
#include "io/pt_reader.h"

namespace elm {

// Without the fsync of WriteFileAtomically: thousands of these per test.
bool WriteFuzzScratch(const std::string& path, absl::string_view bytes) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = true;
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ::close(fd) == 0 && ok;
}

const char* FuzzedReaderName(FuzzedReader reader) {
  switch (reader) {
    case FuzzedReader::kPickle:
      return "pickle";
    case FuzzedReader::kPt:
      return ".pt";
    case FuzzedReader::kElmTensor:
      return "ELMTENSOR";
    case FuzzedReader::kNpy:
      return ".npy";
    case FuzzedReader::kCompact:
      return "compact NeuronIO";
    case FuzzedReader::kNeuronio:
      return "NeuronIO";
  }
  return "?";
}

absl::Status FuzzReader(FuzzedReader reader, absl::string_view bytes,
                        const std::string& scratch_path) {
  switch (reader) {
    case FuzzedReader::kPickle: {
      const absl::Status plain = ParsePickle(bytes, "fuzz.pkl").status();
      // A streaming parse that consumes every item (one pass, starting over
      // with the scan where a GET asks for a dropped value) must give the
      // same status: the same errors, at the same byte.
      UnpickleOptions options;
      options.stream_list_key = "listOfSingleSimulationDicts";
      options.stream_item = [](size_t, const PickleValue&, const auto&) {
        return true;
      };
      const absl::Status streamed =
          ParsePickle(bytes, "fuzz.pkl", options).status();
      CHECK(streamed == plain)
          << "streaming: " << streamed << "\nplain: " << plain;
      return plain;
    }
    case FuzzedReader::kPt:
      return ParsePtStateDict(bytes, "fuzz.pt").status();
    case FuzzedReader::kElmTensor:
      return ParseElmTensorText(bytes, "fuzz.txt").status();
    case FuzzedReader::kNpy:
    case FuzzedReader::kCompact:
    case FuzzedReader::kNeuronio: {
      std::string fixed;
      if (reader == FuzzedReader::kCompact && bytes.size() >= 4) {
        // The trailing CRC-32 made valid, so that mutations reach the parse.
        fixed = std::string(bytes);
        const uint32_t crc = Crc32(bytes.substr(0, bytes.size() - 4));
        std::memcpy(&fixed[fixed.size() - 4], &crc, 4);  // little-endian
        bytes = fixed;
      }
      if (!WriteFuzzScratch(scratch_path, bytes)) {
        return absl::InternalError("cannot write " + scratch_path);
      }
      if (reader == FuzzedReader::kNpy) return ReadNpy(scratch_path).status();
      if (reader == FuzzedReader::kCompact) {
        // Both reads (the full one and the sampler's view of the mapping)
        // must agree; a valid file is then viewed twice more as the sampler
        // does (NeuronioChecksum::kOncePerFileVersion: all checks, then the
        // checks of a later load).
        absl::StatusOr<NeuronioFile> full = ReadNeuronioCompact(scratch_path);
        absl::StatusOr<std::shared_ptr<const NeuronioFileView>> view =
            ReadNeuronioCompactView(scratch_path);
        CHECK_EQ(full.ok(), view.ok())
            << full.status() << " / " << view.status();
        for (int k = 0; k < 2 && view.ok(); ++k) {
          view = ReadNeuronioCompactView(scratch_path,
                                         NeuronioChecksum::kOncePerFileVersion);
          CHECK(view.ok()) << view.status();
          CHECK_EQ(full->simulations.size(), (*view)->simulations.size());
          for (size_t i = 0; i < full->simulations.size(); ++i) {
            const NeuronioSimulationView a = ViewOf(full->simulations[i]);
            const NeuronioSimulationView& b = (*view)->simulations[i];
            CHECK(a.step_begin == b.step_begin &&
                  a.step_channels == b.step_channels &&
                  a.output_spike_steps == b.output_spike_steps &&
                  a.soma_mv == b.soma_mv)
                << "simulation " << i;
          }
        }
        return full.status();
      }
      return ReadNeuronioFile(scratch_path).status();
    }
  }
  return absl::InvalidArgumentError("unknown reader");
}

void MutateBytes(Rng* rng, std::string* bytes) {
  static constexpr unsigned char kBoundaryBytes[] = {0x00, 0x10, 0x7f, 0x80,
                                                     0xff};
  static constexpr uint64_t kBoundaryWords[] = {0,
                                                1,
                                                0x7f,
                                                0xff,
                                                0x7fffffff,
                                                0x80000000,
                                                0xffffffff,
                                                0x7fffffffffffffffull,
                                                0xffffffffffffffffull};
  const int edits = 1 + static_cast<int>(rng->UniformInt(4));
  for (int e = 0; e < edits; ++e) {
    const size_t n = bytes->size();
    const uint64_t kind = rng->UniformInt(7);
    if (n == 0) {
      bytes->push_back(static_cast<char>(rng->UniformInt(256)));
      continue;
    }
    const size_t at = rng->UniformInt(n);
    switch (kind) {
      case 0:
        (*bytes)[at] = static_cast<char>(rng->UniformInt(256));
        break;
      case 1:
        (*bytes)[at] = static_cast<char>(kBoundaryBytes[rng->UniformInt(5)]);
        break;
      case 2:
        (*bytes)[at] ^= static_cast<char>(1u << rng->UniformInt(8));
        break;
      case 3: {
        const size_t width = rng->Bernoulli(0.5) ? 4 : 8;
        if (at + width > n) break;
        const uint64_t word = kBoundaryWords[rng->UniformInt(9)];
        std::memcpy(&(*bytes)[at], &word, width);  // little-endian
        break;
      }
      case 4:
        bytes->resize(at);
        break;
      case 5: {
        const size_t len = 1 + rng->UniformInt(std::min<size_t>(n - at, 64));
        bytes->insert(at, bytes->substr(at, len));
        break;
      }
      default: {
        const size_t len = 1 + rng->UniformInt(std::min<size_t>(n - at, 64));
        bytes->erase(at, len);
        break;
      }
    }
  }
}

std::string ElmTensorFuzzSeed() {
  NamedTensor dense;
  dense.name = "w";
  dense.dtype = "f32";
  dense.shape = {2, 3};
  dense.values = {1, -2.5, 3e-3, 0, 7, 8};
  NamedTensor sparse;
  sparse.name = "x";
  sparse.dtype = "f64";
  sparse.sparse = true;
  sparse.shape = {4, 2};
  sparse.values = {0, 1, 0, 0, 0, 0, 2.5, 0};
  ElmTensorFile file;
  file.tensors = {dense, sparse};
  absl::StatusOr<std::string> text = FormatElmTensorText(file);
  CHECK(text.ok()) << text.status();
  return *text;
}

}  // namespace elm
