// The pickle reader (pickle.h): PickleValue's accessors, Pickle and the entry
// points ParsePickle and ReadPickleFile. The parse is the Unpickler of
// pickle_internal.h (pickle_vm.cc, pickle_numpy.cc, pickle_strings.cc) over
// the input of pickle_input.h; the printing is in pickle_debug.cc. (No
// pickle.cc: the sources include pickle_internal.h, which includes pickle.h.)
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "glog/logging.h"
#include "io/pickle.h"
#include "io/pickle_input.h"
#include "io/pickle_internal.h"

namespace elm {

using pickle_internal::kDeferred;
using pickle_internal::Node;
using pickle_internal::Store;

// ---- PickleValue ----

namespace {
// The node of a value (by value: an immediate int has none in the store).
Node NodeOf(const Store* store, uint32_t i, int64_t immediate) {
  CHECK(store != nullptr) << "use of a default-constructed PickleValue";
  if (i == pickle_internal::kImmediateInt) {
    return Node{PickleKind::kInt, 0, 0, 0, static_cast<uint64_t>(immediate)};
  }
  return store->node(i);
}
}  // namespace

PickleValue PickleValue::Immediate(const Store* store, int64_t v) {
  PickleValue value(store, pickle_internal::kImmediateInt);
  value.int_ = v;
  return value;
}

PickleKind PickleValue::kind() const {
  return NodeOf(store_, node_, int_).kind;
}

bool PickleValue::is_number() const {
  const PickleKind k = kind();
  return k == PickleKind::kInt || k == PickleKind::kFloat ||
         k == PickleKind::kBool;
}

bool PickleValue::AsBool() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kBool) << "AsBool() on " << TypeName();
  return n.payload != 0;
}

int64_t PickleValue::AsInt() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kInt) << "AsInt() on " << TypeName();
  return static_cast<int64_t>(n.payload);
}

double PickleValue::AsFloat() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kFloat) << "AsFloat() on " << TypeName();
  double v;
  std::memcpy(&v, &n.payload, 8);
  return v;
}

double PickleValue::AsNumber() const {
  const Node n = NodeOf(store_, node_, int_);
  if (n.kind == PickleKind::kFloat) return AsFloat();
  CHECK(n.kind == PickleKind::kInt || n.kind == PickleKind::kBool)
      << "AsNumber() on " << TypeName();
  return static_cast<double>(static_cast<int64_t>(n.payload));
}

absl::string_view PickleValue::AsString() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kStr || n.kind == PickleKind::kBytes)
      << "AsString() on " << TypeName();
  CHECK(!(n.flags & kDeferred)) << "AsString() on a skipped " << TypeName();
  // (An inline string's bytes are in its node in the store: not a copy's.)
  return store_->StringOf(store_->node(node_));
}

bool PickleValue::is_skipped() const {
  const Node n = NodeOf(store_, node_, int_);
  return (n.kind == PickleKind::kStr || n.kind == PickleKind::kBytes) &&
         (n.flags & kDeferred);
}

size_t PickleValue::size() const {
  const Node n = NodeOf(store_, node_, int_);
  switch (n.kind) {
    case PickleKind::kTuple:
    case PickleKind::kStr:
    case PickleKind::kBytes:
      return n.size;
    case PickleKind::kList:
      return store_->lists[n.payload].size();
    case PickleKind::kDict:
      return store_->dicts[n.payload].items.size() / 2;
    default:
      LOG(FATAL) << "size() on " << TypeName();
  }
  return 0;
}

PickleValue PickleValue::item(size_t i) const {
  const Node n = NodeOf(store_, node_, int_);
  if (n.kind == PickleKind::kTuple) {
    CHECK_LT(i, n.size) << "item() past the end of a tuple";
    return PickleValue(store_, store_->TupleItems(n)[i]);
  }
  CHECK(n.kind == PickleKind::kList) << "item() on " << TypeName();
  const Store::List& list = store_->lists[n.payload];
  CHECK_LT(i, list.size()) << "item() past the end of a list";
  if (!list.ints.empty()) return Immediate(store_, list.ints[i]);
  return PickleValue(store_, list.nodes[i]);
}

size_t PickleValue::AppendLeadingInts(std::vector<int64_t>* out) const {
  const Node n = NodeOf(store_, node_, int_);
  const uint32_t* items;
  size_t count;
  if (n.kind == PickleKind::kTuple) {
    items = store_->TupleItems(n);
    count = n.size;
  } else {
    CHECK(n.kind == PickleKind::kList)
        << "AppendLeadingInts() on " << TypeName();
    const Store::List& list = store_->lists[n.payload];
    if (!list.ints.empty()) {
      out->insert(out->end(), list.ints.begin(), list.ints.end());
      return list.ints.size();
    }
    items = list.nodes.data();
    count = list.nodes.size();
  }
  out->reserve(out->size() + count);
  for (size_t i = 0; i < count; ++i) {
    const Node& item = store_->node(items[i]);
    if (item.kind != PickleKind::kInt) return i;
    out->push_back(static_cast<int64_t>(item.payload));
  }
  return count;
}

std::optional<absl::Span<const int64_t>> PickleValue::PackedInts() const {
  const Node n = NodeOf(store_, node_, int_);
  if (n.kind != PickleKind::kList) return std::nullopt;
  const Store::List& list = store_->lists[n.payload];
  if (list.ints.empty()) return std::nullopt;
  return absl::Span<const int64_t>(list.ints);
}

PickleValue PickleValue::key(size_t i) const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kDict) << "key() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  CHECK_LT(2 * i, items.size()) << "key() past the end of a dict";
  return PickleValue(store_, items[2 * i]);
}

PickleValue PickleValue::value(size_t i) const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kDict) << "value() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  CHECK_LT(2 * i, items.size()) << "value() past the end of a dict";
  return PickleValue(store_, items[2 * i + 1]);
}

std::optional<PickleValue> PickleValue::Find(absl::string_view key) const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kDict) << "Find() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const Node& k = store_->node(items[i]);
    if ((k.kind == PickleKind::kStr || k.kind == PickleKind::kBytes) &&
        !(k.flags & kDeferred) && store_->StringOf(k) == key) {
      return PickleValue(store_, items[i + 1]);
    }
  }
  return std::nullopt;
}

std::optional<PickleValue> PickleValue::FindInt(int64_t key) const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kDict) << "FindInt() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const Node& k = store_->node(items[i]);
    if (k.kind == PickleKind::kInt && static_cast<int64_t>(k.payload) == key) {
      return PickleValue(store_, items[i + 1]);
    }
  }
  return std::nullopt;
}

absl::string_view PickleValue::global_module() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kGlobal) << "global_module() on " << TypeName();
  return store_->globals[n.payload].module;
}

absl::string_view PickleValue::global_name() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kGlobal) << "global_name() on " << TypeName();
  return store_->globals[n.payload].name;
}

bool PickleValue::IsGlobal(absl::string_view module,
                           absl::string_view name) const {
  return is_global() && global_module() == module && global_name() == name;
}

PickleObjectKind PickleValue::object_kind() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kObject) << "object_kind() on " << TypeName();
  return store_->objects[n.payload].kind;
}

PickleValue PickleValue::callable() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kObject) << "callable() on " << TypeName();
  return PickleValue(store_, store_->objects[n.payload].callable);
}

PickleValue PickleValue::args() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kObject) << "args() on " << TypeName();
  return PickleValue(store_, store_->objects[n.payload].args);
}

bool PickleValue::has_state() const {
  const Node n = NodeOf(store_, node_, int_);
  if (n.kind == PickleKind::kObject) {
    return store_->objects[n.payload].state != pickle_internal::kNoNode;
  }
  if (n.kind == PickleKind::kDict) {
    return store_->dicts[n.payload].state != pickle_internal::kNoNode;
  }
  return false;
}

PickleValue PickleValue::state() const {
  CHECK(has_state()) << "state() on " << TypeName() << " without state";
  const Node n = NodeOf(store_, node_, int_);
  return PickleValue(store_, n.kind == PickleKind::kObject
                                 ? store_->objects[n.payload].state
                                 : store_->dicts[n.payload].state);
}

const NdArray& PickleValue::array() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kNdArray) << "array() on " << TypeName();
  return store_->arrays[n.payload];
}

PickleValue PickleValue::persistent_id() const {
  const Node n = NodeOf(store_, node_, int_);
  CHECK(n.kind == PickleKind::kPersistentId)
      << "persistent_id() on " << TypeName();
  return PickleValue(store_, static_cast<uint32_t>(n.payload));
}

std::string PickleValue::TypeName() const {
  const Node n = NodeOf(store_, node_, int_);
  switch (n.kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return "bool";
    case PickleKind::kInt:
      return "int";
    case PickleKind::kFloat:
      return "float";
    case PickleKind::kStr:
      return "str";
    case PickleKind::kBytes:
      return "bytes";
    case PickleKind::kTuple:
      return absl::StrCat("tuple of ", size());
    case PickleKind::kList:
      return absl::StrCat("list of ", size());
    case PickleKind::kDict:
      return absl::StrCat("dict of ", size());
    case PickleKind::kGlobal:
      return absl::StrCat("global ", global_module(), ".", global_name());
    case PickleKind::kObject: {
      const PickleValue c = callable();
      return absl::StrCat(
          "object ", c.is_global()
                         ? absl::StrCat(c.global_module(), ".", c.global_name())
                         : c.TypeName());
    }
    case PickleKind::kNdArray:
      return array().Description();
    case PickleKind::kPersistentId:
      return "persistent id";
  }
  return "?";
}

// ---- Pickle ----

Pickle::Pickle(std::unique_ptr<pickle_internal::Store> store)
    : store_(std::move(store)) {}
Pickle::Pickle(Pickle&&) noexcept = default;
Pickle& Pickle::operator=(Pickle&&) noexcept = default;
Pickle::~Pickle() = default;

PickleValue Pickle::root() const { return store_->Value(store_->root); }
const std::string& Pickle::source_name() const { return store_->source_name; }
int64_t Pickle::num_nodes() const { return store_->nodes.size(); }
int64_t Pickle::num_memo_entries() const { return store_->memo_entries; }
int64_t Pickle::memo_capacity() const { return store_->memo_capacity; }
int64_t Pickle::num_unread_bytes() const { return store_->unread_bytes; }

absl::StatusOr<Pickle> ParsePickle(absl::string_view data,
                                   absl::string_view source_name,
                                   const UnpickleOptions& options) {
  if (!options.stream_list_key.empty()) {
    pickle_internal::Input input(data);
    pickle_internal::Unpickler one_pass(&input, source_name, options,
                                        pickle_internal::Unpickler::OnePass{});
    absl::StatusOr<Pickle> pickle = one_pass.Run();
    if (!one_pass.must_restart()) return pickle;
    if (options.stream_restart) options.stream_restart();
  }
  pickle_internal::Input input(data);
  pickle_internal::Input scan(data);
  return pickle_internal::Unpickler(&input, &scan, source_name, options).Run();
}

absl::StatusOr<Pickle> ReadPickleFile(const std::string& path,
                                      const UnpickleOptions& options) {
  absl::StatusOr<std::unique_ptr<pickle_internal::Input>> input =
      pickle_internal::Input::Open(path);
  if (!input.ok()) return input.status();
  if (options.stream_list_key.empty()) {
    return pickle_internal::Unpickler(input->get(), path, options).Run();
  }
  {
    pickle_internal::Unpickler one_pass(input->get(), path, options,
                                        pickle_internal::Unpickler::OnePass{});
    absl::StatusOr<Pickle> pickle = one_pass.Run();
    if (!one_pass.must_restart()) return pickle;
  }
  // Again, with the scan of the memo GETs: a second reader of the file for
  // it (streaming goes on without it if it cannot be opened).
  if (options.stream_restart) options.stream_restart();
  input = pickle_internal::Input::Open(path);
  if (!input.ok()) return input.status();
  std::unique_ptr<pickle_internal::Input> scan;
  absl::StatusOr<std::unique_ptr<pickle_internal::Input>> second =
      pickle_internal::Input::Open(path);
  if (second.ok()) scan = *std::move(second);
  return pickle_internal::Unpickler(input->get(), scan.get(), path, options)
      .Run();
}

}  // namespace elm
