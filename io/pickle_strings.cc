// Strings in pickles: the Unpickler members for _codecs.encode (how Python 3
// pickles bytes for protocol 2) and for STOP, which reads the deferred strings
// (see pickle.h) that the result can reach and drops the skipped ones.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "glog/logging.h"
#include "io/pickle.h"
#include "io/pickle_internal.h"

namespace elm {
namespace pickle_internal {
namespace {

// Decodes UTF-8 `in` into latin-1 at `out` (room for in.size() bytes); false
// at malformed UTF-8 or a code point above U+00FF.
bool Utf8ToLatin1(absl::string_view in, char* out, size_t* out_size) {
  size_t o = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(in[i]);
    if (c < 0x80) {
      out[o++] = static_cast<char>(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < in.size() &&
               (static_cast<uint8_t>(in[i + 1]) & 0xC0) == 0x80) {
      out[o++] = static_cast<char>(((c & 0x03) << 6) |
                                   (static_cast<uint8_t>(in[i + 1]) & 0x3F));
      ++i;
    } else {
      return false;
    }
  }
  *out_size = o;
  return true;
}

}  // namespace

// ---- REDUCE and its recognised callables ----

absl::StatusOr<uint32_t> Unpickler::Encode(uint32_t text, uint32_t encoding) {
  absl::StatusOr<absl::string_view> enc = SmallString(encoding, "encoding");
  if (!enc.ok()) return enc.status();
  if (N(text).kind != PickleKind::kStr) {
    return Error(absl::StrCat(
        CallableName(), ": expected a str to encode, found ", TypeOf(text)));
  }
  const bool latin1 = *enc == "latin1" || *enc == "latin-1" ||
                      *enc == "iso-8859-1" || *enc == "iso8859-1" ||
                      *enc == "l1";
  const bool utf8 = *enc == "utf-8" || *enc == "utf8" || *enc == "ascii";
  if (!latin1 && !utf8) {
    return Unsupported(absl::StrCat(CallableName(), ": encoding '", *enc, "'"));
  }
  const Node t = N(text);
  if (t.flags & kDeferred) {
    const uint32_t node =
        AddNode(PickleKind::kBytes,
                static_cast<uint8_t>(kDeferred | (latin1 ? kLatin1 : 0)),
                t.size, t.payload);
    deferred_.push_back(node);
    return node;
  }
  const absl::string_view in = store_->StringOf(t);
  if (utf8) {
    if (*enc == "ascii") {
      for (char c : in) {
        if (static_cast<uint8_t>(c) >= 0x80) {
          return Error(absl::StrCat(CallableName(), ": non-ASCII text"));
        }
      }
    }
    return AddString(PickleKind::kBytes, in);
  }
  std::string out(in.size(), '\0');
  size_t out_size = 0;
  if (!Utf8ToLatin1(in, out.data(), &out_size)) {
    return Error(absl::StrCat(CallableName(),
                              ": text is not representable in "
                              "latin-1"));
  }
  return AddString(PickleKind::kBytes, absl::string_view(out.data(), out_size));
}

// ---- STOP ----

absl::Status Unpickler::Finish() {
  if (!marks_.empty()) {
    return Error(absl::StrCat(marks_.size(), " MARK(s) left open"));
  }
  if (stack_.size() != 1) {
    return Error(
        absl::StrCat("expected exactly one value on the stack, "
                     "found ",
                     stack_.size()));
  }
  if (in_->remaining() != 0) {
    return Error(
        absl::StrCat(in_->remaining(), " bytes of trailing data after STOP"));
  }
  store_->root = stack_[0];
  store_->memo_entries = memo_count_;
  store_->memo_capacity = memo_.size();
  for (NdArray& array : store_->arrays) {
    if (!array.built_ && array.num_elements_ != 0) {
      return ErrorAt(array.build_offset_, "REDUCE",
                     absl::StrCat("numpy array ", array.Description(),
                                  " never gets its data (no BUILD)"));
    }
  }
  const bool skipping =
      !options_.skip_keys.empty() || options_.max_array_bytes >= 0;
  if (!skipping && deferred_.empty()) return absl::OkStatus();
  std::vector<bool> reached = Reachable();
  for (uint32_t node : deferred_) {
    if (reached[node]) {
      absl::Status s = Materialize(node);
      if (!s.ok()) return s;
    } else {
      MutableNode(node).flags |= kSkipped;
      store_->unread_bytes += N(node).size;
    }
  }
  for (NdArray& array : store_->arrays) {
    if (!reached[array.node_] || TooBig(array)) {
      array.skipped_ = true;
      array.data_ = nullptr;
    } else if (array.pending_data_ != kNoNode) {
      absl::Status s =
          DecodeArray(array, store_->StringOf(N(array.pending_data_)));
      if (!s.ok()) return s;
    }
    array.pending_data_ = kNoNode;
  }
  return absl::OkStatus();
}

bool Unpickler::TooBig(const NdArray& array) const {
  return options_.max_array_bytes >= 0 &&
         array.num_bytes() > options_.max_array_bytes;
}

bool Unpickler::IsSkipKey(uint32_t key) const {
  if (!IsString(key) || (N(key).flags & kDeferred)) return false;
  const absl::string_view k = store_->StringOf(N(key));
  for (const std::string& skip : options_.skip_keys) {
    if (k == skip) return true;
  }
  return false;
}

std::vector<bool> Unpickler::Reachable() const {
  std::vector<bool> reached(store_->nodes.size(), false);
  std::vector<uint32_t> todo = {store_->root};
  auto visit = [&](uint32_t node) {
    if (node != kNoNode && !reached[node]) todo.push_back(node);
  };
  while (!todo.empty()) {
    const uint32_t i = todo.back();
    todo.pop_back();
    if (reached[i]) continue;
    reached[i] = true;
    const Node& n = N(i);
    switch (n.kind) {
      case PickleKind::kTuple:
        for (uint32_t k = 0; k < n.size; ++k) {
          visit(store_->TupleItems(n)[k]);
        }
        break;
      case PickleKind::kList:
        // (Packed ints have no nodes.)
        for (uint32_t item : store_->lists[n.payload].nodes) visit(item);
        break;
      case PickleKind::kDict: {
        const Store::Dict& d = store_->dicts[n.payload];
        for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
          visit(d.items[k]);
          if (!IsSkipKey(d.items[k])) visit(d.items[k + 1]);
        }
        visit(d.state);
        break;
      }
      case PickleKind::kObject: {
        const Store::Object& o = store_->objects[n.payload];
        visit(o.callable);
        visit(o.args);
        visit(o.state);
        break;
      }
      case PickleKind::kNdArray: {
        const NdArray& a = store_->arrays[n.payload];
        if (!TooBig(a)) visit(a.pending_data_);
        break;
      }
      case PickleKind::kPersistentId:
        visit(static_cast<uint32_t>(n.payload));
        break;
      default:
        break;
    }
  }
  return reached;
}

absl::Status Unpickler::Materialize(uint32_t i) {
  Node& n = MutableNode(i);
  const int64_t offset = static_cast<int64_t>(n.payload);
  auto read_error = [&]() {
    return ErrorAt(offset, "",
                   absl::StrCat("cannot read back ", n.size,
                                " string bytes: ", in_->io_error()));
  };
  if (!(n.flags & kLatin1)) {
    char* p = store_->arena.Allocate(n.size);
    if (!in_->ReadAt(offset, n.size, p)) return read_error();
    n.payload = reinterpret_cast<uint64_t>(p);
    n.flags = 0;
    return absl::OkStatus();
  }
  std::string utf8(n.size, '\0');
  if (!in_->ReadAt(offset, n.size, utf8.data())) return read_error();
  size_t count = 0;  // latin-1 length: bytes that start a character
  for (char c : utf8) count += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  char* p = store_->arena.Allocate(std::max<size_t>(count, 1));
  size_t out_size = 0;
  std::string scratch;
  if (count < utf8.size()) scratch.resize(utf8.size());
  char* out = count < utf8.size() ? scratch.data() : p;
  if (!Utf8ToLatin1(utf8, out, &out_size) || out_size != count) {
    return ErrorAt(offset, "",
                   "_codecs.encode: text is not representable in latin-1");
  }
  if (out != p) std::memcpy(p, out, out_size);
  n.payload = reinterpret_cast<uint64_t>(p);
  n.size = static_cast<uint32_t>(out_size);
  n.flags = 0;
  return absl::OkStatus();
}

}  // namespace pickle_internal
}  // namespace elm
