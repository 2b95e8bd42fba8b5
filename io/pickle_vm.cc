// The Unpickler's virtual machine (pickle_internal.h): the run loop, errors,
// node construction, the stack and its marks, reading the input, the memo, the
// switch over the opcodes, and REDUCE / BUILD dispatch. The numpy callables
// are in pickle_numpy.cc, _codecs.encode and the STOP pass in
// pickle_strings.cc.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
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

GlobalId ClassifyGlobal(absl::string_view module, absl::string_view name) {
  if (module == "collections" && name == "OrderedDict") {
    return GlobalId::kOrderedDict;
  }
  if (module == "_codecs" && name == "encode") return GlobalId::kCodecsEncode;
  if ((module == "__builtin__" || module == "builtins") && name == "bytes") {
    return GlobalId::kBytes;
  }
  if (module == "numpy.core.multiarray" || module == "numpy._core.multiarray") {
    if (name == "_reconstruct") return GlobalId::kReconstruct;
    if (name == "scalar") return GlobalId::kScalar;
  }
  if (module == "numpy" && name == "ndarray") return GlobalId::kNdarray;
  if (module == "numpy" && name == "dtype") return GlobalId::kDtype;
  return GlobalId::kOther;
}

bool ParseInt64(absl::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 32) return false;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *value = v;
  return true;
}

}  // namespace

absl::StatusOr<Pickle> Unpickler::Run() {
  AddSingletons();
  while (true) {
    op_offset_ = in_->offset();
    if (store_->nodes.size() > kMaxNodes) {
      return Error("more than 4 billion values");
    }
    if (!in_->Ensure(1)) {
      op_ = 0;
      return ErrorAt(op_offset_, "",
                     in_->io_error().empty()
                         ? "the input ends without a STOP opcode"
                         : absl::StrCat("read error: ", in_->io_error()));
    }
    op_ = static_cast<uint8_t>(*in_->cur());
    in_->Advance(1);
    if (op_ == kStop) break;
    if (gets_known_) {
      if ((op_ == kBinGet || op_ == kLongBinGet) && FastScalar()) continue;
      if (op_ == kMark && PackedAppends()) continue;
    }
    absl::Status status = Step();
    if (!status.ok()) return status;
  }
  absl::Status status = Finish();
  if (!status.ok()) return status;
  return Pickle(std::move(store_));
}

// ---- Errors ----

absl::Status Unpickler::ErrorAt(int64_t offset, absl::string_view op,
                                absl::string_view what,
                                absl::StatusCode code) const {
  std::string message = absl::StrCat(store_->source_name, ": byte ", offset,
                                     ": ", op, op.empty() ? "" : ": ", what);
  return absl::Status(code, message);
}

std::string Unpickler::OpName() const {
  const char* name = OpcodeName(op_);
  return name != nullptr ? name : absl::StrFormat("opcode 0x%02x", op_);
}

absl::Status Unpickler::Error(absl::string_view what) const {
  return ErrorAt(op_offset_, OpName(), what);
}

absl::Status Unpickler::Unsupported(absl::string_view what) const {
  return ErrorAt(op_offset_, OpName(), what, absl::StatusCode::kUnimplemented);
}

absl::Status Unpickler::Truncated(uint64_t needed) const {
  if (!in_->io_error().empty()) {
    return Error(absl::StrCat("read error: ", in_->io_error()));
  }
  return Error(absl::StrCat(
      "truncated input: needs ", needed, " more bytes at byte ", in_->offset(),
      ", the input has ", std::max<int64_t>(in_->remaining(), 0)));
}

std::string Unpickler::TypeOf(uint32_t node) const {
  return store_->Value(node).TypeName();
}

// ---- Nodes ----

void Unpickler::AddSingletons() {
  AddNode(PickleKind::kNone, 0, 0, 0);
  AddNode(PickleKind::kBool, 0, 0, 0);
  AddNode(PickleKind::kBool, 0, 0, 1);
  AddNode(PickleKind::kTuple, 0, 0, reinterpret_cast<uint64_t>(kEmptyData));
}

uint32_t Unpickler::AddString(PickleKind kind, absl::string_view bytes) {
  if (bytes.size() <= 8) {
    uint64_t payload = 0;
    std::memcpy(&payload, bytes.data(), bytes.size());
    return AddNode(kind, kInline, static_cast<uint32_t>(bytes.size()), payload);
  }
  char* p = store_->arena.Allocate(bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  return AddNode(kind, 0, static_cast<uint32_t>(bytes.size()),
                 reinterpret_cast<uint64_t>(p));
}

uint32_t Unpickler::AddTuple(const uint32_t* items, size_t n) {
  if (n == 0) return kEmptyTupleNode;
  uint32_t* p =
      reinterpret_cast<uint32_t*>(store_->arena.Allocate(n * sizeof(*p)));
  std::copy(items, items + n, p);
  return AddNode(PickleKind::kTuple, 0, static_cast<uint32_t>(n),
                 reinterpret_cast<uint64_t>(p));
}

uint32_t Unpickler::AddList(const uint32_t* items, size_t n) {
  store_->lists.emplace_back();
  store_->lists.back().nodes.assign(items, items + n);
  NoteListItems(store_->lists.size() - 1, items, n);
  return AddNode(PickleKind::kList, 0, 0, store_->lists.size() - 1);
}

uint32_t Unpickler::AddDict() {
  store_->dicts.emplace_back();
  return AddNode(PickleKind::kDict, 0, 0, store_->dicts.size() - 1);
}

uint32_t Unpickler::AddObject(PickleObjectKind kind, uint32_t callable,
                              uint32_t args) {
  store_->objects.push_back(
      Store::Object{callable, args, kNoNode, kind, /*dtype=*/-1});
  return AddNode(PickleKind::kObject, 0, 0, store_->objects.size() - 1);
}

bool Unpickler::IsString(uint32_t i) const {
  return N(i).kind == PickleKind::kStr || N(i).kind == PickleKind::kBytes;
}

absl::StatusOr<absl::string_view> Unpickler::SmallString(
    uint32_t i, absl::string_view what) const {
  if (!IsString(i)) {
    return Error(
        absl::StrCat(what, ": expected str or bytes, found ", TypeOf(i)));
  }
  if (N(i).flags & kDeferred) {
    return Unsupported(
        absl::StrCat(what, ": string of ", N(i).size, " bytes is too long"));
  }
  return store_->StringOf(N(i));
}

void Unpickler::ItemsOf(uint32_t i, const uint32_t** items, size_t* n) {
  if (N(i).kind == PickleKind::kTuple) {
    *items = store_->TupleItems(N(i));
    *n = N(i).size;
  } else {
    Unpack(i);
    const Store::List& list = store_->lists[N(i).payload];
    *items = list.nodes.data();
    *n = list.nodes.size();
  }
}

void Unpickler::Unpack(uint32_t node) {
  Store::List& list = store_->lists[N(node).payload];
  if (list.ints.empty()) return;
  // Its new nodes must outlive a streamed item begun after the list.
  TouchTarget(node);
  list.nodes.reserve(list.ints.size());
  for (int64_t v : list.ints) list.nodes.push_back(AddInt(v));
  list.ints = {};  // (their bytes stay in the arena)
}

bool Unpickler::IntOf(uint32_t i, int64_t* v) const {
  if (N(i).kind != PickleKind::kInt && N(i).kind != PickleKind::kBool) {
    return false;
  }
  *v = static_cast<int64_t>(N(i).payload);
  return true;
}

// ---- Stack ----

absl::Status Unpickler::Underflow(size_t needed) const {
  return Error(
      absl::StrCat("stack underflow: needs ", needed, " value(s) ",
                   marks_.empty() ? "on the stack" : "above the last MARK",
                   ", found ", stack_.size() - Floor()));
}

absl::Status Unpickler::NeedValues(size_t n) const {
  if (stack_.size() - Floor() < n) return Underflow(n);
  return absl::OkStatus();
}

absl::Status Unpickler::PopMark(size_t* start) {
  if (marks_.empty()) return Error("no MARK before this opcode");
  *start = marks_.back();
  marks_.pop_back();
  return absl::OkStatus();
}

// ---- Reading ----

absl::Status Unpickler::Need(size_t n) {
  if (!in_->Ensure(n)) return Truncated(n);
  return absl::OkStatus();
}

absl::Status Unpickler::ReadUnsigned(int n, uint64_t* v) {
  if (absl::Status s = Need(n); !s.ok()) return s;
  *v = LoadLittle(in_->cur(), n);
  in_->Advance(n);
  return absl::OkStatus();
}

absl::Status Unpickler::ReadLine(absl::string_view* line) {
  switch (in_->ReadLine(line)) {
    case Input::Line::kOk:
      return absl::OkStatus();
    case Input::Line::kTooLong:
      return Error(absl::StrCat("no newline within ", kMaxLineBytes, " bytes"));
    case Input::Line::kTruncated:
      break;
  }
  if (!in_->io_error().empty()) {
    return Error(absl::StrCat("read error: ", in_->io_error()));
  }
  return Error("truncated input: the input ends inside a text line");
}

absl::Status Unpickler::ReadString(PickleKind kind, uint64_t n) {
  if (n > static_cast<uint64_t>(std::max<int64_t>(in_->remaining(), 0))) {
    return Truncated(n);
  }
  if (n > std::numeric_limits<uint32_t>::max()) {
    return Unsupported("strings of 4 GiB or more are not supported");
  }
  uint32_t node;
  if (n < kDeferMinBytes) {
    if (absl::Status s = Need(n); !s.ok()) return s;
    node = AddString(kind, absl::string_view(in_->cur(), n));
    in_->Advance(n);
  } else {
    const int64_t offset = in_->offset();
    if (!in_->Skip(n)) return Truncated(n);
    node = AddNode(kind, kDeferred, static_cast<uint32_t>(n), offset);
    deferred_.push_back(node);
  }
  stack_.push_back(node);
  return absl::OkStatus();
}

// ---- Memo ----

absl::Status Unpickler::Put(uint64_t index) {
  if (stack_.size() == Floor()) return Underflow(1);
  if (gets_known_) {
    if (index > static_cast<uint64_t>(op_offset_) + kMemoSlack) {
      return Error(absl::StrCat("memo index ", index,
                                " is implausibly large at this offset"));
    }
    ++memo_count_;
    if (one_pass_) {
      const uint32_t node = stack_.back();
      memo_map_[index] = node;
      max_stored_index_ =
          std::max(max_stored_index_, static_cast<int64_t>(index));
      if (index == scalar_layout_.callable || index == scalar_layout_.dtype) {
        scalar_layout_.valid = false;
      }
      if (stream_.active && node >= stream_.node) item_puts_.push_back(index);
      return absl::OkStatus();
    }
    if (MemoUsed(index)) {
      scalar_layout_.valid = false;  // its callable or dtype may change
      used_memo_nodes_[index] = stack_.back();
      any_memo_stored_ = true;
      max_memo_node_ = std::max(max_memo_node_, stack_.back());
    }
    return absl::OkStatus();
  }
  if (index >= memo_.size()) {
    if (index > static_cast<uint64_t>(op_offset_) + kMemoSlack) {
      return Error(absl::StrCat("memo index ", index,
                                " is implausibly large at this offset"));
    }
    memo_.GrowTo(index + 1, kNoNode);
  }
  if (memo_[index] == kNoNode) ++memo_count_;
  memo_[index] = stack_.back();
  return absl::OkStatus();
}

uint32_t Unpickler::MemoNode(uint64_t index) const {
  if (one_pass_) {
    const auto it = memo_map_.find(index);
    return it == memo_map_.end() ? kNoNode : it->second;
  }
  return index < used_memo_nodes_.size() ? used_memo_nodes_[index] : kNoNode;
}

absl::Status Unpickler::Get(uint64_t index) {
  if (gets_known_) {
    const uint32_t node = MemoNode(index);
    if (node != kNoNode) {
      stack_.push_back(node);
      return absl::OkStatus();
    }
    // (A single pass may have dropped it: parsed again with the scan.)
    restart_ = one_pass_;
    return Error(absl::StrCat("memo entry ", index,
                              " was never stored (no PUT before this GET)"));
  }
  if (index >= memo_.size() || memo_[index] == kNoNode) {
    return Error(absl::StrCat("memo entry ", index,
                              " was never stored (no PUT before this GET)"));
  }
  stack_.push_back(memo_[index]);
  return absl::OkStatus();
}

// ---- Opcodes ----

absl::Status Unpickler::Step() {
  uint64_t u = 0;
  switch (op_) {
    case kProto:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      if (u > 5) return Unsupported(absl::StrCat("protocol ", u));
      return absl::OkStatus();
    case kFrame:
      return ReadUnsigned(8, &u);
    case kMark:
      marks_.push_back(stack_.size());
      return absl::OkStatus();
    case kNoneOp:
      stack_.push_back(kNoneNode);
      return absl::OkStatus();
    case kNewTrue:
      stack_.push_back(kTrueNode);
      return absl::OkStatus();
    case kNewFalse:
      stack_.push_back(kFalseNode);
      return absl::OkStatus();
    case kBinInt:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      stack_.push_back(AddInt(static_cast<int32_t>(u)));
      return absl::OkStatus();
    case kBinInt1:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      stack_.push_back(AddInt(static_cast<int64_t>(u)));
      return absl::OkStatus();
    case kBinInt2:
      if (absl::Status s = ReadUnsigned(2, &u); !s.ok()) return s;
      stack_.push_back(AddInt(static_cast<int64_t>(u)));
      return absl::OkStatus();
    case kLong1:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      return ReadLong(u);
    case kLong4:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      if (static_cast<int32_t>(u) < 0) return Error("negative byte count");
      return ReadLong(u);
    case kBinFloat: {
      if (absl::Status s = Need(8); !s.ok()) return s;
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        bits = (bits << 8) | static_cast<uint8_t>(in_->cur()[i]);
      }
      in_->Advance(8);
      double v;
      std::memcpy(&v, &bits, 8);
      stack_.push_back(AddFloat(v));
      return absl::OkStatus();
    }
    case kShortBinString:
    case kShortBinBytes:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      return ReadString(PickleKind::kBytes, u);
    case kBinString:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      if (static_cast<int32_t>(u) < 0) return Error("negative length");
      return ReadString(PickleKind::kBytes, u);
    case kBinBytes:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      return ReadString(PickleKind::kBytes, u);
    case kBinBytes8:
      if (absl::Status s = ReadUnsigned(8, &u); !s.ok()) return s;
      return ReadString(PickleKind::kBytes, u);
    case kShortBinUnicode:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      return ReadString(PickleKind::kStr, u);
    case kBinUnicode:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      return ReadString(PickleKind::kStr, u);
    case kBinUnicode8:
      if (absl::Status s = ReadUnsigned(8, &u); !s.ok()) return s;
      return ReadString(PickleKind::kStr, u);
    case kIntText:
    case kLongText:
    case kFloatText:
      return TextNumber();
    case kEmptyTuple:
      stack_.push_back(kEmptyTupleNode);
      return absl::OkStatus();
    case kTuple1:
    case kTuple2:
    case kTuple3: {
      const size_t n = op_ - kTuple1 + 1;
      if (absl::Status s = NeedValues(n); !s.ok()) return s;
      const uint32_t t = AddTuple(stack_.data() + stack_.size() - n, n);
      stack_.resize(stack_.size() - n);
      stack_.push_back(t);
      return absl::OkStatus();
    }
    case kTuple:
    case kList:
    case kDict: {
      size_t start = 0;
      if (absl::Status s = PopMark(&start); !s.ok()) return s;
      const size_t n = stack_.size() - start;
      uint32_t result;
      if (op_ == kTuple) {
        result = AddTuple(stack_.data() + start, n);
      } else if (op_ == kList) {
        result = AddList(stack_.data() + start, n);
      } else {
        if (n % 2 != 0) {
          return Error(absl::StrCat("odd number of values (", n,
                                    ") for key/value pairs"));
        }
        result = AddDict();
        store_->dicts.back().items.assign(stack_.begin() + start, stack_.end());
      }
      stack_.resize(start);
      stack_.push_back(result);
      return absl::OkStatus();
    }
    case kEmptyList:
      stack_.push_back(AddList(nullptr, 0));
      return absl::OkStatus();
    case kEmptyDict:
      if (streaming()) {
        if (absl::Status s = BeforeEmptyDict(); !s.ok()) return s;
      }
      stack_.push_back(AddDict());
      return absl::OkStatus();
    case kAppend: {
      if (absl::Status s = NeedValues(2); !s.ok()) return s;
      if (streaming()) {
        const size_t n = stack_.size();
        if (absl::Status s = BeforeAppend(stack_[n - 2], n - 1, n); !s.ok()) {
          return s;
        }
      }
      const uint32_t item = PopValue();
      return AppendTo(stack_.back(), &item, 1);
    }
    case kAppends: {
      size_t start = 0;
      if (absl::Status s = PopMark(&start); !s.ok()) return s;
      if (start == Floor()) return Error("no list below the MARK");
      if (streaming()) {
        if (absl::Status s =
                BeforeAppend(stack_[start - 1], start, stack_.size());
            !s.ok()) {
          return s;
        }
      }
      absl::Status s = AppendTo(stack_[start - 1], stack_.data() + start,
                                stack_.size() - start);
      stack_.resize(start);
      return s;
    }
    case kSetItem: {
      if (absl::Status s = NeedValues(3); !s.ok()) return s;
      absl::Status s = SetItems(stack_[stack_.size() - 3],
                                stack_.data() + stack_.size() - 2, 2);
      stack_.resize(stack_.size() - 2);
      return s;
    }
    case kSetItems: {
      size_t start = 0;
      if (absl::Status s = PopMark(&start); !s.ok()) return s;
      if (start == Floor()) return Error("no dict below the MARK");
      absl::Status s = SetItems(stack_[start - 1], stack_.data() + start,
                                stack_.size() - start);
      stack_.resize(start);
      return s;
    }
    case kBinPut:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      return Put(u);
    case kLongBinPut:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      return Put(u);
    case kMemoize:
      if (one_pass_) {
        // MEMOIZE stores at the memo's size, the number of distinct indices
        // stored; a single pass counts PUTs (a repeated index counts twice,
        // and the fast path's scalar PUTs are not stored). Parsed again with
        // the scan, which keeps the dense memo for files with MEMOIZE.
        restart_ = true;
        return Error("MEMOIZE in a single pass: parsed again with the scan");
      }
      return Put(memo_count_);
    case kBinGet:
      if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
      return Get(u);
    case kLongBinGet:
      if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
      return Get(u);
    case kPut:
    case kGet: {
      absl::string_view line;
      if (absl::Status s = ReadLine(&line); !s.ok()) return s;
      int64_t index;
      if (!ParseInt64(line, &index) || index < 0) {
        return Error(absl::StrCat("bad memo index '", line, "'"));
      }
      return op_ == kPut ? Put(index) : Get(index);
    }
    case kGlobal: {
      absl::string_view line;
      if (absl::Status s = ReadLine(&line); !s.ok()) return s;
      const std::string module(line);
      if (absl::Status s = ReadLine(&line); !s.ok()) return s;
      return PushGlobal(module, std::string(line));
    }
    case kStackGlobal: {
      if (absl::Status s = NeedValues(2); !s.ok()) return s;
      const uint32_t name_node = PopValue();
      const uint32_t module_node = PopValue();
      absl::StatusOr<absl::string_view> module =
          SmallString(module_node, "module");
      if (!module.ok()) return module.status();
      absl::StatusOr<absl::string_view> name = SmallString(name_node, "name");
      if (!name.ok()) return name.status();
      return PushGlobal(std::string(*module), std::string(*name));
    }
    case kReduce:
      return Reduce();
    case kNewObj: {
      if (absl::Status s = NeedValues(2); !s.ok()) return s;
      const uint32_t args = PopValue();
      const uint32_t cls = PopValue();
      if (N(args).kind != PickleKind::kTuple) {
        return Error(
            absl::StrCat("arguments must be a tuple, found ", TypeOf(args)));
      }
      stack_.push_back(AddObject(PickleObjectKind::kNewObj, cls, args));
      return absl::OkStatus();
    }
    case kBuild:
      return Build();
    case kBinPersId: {
      if (absl::Status s = NeedValues(1); !s.ok()) return s;
      const uint32_t pid = PopValue();
      stack_.push_back(AddNode(PickleKind::kPersistentId, 0, 0, pid));
      return absl::OkStatus();
    }
    case kPersId: {
      absl::string_view line;
      if (absl::Status s = ReadLine(&line); !s.ok()) return s;
      const uint32_t pid = AddString(PickleKind::kStr, line);
      stack_.push_back(AddNode(PickleKind::kPersistentId, 0, 0, pid));
      return absl::OkStatus();
    }
    case kPop:
      if (stack_.size() > Floor()) {
        stack_.pop_back();
      } else if (!marks_.empty()) {
        marks_.pop_back();
      } else {
        return Underflow(1);
      }
      return absl::OkStatus();
    case kPopMark: {
      size_t start = 0;
      if (absl::Status s = PopMark(&start); !s.ok()) return s;
      stack_.resize(start);
      return absl::OkStatus();
    }
    case kDup:
      if (absl::Status s = NeedValues(1); !s.ok()) return s;
      if (stream_.active && stack_.back() >= stream_.node) {
        stream_.unsafe = true;
      }
      stack_.push_back(stack_.back());
      return absl::OkStatus();
    default:
      if (OpcodeName(op_) != nullptr) {
        return Unsupported("this opcode is not supported");
      }
      return Error("unknown opcode (corrupt or not a pickle)");
  }
}

absl::Status Unpickler::ReadLong(uint64_t n) {
  if (n > static_cast<uint64_t>(std::max<int64_t>(in_->remaining(), 0))) {
    return Truncated(n);
  }
  if (n > 64) return Unsupported("integer does not fit in 64 bits");
  if (absl::Status s = Need(n); !s.ok()) return s;
  const char* p = in_->cur();
  int64_t v = 0;
  if (n > 0) {
    const bool negative = static_cast<uint8_t>(p[n - 1]) & 0x80;
    for (uint64_t i = 8; i < n; ++i) {
      if (static_cast<uint8_t>(p[i]) != (negative ? 0xFF : 0x00)) {
        return Unsupported("integer does not fit in 64 bits");
      }
    }
    const int low = static_cast<int>(std::min<uint64_t>(n, 8));
    uint64_t bits = LoadLittle(p, low);
    if (low < 8 && negative) bits |= ~uint64_t{0} << (8 * low);
    if (n > 8 && ((bits >> 63) != 0) != negative) {
      return Unsupported("integer does not fit in 64 bits");
    }
    v = static_cast<int64_t>(bits);
  }
  in_->Advance(n);
  stack_.push_back(AddInt(v));
  return absl::OkStatus();
}

absl::Status Unpickler::TextNumber() {
  absl::string_view line;
  if (absl::Status s = ReadLine(&line); !s.ok()) return s;
  if (op_ == kIntText && (line == "00" || line == "01")) {
    stack_.push_back(line == "01" ? kTrueNode : kFalseNode);
    return absl::OkStatus();
  }
  if (op_ == kFloatText) {
    const std::string s(line);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) {
      return Error(absl::StrCat("bad float '", line, "'"));
    }
    stack_.push_back(AddFloat(v));
    return absl::OkStatus();
  }
  if (op_ == kLongText && !line.empty() && line.back() == 'L') {
    line.remove_suffix(1);
  }
  int64_t v;
  if (!ParseInt64(line, &v)) {
    return Error(absl::StrCat("bad or out-of-range integer '", line, "'"));
  }
  stack_.push_back(AddInt(v));
  return absl::OkStatus();
}

absl::Status Unpickler::AppendTo(uint32_t target, const uint32_t* items,
                                 size_t n) {
  TouchTarget(target);
  if (N(target).kind != PickleKind::kList) {
    return Error(
        absl::StrCat("expected a list to append to, found ", TypeOf(target)));
  }
  Unpack(target);
  Store::List& list = store_->lists[N(target).payload];
  list.nodes.insert(list.nodes.end(), items, items + n);
  NoteListItems(N(target).payload, items, n);
  return absl::OkStatus();
}

absl::Status Unpickler::SetItems(uint32_t target, const uint32_t* items,
                                 size_t n) {
  TouchTarget(target);
  if (N(target).kind != PickleKind::kDict) {
    return Error(absl::StrCat("expected a dict to set items in, found ",
                              TypeOf(target)));
  }
  if (n % 2 != 0) {
    return Error(
        absl::StrCat("odd number of values (", n, ") for key/value pairs"));
  }
  std::vector<uint32_t>& dict = store_->dicts[N(target).payload].items;
  dict.insert(dict.end(), items, items + n);
  return absl::OkStatus();
}

absl::Status Unpickler::PushGlobal(std::string module, std::string name) {
  if (options_.accept_global && !options_.accept_global(module, name)) {
    return Unsupported(absl::StrCat("unsupported global ", module, ".", name));
  }
  const GlobalId id = ClassifyGlobal(module, name);
  store_->globals.push_back(
      Store::Global{std::move(module), std::move(name), id});
  stack_.push_back(
      AddNode(PickleKind::kGlobal, 0, 0, store_->globals.size() - 1));
  return absl::OkStatus();
}

// ---- REDUCE and its recognised callables ----

std::string Unpickler::CallableName() const {
  if (N(callable_).kind != PickleKind::kGlobal) return TypeOf(callable_);
  const Store::Global& g = store_->globals[N(callable_).payload];
  return absl::StrCat(g.module, ".", g.name);
}

absl::Status Unpickler::Reduce() {
  if (absl::Status s = NeedValues(2); !s.ok()) return s;
  const uint32_t args = PopValue();
  const uint32_t callable = PopValue();
  if (N(args).kind != PickleKind::kTuple) {
    return Error(
        absl::StrCat("arguments must be a tuple, found ", TypeOf(args)));
  }
  const uint32_t* a = store_->TupleItems(N(args));
  const size_t n = N(args).size;
  GlobalId id = GlobalId::kOther;
  if (N(callable).kind == PickleKind::kGlobal) {
    id = store_->globals[N(callable).payload].id;
  }
  callable_ = callable;
  absl::StatusOr<uint32_t> result = kNoNode;
  switch (id) {
    case GlobalId::kOrderedDict:
      result = MakeOrderedDict(a, n);
      break;
    case GlobalId::kCodecsEncode:
      if (n != 2) {
        return Error(
            absl::StrCat(CallableName(), " expects 2 arguments, found ", n));
      }
      result = Encode(a[0], a[1]);
      break;
    case GlobalId::kBytes:
      if (n == 0) {
        result = AddString(PickleKind::kBytes, "");
      } else if (n == 1 && N(a[0]).kind == PickleKind::kBytes) {
        result = a[0];
      } else if (n == 2) {
        result = Encode(a[0], a[1]);
      } else {
        return Unsupported(
            absl::StrCat(CallableName(), "() with arguments ", TypeOf(args)));
      }
      break;
    case GlobalId::kReconstruct:
      result = Reconstruct(callable, args, a, n);
      break;
    case GlobalId::kDtype:
      result = MakeDtype(callable, args, a, n);
      break;
    case GlobalId::kScalar:
      result = MakeScalar(a, n);
      break;
    default:
      result = AddObject(PickleObjectKind::kReduce, callable, args);
      break;
  }
  if (!result.ok()) return result.status();
  stack_.push_back(*result);
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Unpickler::MakeOrderedDict(const uint32_t* a,
                                                    size_t n) {
  const uint32_t dict = AddDict();
  if (n == 0) return dict;
  const PickleKind k = N(a[0]).kind;
  if (n != 1 || (k != PickleKind::kList && k != PickleKind::kTuple)) {
    return Unsupported(absl::StrCat(CallableName(),
                                    " with arguments other than () "
                                    "or a list of pairs"));
  }
  const uint32_t* pairs;
  size_t count;
  ItemsOf(a[0], &pairs, &count);
  std::vector<uint32_t>& items = store_->dicts[N(dict).payload].items;
  for (size_t i = 0; i < count; ++i) {
    const Node& pair = N(pairs[i]);
    if (pair.kind != PickleKind::kTuple || pair.size != 2) {
      return Error(absl::StrCat(CallableName(), ": item ", i,
                                " is not a (key, value) pair"));
    }
    items.push_back(store_->TupleItems(pair)[0]);
    items.push_back(store_->TupleItems(pair)[1]);
  }
  return dict;
}

// ---- BUILD ----

absl::Status Unpickler::Build() {
  scalar_layout_.valid = false;  // its dtype may change
  if (absl::Status s = NeedValues(2); !s.ok()) return s;
  const uint32_t state = PopValue();
  const uint32_t target = stack_.back();
  TouchTarget(target);
  switch (N(target).kind) {
    case PickleKind::kNdArray:
      return BuildArray(store_->arrays[N(target).payload], state);
    case PickleKind::kDict:
      store_->dicts[N(target).payload].state = state;
      return absl::OkStatus();
    case PickleKind::kObject: {
      Store::Object& object = store_->objects[N(target).payload];
      object.state = state;
      if (object.dtype >= 0) return BuildDtype(object.dtype, state);
      return absl::OkStatus();
    }
    default:
      return Error(absl::StrCat("cannot set the state of ", TypeOf(target)));
  }
}

}  // namespace pickle_internal
}  // namespace elm
