// The fast path for numpy scalars (pickle_internal.h: ScalarCall,
// Unpickler::FastScalar): a NeuronIO file's spike times are ~10.8 M
// numpy.int64 scalars, each nine opcodes (two GETs, a string, a tuple, a
// REDUCE, three PUTs) that the general machinery runs in ~150 ns. Matched as
// one byte pattern, checked against the memo (the callable must be
// numpy.core.multiarray.scalar, the dtype an 8-byte int64 or float64, the
// PUTs unused by any GET and plausible), a scalar costs a few ns. A list
// filled only by such a run of int64 scalars (MARK ... APPENDS) keeps their
// values packed (PackedAppends, Store::List). Anything else falls back to the
// opcodes one by one, which therefore give every error, at the same byte, as
// before.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "io/pickle.h"
#include "io/pickle_input.h"
#include "io/pickle_internal.h"

namespace elm {
namespace pickle_internal {
namespace {

// The 4-byte little-endian unsigned integer at p (LoadLittle's loop, which
// the compiler leaves a loop, was most of the matching time).
inline uint64_t Load4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

}  // namespace

bool MatchScalarCall(uint8_t op, const char* rest, size_t n, ScalarCall* call) {
  const uint8_t* q = reinterpret_cast<const uint8_t*>(rest);
  size_t i = 0;  // position in `rest`; offset from the first opcode is i + 1
  // A GET's argument, `code` already read.
  auto get_arg = [&](uint8_t code, uint64_t* index) {
    if (code == kBinGet) {
      if (i + 1 > n) return false;
      *index = q[i];
      i += 1;
      return true;
    }
    if (code == kLongBinGet) {
      if (i + 4 > n) return false;
      *index = Load4(rest + i);
      i += 4;
      return true;
    }
    return false;
  };
  // An optional PUT.
  auto put = [&]() {
    if (i >= n) return;
    if (q[i] == kBinPut && i + 2 <= n) {
      call->put_at[call->num_puts] = i + 1;
      call->put_index[call->num_puts++] = q[i + 1];
      i += 2;
    } else if (q[i] == kLongBinPut && i + 5 <= n) {
      call->put_at[call->num_puts] = i + 1;
      call->put_index[call->num_puts++] = Load4(rest + i + 1);
      i += 5;
    }
  };
  call->num_puts = 0;
  if (!get_arg(op, &call->callable)) return false;
  if (i >= n) return false;
  const uint8_t second = q[i++];
  if (!get_arg(second, &call->dtype)) return false;
  if (i + 10 > n || (q[i] != kShortBinString && q[i] != kShortBinBytes) ||
      q[i + 1] != 8) {
    return false;
  }
  call->data = rest + i + 2;
  i += 10;
  put();
  if (i >= n || q[i] != kTuple2) return false;
  ++i;
  put();
  if (i >= n || q[i] != kReduce) return false;
  ++i;
  put();
  call->length = i + 1;
  return true;
}

ScalarLayout LayoutOf(uint8_t op, const char* rest, const ScalarCall& call) {
  ScalarLayout layout;
  layout.prefix_len = static_cast<size_t>(call.data - rest) + 1;
  layout.prefix[0] = static_cast<char>(op);
  std::memcpy(layout.prefix + 1, rest, layout.prefix_len - 1);
  layout.length = call.length;
  layout.callable = call.callable;
  layout.dtype = call.dtype;
  static_assert(sizeof(layout.prefix) <= 1 + 12, "the prefix words");
  unsigned char bytes[12] = {}, mask[12] = {};
  std::memcpy(bytes, rest, layout.prefix_len - 1);
  std::memset(mask, 0xFF, layout.prefix_len - 1);
  std::memcpy(&layout.word, bytes, 8);
  std::memcpy(&layout.mask, mask, 8);
  std::memcpy(&layout.word2, bytes + 8, 4);
  std::memcpy(&layout.mask2, mask + 8, 4);
  unsigned char fixed[kScalarCompareBytes] = {},
                fixed_mask[kScalarCompareBytes] = {};
  fixed[0] = op;
  fixed_mask[0] = 0xFF;
  std::memcpy(fixed + 1, rest, layout.prefix_len - 1);
  std::memset(fixed_mask + 1, 0xFF, layout.prefix_len - 1);
  for (size_t at = layout.prefix_len + 8; at < call.length;) {
    const uint8_t code = static_cast<uint8_t>(rest[at - 1]);
    fixed[at] = code;
    fixed_mask[at] = 0xFF;
    layout.op_at[layout.num_ops] = at;
    layout.op[layout.num_ops++] = code;
    if (code == kBinPut || code == kLongBinPut) {
      layout.put_at[layout.num_puts] = at;
      layout.put_long[layout.num_puts++] = code == kLongBinPut;
    }
    at += code == kBinPut ? 2 : code == kLongBinPut ? 5 : 1;
  }
  std::memcpy(layout.call_word, fixed, sizeof(fixed));
  std::memcpy(layout.call_mask, fixed_mask, sizeof(fixed_mask));
  layout.valid = true;
  return layout;
}

bool Unpickler::PutsElidable(const char* rest, int64_t offset) const {
  const ScalarLayout& layout = scalar_layout_;
  for (int k = 0; k < layout.num_puts; ++k) {
    const size_t at = layout.put_at[k];
    const uint64_t index =
        layout.put_long[k] ? Load4(rest + at) : static_cast<uint8_t>(rest[at]);
    // As Put() takes them (plausible), and no GET uses them (so that the
    // values they would store are not needed).
    if (index > static_cast<uint64_t>(offset) + at + kMemoSlack) return false;
    if (one_pass_) {
      // Elided: a later GET of it finds nothing and starts the parse over.
      // Not where it would replace a stored entry (PUTs count up).
      if (static_cast<int64_t>(index) <= max_stored_index_) return false;
    } else if (!MemoUnused(index)) {
      return false;
    }
  }
  return true;
}

bool Unpickler::MemoUnusedSlow(uint64_t index) const {
  const auto next =
      std::lower_bound(used_sorted_.begin(), used_sorted_.end(), index);
  if (next != used_sorted_.end() && *next == index) return false;
  unused_end_ = next == used_sorted_.end() ? ~uint64_t{0} : *next;
  unused_begin_ = next == used_sorted_.begin() ? 0 : *(next - 1) + 1;
  return true;
}

uint64_t Unpickler::ScalarBits(const char* rest) const {
  uint64_t bits;
  std::memcpy(&bits, rest + scalar_layout_.prefix_len - 1, 8);
  if (scalar_big_endian_) bits = __builtin_bswap64(bits);
  return bits;
}

uint32_t Unpickler::IntNode(int64_t v) {
  if (v < 0 || v >= kSmallInts) return AddInt(v);
  // One node per small value (ints are immutable, and no GET can reach this
  // one): the nodes stay few and in the caches.
  if (small_ints_.empty()) small_ints_.assign(kSmallInts, kNoNode);
  uint32_t& node = small_ints_[v];
  if (node == kNoNode) {
    node = AddInt(v);
    small_ints_made_.push_back(static_cast<uint32_t>(v));
  }
  return node;
}

void Unpickler::PushLaidOutScalar(const char* rest) {
  const uint64_t bits = ScalarBits(rest);
  stack_.push_back(scalar_int_ ? IntNode(static_cast<int64_t>(bits))
                               : AddNode(PickleKind::kFloat, 0, 0, bits));
  memo_count_ += scalar_layout_.num_puts;
}

bool Unpickler::ScalarCallAt(uint8_t op, const char* rest, size_t n,
                             int64_t offset) {
  if (scalar_layout_.valid && SameScalarLayout(scalar_layout_, op, rest, n)) {
    return PutsElidable(rest, offset);
  }
  // A call of another layout (or none yet): matched and checked in full.
  ScalarCall call;
  if (!MatchScalarCall(op, rest, n, &call)) return false;
  // The callable: numpy.(_)core.multiarray.scalar.
  const uint32_t callable = MemoNode(call.callable);
  if (callable == kNoNode || N(callable).kind != PickleKind::kGlobal ||
      store_->globals[N(callable).payload].id != GlobalId::kScalar) {
    return false;
  }
  // The dtype: a supported int64 or float64.
  const uint32_t dtype = MemoNode(call.dtype);
  if (dtype == kNoNode || N(dtype).kind != PickleKind::kObject) return false;
  const int32_t d = store_->objects[N(dtype).payload].dtype;
  if (d < 0) return false;
  const Store::Dtype& type = store_->dtypes[d];
  if (!type.problem.empty() ||
      (type.type != NumpyType::kInt64 && type.type != NumpyType::kFloat64)) {
    return false;
  }
  const ScalarLayout previous = scalar_layout_;
  const bool previous_int = scalar_int_, previous_big = scalar_big_endian_;
  scalar_layout_ = LayoutOf(op, rest, call);
  scalar_int_ = type.type == NumpyType::kInt64;
  scalar_big_endian_ = type.big_endian;
  if (!PutsElidable(rest, offset)) {
    scalar_layout_ = previous;
    scalar_int_ = previous_int;
    scalar_big_endian_ = previous_big;
    return false;
  }
  return true;
}

bool Unpickler::FastScalar() {
  in_->Ensure(kMaxScalarCallBytes);  // fewer near the end: matched on those
  if (!ScalarCallAt(op_, in_->cur(), in_->available(), op_offset_)) {
    return false;
  }
  PushLaidOutScalar(in_->cur());
  in_->Advance(scalar_layout_.length - 1);
  // The rest of the run: calls of the same layout, one after the other.
  const uint8_t first = static_cast<uint8_t>(scalar_layout_.prefix[0]);
  while (store_->nodes.size() <= kMaxNodes &&
         in_->Ensure(scalar_layout_.length) &&
         static_cast<uint8_t>(*in_->cur()) == first &&
         SameScalarLayout(scalar_layout_, first, in_->cur() + 1,
                          in_->available() - 1) &&
         PutsElidable(in_->cur() + 1, in_->offset())) {
    PushLaidOutScalar(in_->cur() + 1);
    in_->Advance(scalar_layout_.length);
  }
  return true;
}

bool Unpickler::PackedAppends() {
  if (stack_.size() == Floor()) return false;
  const uint32_t list = stack_.back();
  // A list of nodes, or one a streamed item begun after it (APPENDS would
  // mark the item unsafe) is left to the opcodes.
  if (N(list).kind != PickleKind::kList ||
      !store_->lists[N(list).payload].nodes.empty() ||
      (stream_.active && list < stream_.node)) {
    return false;
  }
  std::vector<int64_t>& run = packed_run_;
  run.clear();
  while (true) {
    in_->Ensure(kMaxScalarCallBytes);  // fewer near the end: matched on those
    if (in_->available() == 0) break;
    const uint8_t op = static_cast<uint8_t>(*in_->cur());
    if ((op != kBinGet && op != kLongBinGet) ||
        !ScalarCallAt(op, in_->cur() + 1, in_->available() - 1,
                      in_->offset()) ||
        !scalar_int_) {
      break;
    }
    // The run of this layout.
    const size_t length = scalar_layout_.length;
    const int num_puts = scalar_layout_.num_puts;
    do {
      run.push_back(static_cast<int64_t>(ScalarBits(in_->cur() + 1)));
      memo_count_ += num_puts;
      in_->Advance(length);
    } while ((in_->Ensure(kScalarCompareBytes)
                  ? SameScalarCall(scalar_layout_, in_->cur())
                  : in_->Ensure(length) &&
                        static_cast<uint8_t>(*in_->cur()) == op &&
                        SameScalarLayout(scalar_layout_, op, in_->cur() + 1,
                                         in_->available() - 1)) &&
             PutsElidable(in_->cur() + 1, in_->offset()));
  }
  if (run.empty()) return false;
  if (in_->Ensure(1) && static_cast<uint8_t>(*in_->cur()) == kAppends) {
    in_->Advance(1);  // appended: they stay packed
    // Into the arena, after the list's earlier values (a list of several
    // APPENDS is copied once per batch).
    absl::Span<const int64_t>& ints = store_->lists[N(list).payload].ints;
    int64_t* const to = reinterpret_cast<int64_t*>(
        store_->arena.Allocate((ints.size() + run.size()) * sizeof(int64_t)));
    std::copy(ints.begin(), ints.end(), to);
    std::copy(run.begin(), run.end(), to + ints.size());
    ints = absl::Span<const int64_t>(to, ints.size() + run.size());
    return true;
  }
  // Not appended at once: on the stack above the MARK, as the opcodes one by
  // one leave them.
  marks_.push_back(stack_.size());
  for (int64_t v : run) stack_.push_back(IntNode(v));
  return true;
}

}  // namespace pickle_internal
}  // namespace elm
