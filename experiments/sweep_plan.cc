// Sweep grids: reading, expansion, naming, validation and variant state (see
// sweep_plan.h).
#include "experiments/sweep_plan.h"

#include <sys/stat.h>

#include <cctype>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/text_proto.h"
#include "base/user_path.h"
#include "experiments/json_output.h"
#include "experiments/spec.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace elm {
namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool IsNameChar(char c, bool allow_dash) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         (allow_dash && c == '-');
}

absl::Status CheckName(absl::string_view what, const std::string& name,
                       bool allow_dash) {
  bool ok = !name.empty();
  for (char c : name) ok = ok && IsNameChar(c, allow_dash);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " = '", name, "'; expected letters, digits",
        allow_dash ? ", '_' and '-'" : " and '_'", " (not empty)"));
  }
  return absl::OkStatus();
}

// A value as it appears in a variant name: '.' becomes 'p' ("5e-4" stays,
// "0.5" is "0p5"), other characters outside [A-Za-z0-9_-] become '_'.
std::string ValueLabel(const std::string& value) {
  std::string label;
  for (char c : value) {
    if (IsNameChar(c, /*allow_dash=*/true)) {
      label += c;
    } else if (c == '.') {
      label += 'p';
    } else {
      label += '_';
    }
  }
  return label;
}

// The axes of `sweep` as SweepAxisInfo, checked.
absl::StatusOr<std::vector<SweepAxisInfo>> ReadAxes(const SweepSpec& sweep) {
  std::vector<SweepAxisInfo> axes;
  std::set<std::string> names;
  for (int a = 0; a < sweep.axes_size(); ++a) {
    const SweepAxis& axis = sweep.axes(a);
    SweepAxisInfo info;
    info.field = axis.field();
    const std::string where = absl::StrCat(
        "axes[", a, "]", axis.has_field() ? " (" + axis.field() + ")" : "");
    if (axis.overlays_size() > 0) {
      if (axis.has_field() || axis.values_size() > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": set either field and values, or overlays"));
      }
      info.name = axis.has_name() ? axis.name() : "variant";
      std::set<std::string> overlay_names;
      for (const SweepOverlay& o : axis.overlays()) {
        RETURN_IF_ERROR(CheckName(absl::StrCat(where, " overlay name"),
                                  o.name(), /*allow_dash=*/false));
        if (!overlay_names.insert(o.name()).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": overlay '", o.name(), "' twice"));
        }
        info.values.push_back(o.name());
      }
    } else {
      if (axis.field().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where,
                         ": no field (a path such as "
                         "model.elm.num_memory) and no overlays"));
      }
      if (axis.values_size() == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": field '", axis.field(), "' has no values"));
      }
      const size_t dot = axis.field().rfind('.');
      info.name = axis.has_name() ? axis.name()
                                  : (dot == std::string::npos
                                         ? axis.field()
                                         : axis.field().substr(dot + 1));
      std::set<std::string> labels;
      for (const std::string& v : axis.values()) {
        if (!labels.insert(ValueLabel(v)).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": value '", v, "' appears twice (as '",
                           ValueLabel(v), "' in variant names)"));
        }
        info.values.push_back(v);
      }
    }
    RETURN_IF_ERROR(CheckName(absl::StrCat(where, " name"), info.name,
                              /*allow_dash=*/false));
    if (!names.insert(info.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": axis name '", info.name,
                       "' is used twice; give one axis a `name`"));
    }
    axes.push_back(std::move(info));
  }
  return axes;
}

int FindAxis(const std::vector<SweepAxisInfo>& axes, const std::string& name) {
  for (size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].name == name) return static_cast<int>(a);
  }
  return -1;
}

// Applies value `value_index` of axis `a` to `spec`; errors name the axis and
// the value.
absl::Status ApplyAxisValue(const SweepSpec& sweep, int a, int value_index,
                            const SweepAxisInfo& info, ExperimentSpec* spec) {
  const SweepAxis& axis = sweep.axes(a);
  std::vector<std::string> assignments;
  if (axis.overlays_size() > 0) {
    for (const std::string& s : axis.overlays(value_index).set()) {
      assignments.push_back(s);
    }
  } else {
    assignments.push_back(
        absl::StrCat(axis.field(), "=", axis.values(value_index)));
  }
  for (const std::string& s : assignments) {
    if (absl::Status st = ApplySpecOverride(s, spec); !st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("axis '", info.name, "' value '",
                       info.values[value_index], "': ", st.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SweepSpec> ReadSweepSpecFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, "sweep"));
  SweepSpec sweep;
  if (absl::Status s = ParseTextProto(text, &sweep); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sweep '", path,
        "' is not a valid elm.SweepSpec text proto: ", s.message()));
  }
  if (sweep.has_spec_file()) {
    std::string spec_path = sweep.spec_file();
    if (spec_path.empty() || spec_path[0] != '/') {
      spec_path = absl::StrCat(DirectoryOf(path), "/", spec_path);
    }
    absl::StatusOr<ExperimentSpec> base = ReadExperimentSpecFile(spec_path);
    if (!base.ok()) {
      return absl::Status(base.status().code(),
                          absl::StrCat("sweep '", path, "': spec_file: ",
                                       base.status().message()));
    }
    *sweep.mutable_spec() = *std::move(base);
  }
  return sweep;
}

absl::StatusOr<SweepPlan> PlanSweep(const SweepSpec& sweep,
                                    const std::string& output_dir) {
  RETURN_IF_ERROR(CheckName("name", sweep.name(), /*allow_dash=*/true));
  if (!sweep.has_spec()) {
    return absl::InvalidArgumentError(
        "no base spec: set `spec { ... }` or `spec_file`");
  }
  SweepPlan plan;
  plan.sweep = sweep;
  plan.output_dir =
      !output_dir.empty()
          ? output_dir
          : ResolveUserPath(sweep.has_output_dir() ? sweep.output_dir()
                                                   : "runs/" + sweep.name());
  ASSIGN_OR_RETURN(plan.axes, ReadAxes(sweep));
  if (sweep.has_seed_axis()) {
    plan.seed_axis = FindAxis(plan.axes, sweep.seed_axis());
    if (plan.seed_axis < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("seed_axis = '", sweep.seed_axis(), "': no such axis"));
    }
  } else {
    for (size_t a = 0; a < plan.axes.size(); ++a) {
      if (plan.axes[a].field == "train.seed") plan.seed_axis = a;
    }
  }
  if (sweep.has_x_axis()) {
    plan.x_axis = FindAxis(plan.axes, sweep.x_axis());
    if (plan.x_axis < 0 || plan.x_axis == plan.seed_axis) {
      return absl::InvalidArgumentError(
          absl::StrCat("x_axis = '", sweep.x_axis(),
                       "': no such axis (other than the ", "seed axis)"));
    }
  } else {
    for (size_t a = 0; a < plan.axes.size() && plan.x_axis < 0; ++a) {
      if (static_cast<int>(a) != plan.seed_axis &&
          !plan.axes[a].field.empty()) {
        plan.x_axis = a;
      }
    }
  }
  // The grid, the last axis fastest. Every axis value is applied (and so
  // checked) before any variant is validated.
  ExperimentSpec base = sweep.spec();
  base.clear_output_dir();
  std::vector<int> index(plan.axes.size(), 0);
  std::map<std::string, int> names;
  while (true) {
    SweepVariant v;
    v.value_index = index;
    v.spec = base;
    std::vector<std::string> parts;
    for (size_t a = 0; a < plan.axes.size(); ++a) {
      RETURN_IF_ERROR(
          ApplyAxisValue(sweep, a, index[a], plan.axes[a], &v.spec));
      const std::string& value = plan.axes[a].values[index[a]];
      parts.push_back(
          plan.axes[a].field.empty()
              ? value
              : absl::StrCat(plan.axes[a].name, "_", ValueLabel(value)));
    }
    v.name = parts.empty() ? "base" : absl::StrJoin(parts, "-");
    v.spec.set_name(absl::StrCat(sweep.name(), "-", v.name));
    v.spec.clear_output_dir();
    if (!names.emplace(v.name, plan.variants.size()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two variants are named '", v.name,
                       "'; give the axes values that differ in letters and "
                       "digits, or use overlays"));
    }
    plan.variants.push_back(std::move(v));
    int a = static_cast<int>(plan.axes.size()) - 1;
    while (a >= 0 &&
           ++index[a] == static_cast<int>(plan.axes[a].values.size())) {
      index[a--] = 0;
    }
    if (a < 0) break;
  }
  for (size_t i = 0; i < plan.variants.size(); ++i) {
    const SweepVariant& v = plan.variants[i];
    if (absl::Status s = ValidateSpec(v.spec); !s.ok()) {
      std::vector<std::string> values;
      for (size_t a = 0; a < plan.axes.size(); ++a) {
        values.push_back(
            absl::StrCat(plan.axes[a].name, " = ", plan.Value(i, a)));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("variant '", v.name, "' (", absl::StrJoin(values, ", "),
                       "): ", s.message()));
    }
  }
  return plan;
}

std::string VariantDir(const SweepPlan& plan, int index) {
  return absl::StrCat(plan.output_dir, "/", plan.variants[index].name);
}

VariantState GetVariantState(const std::string& dir,
                             const ExperimentSpec& spec) {
  absl::StatusOr<std::string> text =
      ReadFileToString(dir + "/spec.textproto", "spec");
  if (!text.ok()) return VariantState::kNew;
  absl::StatusOr<ExperimentSpec> saved =
      ParseExperimentSpecText(*text, dir + "/spec.textproto");
  if (!saved.ok()) return VariantState::kNew;
  ExperimentSpec now = spec;
  saved->clear_output_dir();
  now.clear_output_dir();
  if (!google::protobuf::util::MessageDifferencer::Equals(*saved, now)) {
    return VariantState::kNew;
  }
  if (FileExists(dir + "/summary.json")) return VariantState::kFinished;
  if (FileExists(dir + "/checkpoints/latest.ckpt")) {
    return VariantState::kPartial;
  }
  return VariantState::kNew;
}

absl::StatusOr<VariantSummary> ReadVariantSummary(const std::string& dir) {
  const std::string path = dir + "/summary.json";
  ASSIGN_OR_RETURN(const std::string json,
                   ReadFileToString(path, "run summary"));
  google::protobuf::Struct summary;
  if (auto s = google::protobuf::util::JsonStringToMessage(json, &summary);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a run summary: ", s.ToString()));
  }
  VariantSummary out;
  out.finished = true;
  const auto& fields = summary.fields();
  if (auto it = fields.find("num_parameters"); it != fields.end()) {
    out.num_parameters = static_cast<int64_t>(it->second.number_value());
  }
  if (auto it = fields.find("train_seconds"); it != fields.end()) {
    out.train_seconds = it->second.number_value();
  }
  if (auto it = fields.find("test"); it != fields.end()) {
    for (const auto& [name, value] : it->second.struct_value().fields()) {
      out.test_metrics[name] =
          value.kind_case() == google::protobuf::Value::kNumberValue
              ? value.number_value()
              : std::numeric_limits<double>::quiet_NaN();
    }
  }
  absl::StatusOr<std::string> extra =
      ReadFileToString(dir + "/sweep_variant.json", "sweep variant file");
  google::protobuf::Struct variant;
  if (extra.ok() &&
      google::protobuf::util::JsonStringToMessage(*extra, &variant).ok()) {
    if (auto it = variant.fields().find("wall_seconds");
        it != variant.fields().end()) {
      out.wall_seconds = it->second.number_value();
    }
  }
  return out;
}

absl::Status WriteVariantWallSeconds(const std::string& dir,
                                     double wall_seconds) {
  google::protobuf::Struct variant;
  (*variant.mutable_fields())["wall_seconds"] = JsonNumber(wall_seconds);
  ASSIGN_OR_RETURN(const std::string json, JsonText(variant));
  return WriteFileAtomically(dir + "/sweep_variant.json", json,
                             "sweep variant file");
}

}  // namespace elm
