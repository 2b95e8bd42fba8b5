// Streaming one long list (UnpickleOptions::stream_list_key; pickle_internal
// and pickle.h): the scan of the opcodes for the memo entries that GETs use
// (run where a single pass starts over), the detection of the streamed list's
// items, the roll-back of a consumed item's storage, and, in a single pass,
// the copies of the small values its memo entries hold (Survivors).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "io/pickle.h"
#include "io/pickle_input.h"
#include "io/pickle_internal.h"

namespace elm {
namespace pickle_internal {

// A node copied out: a reference to a node older than the item (kept as it
// is) or to another copy.
struct Unpickler::Survivor {
  struct Ref {
    bool copy = false;
    uint32_t id = kNoNode;  // a node, or an index into `nodes`
  };
  struct Copy {
    Node node;
    std::string bytes;  // a str/bytes not inline
    Store::Global global;
    Store::Object object;
    Ref callable, args, state;  // kObject
    bool has_dtype = false;
    Store::Dtype dtype;
    std::vector<Ref> items;  // kTuple
  };
  uint64_t index = 0;  // the memo entry
  std::vector<Copy> nodes;
  Ref root;
};

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
  std::vector<uint64_t> puts;  // (one pass) its memo entries
  puts.swap(item_puts_);
  if (item.unsafe || !gets_known_) return absl::OkStatus();
  // A value of the item a later GET may use: keep it. (A single pass keeps
  // copies of the small ones, below.)
  if (!one_pass_ && any_memo_stored_ && max_memo_node_ >= item.node) {
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
  std::vector<Survivor> survivors;
  if (one_pass_) {
    item_puts_.swap(puts);
    survivors = TakeSurvivors(item.node);
    item_puts_.clear();
  }
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
  if (one_pass_) RestoreSurvivors(survivors);
  return absl::OkStatus();
}

// ---- The single pass: the small values of a consumed item ----

std::vector<Unpickler::Survivor> Unpickler::TakeSurvivors(uint32_t first) {
  std::vector<Survivor> out;
  for (uint64_t index : item_puts_) {
    const auto it = memo_map_.find(index);
    if (it == memo_map_.end() || it->second < first) continue;
    Survivor survivor;
    survivor.index = index;
    // Copies node i (copied[i]: its copy, or kBusy while its children are
    // copied, which a cycle meets).
    constexpr uint32_t kBusy = kNoNode;
    absl::flat_hash_map<uint32_t, uint32_t> copied;
    std::function<bool(uint32_t, Survivor::Ref*)> copy =
        [&](uint32_t i, Survivor::Ref* ref) {
          if (i == kNoNode || i < first) {
            *ref = Survivor::Ref{false, i};
            return true;
          }
          const auto seen = copied.find(i);
          if (seen != copied.end()) {
            if (seen->second == kBusy) return false;
            *ref = Survivor::Ref{true, seen->second};
            return true;
          }
          if (survivor.nodes.size() >= kSurvivorNodes) return false;
          copied[i] = kBusy;
          const Node n = N(i);
          Survivor::Copy c;
          c.node = n;
          switch (n.kind) {
            case PickleKind::kNone:
            case PickleKind::kBool:
            case PickleKind::kInt:
            case PickleKind::kFloat:
              break;
            case PickleKind::kStr:
            case PickleKind::kBytes:
              if ((n.flags & kDeferred) || n.size > kSurvivorBytes) {
                return false;
              }
              c.bytes = std::string(store_->StringOf(n));
              break;
            case PickleKind::kGlobal:
              c.global = store_->globals[n.payload];
              break;
            case PickleKind::kTuple:
              c.items.resize(n.size);
              for (uint32_t k = 0; k < n.size; ++k) {
                if (!copy(store_->TupleItems(n)[k], &c.items[k])) return false;
              }
              break;
            case PickleKind::kObject: {
              c.object = store_->objects[n.payload];
              if (!copy(c.object.callable, &c.callable) ||
                  !copy(c.object.args, &c.args) ||
                  !copy(c.object.state, &c.state)) {
                return false;
              }
              if (c.object.dtype >= 0) {
                c.has_dtype = true;
                c.dtype = store_->dtypes[c.object.dtype];
              }
              break;
            }
            default:  // lists, dicts, arrays, persistent ids: dropped
              return false;
          }
          const uint32_t at = static_cast<uint32_t>(survivor.nodes.size());
          copied[i] = at;
          survivor.nodes.push_back(std::move(c));
          *ref = Survivor::Ref{true, at};
          return true;
        };
    if (copy(it->second, &survivor.root)) {
      out.push_back(std::move(survivor));
    } else {
      memo_map_.erase(it);  // a later GET of it starts the parse over
    }
  }
  return out;
}

void Unpickler::RestoreSurvivors(const std::vector<Survivor>& survivors) {
  for (const Survivor& survivor : survivors) {
    // Copies come after their children (TakeSurvivors adds them so).
    std::vector<uint32_t> made(survivor.nodes.size(), kNoNode);
    auto node_of = [&](const Survivor::Ref& ref) {
      return ref.copy ? made[ref.id] : ref.id;
    };
    for (size_t k = 0; k < survivor.nodes.size(); ++k) {
      const Survivor::Copy& c = survivor.nodes[k];
      switch (c.node.kind) {
        case PickleKind::kStr:
        case PickleKind::kBytes:
          made[k] = AddString(c.node.kind, c.bytes);
          break;
        case PickleKind::kGlobal:
          store_->globals.push_back(c.global);
          made[k] =
              AddNode(PickleKind::kGlobal, 0, 0, store_->globals.size() - 1);
          break;
        case PickleKind::kTuple: {
          std::vector<uint32_t> items;
          for (const Survivor::Ref& ref : c.items)
            items.push_back(node_of(ref));
          made[k] = c.items.empty() ? kEmptyTupleNode
                                    : AddTuple(items.data(), items.size());
          break;
        }
        case PickleKind::kObject: {
          Store::Object object = c.object;
          object.callable = node_of(c.callable);
          object.args = node_of(c.args);
          object.state = node_of(c.state);
          if (c.has_dtype) {
            store_->dtypes.push_back(c.dtype);
            object.dtype = static_cast<int32_t>(store_->dtypes.size() - 1);
          }
          store_->objects.push_back(object);
          made[k] =
              AddNode(PickleKind::kObject, 0, 0, store_->objects.size() - 1);
          break;
        }
        default:
          made[k] =
              AddNode(c.node.kind, c.node.flags, c.node.size, c.node.payload);
          break;
      }
    }
    memo_map_[survivor.index] = node_of(survivor.root);
  }
}

}  // namespace pickle_internal
}  // namespace elm
