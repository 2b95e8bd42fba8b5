// StateDictReader and LoadParams: see state_dict.h.
#include "autodiff/state_dict.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "glog/logging.h"

namespace elm {

StateDictReader::StateDictReader(absl::Span<const NamedTensor> tensors,
                                 absl::string_view prefix,
                                 absl::string_view source)
    : tensors_(tensors),
      prefix_(prefix),
      source_(source),
      used_(tensors.size(), false) {}

const NamedTensor* StateDictReader::Find(absl::string_view name) {
  const std::string full = absl::StrCat(prefix_, name);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (tensors_[i].name == full) {
      used_[i] = true;
      return &tensors_[i];
    }
  }
  return nullptr;
}

absl::StatusOr<const NamedTensor*> StateDictReader::Require(
    absl::string_view name, absl::string_view why) {
  const NamedTensor* t = Find(name);
  if (t == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": missing tensor '", prefix_, name, "'", why));
  }
  return t;
}

absl::Status StateDictReader::Error(absl::string_view name,
                                    absl::string_view problem) const {
  return absl::InvalidArgumentError(
      absl::StrCat(source_, ": tensor '", name, "' ", problem));
}

absl::Status StateDictReader::CheckShape(const NamedTensor& t,
                                         absl::Span<const int64_t> want) const {
  if (absl::Span<const int64_t>(t.shape) != want) {
    return Error(t.name, absl::StrCat("has shape ", ShapeString(t.shape),
                                      "; expected ", ShapeString(want)));
  }
  const size_t held = t.is_floating() ? t.values.size() : t.int_values.size();
  if (static_cast<int64_t>(held) != t.num_elements()) {
    return Error(t.name, absl::StrCat("holds ", held, " values for shape ",
                                      ShapeString(t.shape)));
  }
  return absl::OkStatus();
}

absl::Status StateDictReader::CheckFloating(const NamedTensor& t) const {
  if (t.is_floating()) return absl::OkStatus();
  return Error(t.name,
               absl::StrCat("has dtype ", t.dtype, "; expected f32 or f64"));
}

absl::StatusOr<const NamedTensor*> StateDictReader::RequireFloating(
    absl::string_view name, absl::Span<const int64_t> want) {
  absl::StatusOr<const NamedTensor*> t = Require(name);
  if (!t.ok()) return t;
  if (absl::Status st = CheckShape(**t, want); !st.ok()) return st;
  if (absl::Status st = CheckFloating(**t); !st.ok()) return st;
  return t;
}

absl::Status StateDictReader::CheckAllUsed(absl::string_view what) const {
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (!used_[i] && absl::StartsWith(tensors_[i].name, prefix_)) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_, ": unexpected tensor '", tensors_[i].name, "'", what));
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status LoadParams(StateDictReader& reader, ParamSet<T>* params,
                        const ParamShapeFn& shape_of) {
  std::vector<const NamedTensor*> found(params->num_params(), nullptr);
  for (int id = 0; id < params->num_params(); ++id) {
    const ParamInfo& info = params->info(id);
    const std::vector<int64_t> shape = shape_of(info);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    CHECK_EQ(n, info.size())
        << "shape_of(" << info.name << ") is " << ShapeString(shape);
    absl::StatusOr<const NamedTensor*> t =
        reader.RequireFloating(info.name, shape);
    if (!t.ok()) return t.status();
    found[id] = *t;
  }
  for (int id = 0; id < params->num_params(); ++id) {
    View<T> v = params->value(id);
    for (int64_t i = 0; i < v.size(); ++i) {
      v[i] = static_cast<T>(found[id]->values[i]);
    }
  }
  return absl::OkStatus();
}

template absl::Status LoadParams<float>(StateDictReader&, ParamSet<float>*,
                                        const ParamShapeFn&);
template absl::Status LoadParams<double>(StateDictReader&, ParamSet<double>*,
                                         const ParamShapeFn&);

}  // namespace elm
