// Streaming one long list (UnpickleOptions::stream_list_key; pickle_internal
// and pickle.h): the scan of the opcodes for the memo entries that GETs use,
// the detection of the streamed list's items, and the roll-back of a consumed
// item's storage.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "io/pickle.h"
#include "io/pickle_input.h"
#include "io/pickle_internal.h"

namespace elm {
namespace pickle_internal {

// ---- The scan ----

void Unpickler::ScanGets(Input* in) {
  std::vector<bool> used;
  std::vector<uint64_t> used_list;  // the indices set in `used`
  ScalarLayout layout;              // of the last numpy scalar stepped over
  auto use = [&](uint64_t index) {
    if (index > static_cast<uint64_t>(in->offset()) + kMemoSlack) return false;
    if (index >= used.size()) used.resize(index + 1 + used.size() / 2, false);
    if (!used[index]) used_list.push_back(index);
    used[index] = true;
    return true;
  };
  // Steps over n bytes of argument; reads up to 8 bytes of length.
  auto skip = [&](uint64_t n) {
    return n <= static_cast<uint64_t>(std::max<int64_t>(in->remaining(), 0)) &&
           in->Skip(n);
  };
  auto length = [&](int n, uint64_t* v) {
    if (!in->Ensure(n)) return false;
    *v = LoadLittle(in->cur(), n);
    in->Advance(n);
    return true;
  };
  auto line = [&](absl::string_view* text) {
    return in->ReadLine(text) == Input::Line::kOk;
  };
  while (true) {
    if (!in->Ensure(1)) return;
    const uint8_t op = static_cast<uint8_t>(*in->cur());
    in->Advance(1);
    uint64_t n = 0;
    absl::string_view text;
    bool ok = true;
    switch (op) {
      case kStop:
        gets_known_ = true;
        used_memo_ = std::move(used);
        std::sort(used_list.begin(), used_list.end());
        used_sorted_ = std::move(used_list);
        used_memo_nodes_.assign(used_memo_.size(), kNoNode);
        return;
      case kMark:
      case kPop:
      case kPopMark:
      case kDup:
      case kNoneOp:
      case kBinPersId:
      case kReduce:
      case kAppend:
      case kBuild:
      case kDict:
      case kEmptyDict:
      case kAppends:
      case kList:
      case kEmptyList:
      case kObj:
      case kSetItem:
      case kTuple:
      case kEmptyTuple:
      case kSetItems:
      case kNewObj:
      case kTuple1:
      case kTuple2:
      case kTuple3:
      case kNewTrue:
      case kNewFalse:
      case kEmptySet:
      case kAddItems:
      case kFrozenSet:
      case kNewObjEx:
      case kStackGlobal:
        break;
      case kProto:
      case kBinInt1:
      case kBinPut:
      case kExt1:
        ok = skip(1);
        break;
      case kBinInt2:
      case kExt2:
        ok = skip(2);
        break;
      case kBinInt:
      case kLongBinPut:
      case kExt4:
        ok = skip(4);
        break;
      case kBinFloat:
        ok = skip(8);
        break;
      case kBinGet:
      case kLongBinGet: {
        // A numpy scalar whose GETs are known already: stepped over at once.
        // A run of them: the calls of the last one's layout (whose GETs
        // are the same) follow one another.
        in->Ensure(kMaxScalarCallBytes);
        if (layout.valid &&
            SameScalarLayout(layout, op, in->cur(), in->available())) {
          in->Advance(layout.length - 1);
          while (in->Ensure(kScalarCompareBytes)
                     ? SameScalarCall(layout, in->cur())
                     : in->Ensure(layout.length) &&
                           static_cast<uint8_t>(*in->cur()) == op &&
                           SameScalarLayout(layout, op, in->cur() + 1,
                                            in->available() - 1)) {
            in->Advance(layout.length);
          }
          break;
        }
        ScalarCall call;
        if (MatchScalarCall(op, in->cur(), in->available(), &call) &&
            call.callable < used.size() && used[call.callable] &&
            call.dtype < used.size() && used[call.dtype]) {
          layout = LayoutOf(op, in->cur(), call);
          in->Advance(call.length - 1);
          break;
        }
        ok = length(op == kBinGet ? 1 : 4, &n) && use(n);
        break;
      }
      case kShortBinString:
      case kShortBinBytes:
      case kShortBinUnicode:
      case kLong1:
        ok = length(1, &n) && skip(n);
        break;
      case kBinString:
      case kBinBytes:
      case kBinUnicode:
      case kLong4:
        ok = length(4, &n) && skip(n);
        break;
      case kBinUnicode8:
      case kBinBytes8:
      case kByteArray8:
        ok = length(8, &n) && skip(n);
        break;
      case kFloatText:
      case kIntText:
      case kLongText:
      case kStringText:
      case kUnicodeText:
      case kPersId:
      case kPut:
        ok = line(&text);
        break;
      case kGet:
        ok = line(&text) && absl::SimpleAtoi(text, &n) && use(n);
        break;
      case kGlobal:
      case kInst:
        ok = line(&text) && line(&text);
        break;
      default:  // MEMOIZE, FRAME, buffers, unknown: no sparse memo
        return;
    }
    if (!ok) return;
  }
}

// ---- The streamed items ----

std::optional<PickleValue> Unpickler::StackValue(absl::string_view key) const {
  for (size_t j = 0; j + 1 < stack_.size(); ++j) {
    const Node& n = N(stack_[j]);
    if ((n.kind == PickleKind::kStr || n.kind == PickleKind::kBytes) &&
        !(n.flags & kDeferred) && store_->StringOf(n) == key) {
      return store_->Value(stack_[j + 1]);
    }
  }
  return std::nullopt;
}

absl::Status Unpickler::BeforeEmptyDict() {
  const size_t pos = stack_.size();
  size_t index = 0;
  uint32_t list = kNoNode;
  if (stream_.active) {
    // Only the next sibling of the item matters (a dict is never a key, so
    // a dict right above the item, outside any MARK above it, is one).
    if (pos != stream_.pos + 1 || stack_[stream_.pos] != stream_.node ||
        Floor() > stream_.pos) {
      return absl::OkStatus();
    }
    index = stream_.index + 1;
    list = stream_.list;
    if (absl::Status s = CompleteStreamItem(); !s.ok()) return s;
  } else {
    // The first item above the list (after its MARK, or for APPEND).
    if (pos < 2 || Floor() > pos) return absl::OkStatus();
    list = stack_[pos - 1];
    const Node& key = N(stack_[pos - 2]);
    if (N(list).kind != PickleKind::kList ||
        (key.kind != PickleKind::kStr && key.kind != PickleKind::kBytes) ||
        (key.flags & kDeferred) ||
        store_->StringOf(key) != options_.stream_list_key) {
      return absl::OkStatus();
    }
    index = store_->lists[N(list).payload].size();
  }
  stream_ = StreamItem();
  stream_.active = true;
  stream_.node = static_cast<uint32_t>(store_->nodes.size());
  stream_.pos = pos;
  stream_.index = index;
  stream_.list = list;
  stream_.lists = store_->lists.size();
  stream_.dicts = store_->dicts.size();
  stream_.globals = store_->globals.size();
  stream_.objects = store_->objects.size();
  stream_.dtypes = store_->dtypes.size();
  stream_.arrays = store_->arrays.size();
  stream_.deferred = deferred_.size();
  stream_.arena = store_->arena.GetMark();
  return absl::OkStatus();
}

absl::Status Unpickler::BeforeAppend(uint32_t list, size_t start, size_t end) {
  // Lists inside the item are its own business.
  if (!stream_.active || list >= stream_.node) return absl::OkStatus();
  // The item must be the last one appended, so that nothing after it
  // survives its roll-back.
  if (list != stream_.list || end != stream_.pos + 1 || stream_.pos < start ||
      stack_[stream_.pos] != stream_.node) {
    stream_.unsafe = true;
    return absl::OkStatus();
  }
  return CompleteStreamItem();
}

absl::Status Unpickler::CompleteStreamItem() {
  stream_.active = false;
  const StreamItem item = stream_;
  if (item.unsafe || !gets_known_) return absl::OkStatus();
  // A value of the item a later GET may use: keep it.
  if (any_memo_stored_ && max_memo_node_ >= item.node) {
    return absl::OkStatus();
  }
  // Every value the consumer can reach must be complete now: no deferred
  // string (read at STOP) outside the skip keys.
  std::vector<uint32_t> todo = {item.node};
  std::vector<bool> seen(store_->nodes.size(), false);
  while (!todo.empty()) {
    const uint32_t i = todo.back();
    todo.pop_back();
    if (i == kNoNode || seen[i]) continue;
    seen[i] = true;
    const Node& n = N(i);
    switch (n.kind) {
      case PickleKind::kStr:
      case PickleKind::kBytes:
        if (n.flags & kDeferred) return absl::OkStatus();
        break;
      case PickleKind::kTuple:
        for (uint32_t k = 0; k < n.size; ++k) {
          todo.push_back(store_->TupleItems(n)[k]);
        }
        break;
      case PickleKind::kList:
        // Numbers only (most of a NeuronIO item): nothing to visit.
        if (n.payload >= list_has_other_.size() ||
            !list_has_other_[n.payload]) {
          break;
        }
        for (uint32_t v : store_->lists[n.payload].nodes) {
          // Numbers (most of a NeuronIO item) need no visit.
          const PickleKind k = N(v).kind;
          if (k != PickleKind::kInt && k != PickleKind::kFloat) {
            todo.push_back(v);
          }
        }
        break;
      case PickleKind::kDict: {
        const Store::Dict& d = store_->dicts[n.payload];
        for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
          todo.push_back(d.items[k]);
          if (!IsSkipKey(d.items[k])) todo.push_back(d.items[k + 1]);
        }
        todo.push_back(d.state);
        break;
      }
      case PickleKind::kObject: {
        const Store::Object& o = store_->objects[n.payload];
        todo.push_back(o.callable);
        todo.push_back(o.args);
        todo.push_back(o.state);
        break;
      }
      case PickleKind::kNdArray: {
        const NdArray& a = store_->arrays[n.payload];
        if (a.pending_data_ != kNoNode || (!a.built_ && a.num_elements_ != 0)) {
          return absl::OkStatus();
        }
        break;
      }
      case PickleKind::kPersistentId:
        todo.push_back(static_cast<uint32_t>(n.payload));
        break;
      default:
        break;
    }
  }
  const auto lookup = [this](absl::string_view key) { return StackValue(key); };
  if (!options_.stream_item(item.index, store_->Value(item.node), lookup)) {
    return absl::OkStatus();
  }
  // Consumed: None in its place, and its storage rolled back.
  scalar_layout_.valid = false;
  stack_[item.pos] = kNoneNode;
  for (size_t k = item.deferred; k < deferred_.size(); ++k) {
    store_->unread_bytes += N(deferred_[k]).size;
  }
  deferred_.resize(item.deferred);
  store_->nodes.TruncateTo(item.node);
  store_->lists.resize(item.lists);
  if (list_has_other_.size() > item.lists) list_has_other_.resize(item.lists);
  store_->dicts.resize(item.dicts);
  store_->globals.resize(item.globals);
  store_->objects.resize(item.objects);
  store_->dtypes.resize(item.dtypes);
  store_->arrays.resize(item.arrays);
  store_->arena.RollBack(item.arena);
  // The shared small ints made inside the item are gone with it.
  size_t kept = 0;
  for (uint32_t v : small_ints_made_) {
    if (small_ints_[v] >= item.node) {
      small_ints_[v] = kNoNode;
    } else {
      small_ints_made_[kept++] = v;
    }
  }
  small_ints_made_.resize(kept);
  return absl::OkStatus();
}

}  // namespace pickle_internal
}  // namespace elm
