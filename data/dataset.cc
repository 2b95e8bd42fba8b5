// Batch helpers: see dataset.h.
#include "data/dataset.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace elm {

const char* SplitName(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kValid:
      return "valid";
    case Split::kTest:
      return "test";
  }
  return "?";
}

bool operator==(const Batch& a, const Batch& b) {
  return a.batch == b.batch && a.steps == b.steps && a.inputs == b.inputs &&
         a.spike == b.spike && a.soma == b.soma && a.labels == b.labels &&
         a.held_begin == b.held_begin && a.HeldEnd() == b.HeldEnd() &&
         a.nonzeros_before == b.nonzeros_before;
}

int64_t BatchSampler::HeldBegin(int64_t batch) const {
  return std::clamp<int64_t>(hold_begin_, 0, batch);
}

int64_t BatchSampler::HeldEnd(int64_t batch) const {
  return std::clamp<int64_t>(hold_end_, HeldBegin(batch), batch);
}

bool Batch::IsConsistent(std::string* why) const {
  const int64_t rows = batch * steps;
  if (inputs.rows != rows) {
    *why = absl::StrCat("inputs have ", inputs.rows,
                        " rows; expected B·T = ", rows);
    return false;
  }
  if (!inputs.IsConsistent(why)) return false;
  const bool per_step = !spike.empty() || !soma.empty();
  if (per_step && (static_cast<int64_t>(spike.size()) != rows ||
                   static_cast<int64_t>(soma.size()) != rows)) {
    *why = "spike/soma targets must have B·T entries";
    return false;
  }
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != batch) {
    *why = "labels must have B entries";
    return false;
  }
  if (held_begin < 0 || HeldEnd() < held_begin || HeldEnd() > batch ||
      nonzeros_before < 0) {
    *why = absl::StrCat("held sequences [", held_begin, ", ", HeldEnd(),
                        ") (nonzeros before: ", nonzeros_before,
                        ") do not fit B = ", batch);
    return false;
  }
  for (int64_t b = 0; b < batch; ++b) {
    if (b >= held_begin && b < HeldEnd()) continue;
    if (inputs.row_begin[b * steps] != inputs.row_begin[(b + 1) * steps]) {
      *why = absl::StrCat("sequence ", b, " is not held but has inputs");
      return false;
    }
  }
  return true;
}

bool IsHeldPartOf(const Batch& part, const Batch& whole, std::string* why) {
  if (!whole.HoldsAll()) {
    *why = "the whole batch does not hold every sequence";
    return false;
  }
  if (!part.IsConsistent(why)) return false;
  if (part.batch != whole.batch || part.steps != whole.steps ||
      part.input_dim() != whole.input_dim() || part.labels != whole.labels ||
      part.spike.size() != whole.spike.size() ||
      part.soma.size() != whole.soma.size()) {
    *why = "shapes or labels differ";
    return false;
  }
  const int64_t T = whole.steps;
  const int64_t h0 = part.held_begin, h1 = part.HeldEnd();
  const int64_t before = whole.inputs.row_begin[h0 * T];
  if (part.nonzeros_before != before) {
    *why = absl::StrCat("nonzeros_before is ", part.nonzeros_before,
                        "; the whole batch has ", before);
    return false;
  }
  for (int64_t b = 0; b < whole.batch; ++b) {
    const bool held = b >= h0 && b < h1;
    for (int64_t r = b * T; r < (b + 1) * T; ++r) {
      const int64_t wk = whole.inputs.row_begin[r];
      const int64_t wn = whole.inputs.row_begin[r + 1] - wk;
      const int64_t pk = part.inputs.row_begin[r];
      const int64_t pn = part.inputs.row_begin[r + 1] - pk;
      bool same = pn == (held ? wn : 0);
      for (int64_t i = 0; same && held && i < wn; ++i) {
        same = part.inputs.col[pk + i] == whole.inputs.col[wk + i] &&
               part.inputs.value[pk + i] == whole.inputs.value[wk + i];
      }
      if (!part.spike.empty()) {
        same = same && part.spike[r] == (held ? whole.spike[r] : 0.0f) &&
               part.soma[r] == (held ? whole.soma[r] : 0.0f);
      }
      if (!same) {
        *why = absl::StrCat("sequence ", b, (held ? " (held)" : " (not held)"),
                            " differs at row ", r);
        return false;
      }
    }
  }
  return true;
}

absl::Status CheckHeldParts(const Dataset& dataset, Split split, int batch_size,
                            uint64_t seed, int num_batches) {
  const int64_t third = batch_size / 3;
  const std::pair<int64_t, int64_t> parts[] = {
      {0, third}, {third, third}, {third, batch_size}};
  absl::StatusOr<std::unique_ptr<BatchSampler>> whole =
      dataset.MakeSampler(split, batch_size, seed);
  if (!whole.ok()) return whole.status();
  std::vector<std::unique_ptr<BatchSampler>> samplers;
  for (const auto& [begin, end] : parts) {
    absl::StatusOr<std::unique_ptr<BatchSampler>> s =
        dataset.MakeSampler(split, batch_size, seed);
    if (!s.ok()) return s.status();
    (*s)->HoldOnly(begin, end);
    samplers.push_back(*std::move(s));
  }
  for (int i = 0; i < num_batches; ++i) {
    absl::StatusOr<Batch> w = (*whole)->Next();
    if (!w.ok()) return w.status();
    int64_t held_nonzeros = 0;
    for (size_t p = 0; p < samplers.size(); ++p) {
      absl::StatusOr<Batch> b = samplers[p]->Next();
      if (!b.ok()) return b.status();
      std::string why;
      if (b->held_begin != parts[p].first || b->HeldEnd() != parts[p].second ||
          !IsHeldPartOf(*b, *w, &why)) {
        return absl::InternalError(absl::StrCat(
            "batch ", i, ", part [", parts[p].first, ", ", parts[p].second,
            "): held [", b->held_begin, ", ", b->HeldEnd(), "): ", why));
      }
      held_nonzeros += static_cast<int64_t>(b->inputs.col.size());
    }
    if (held_nonzeros != static_cast<int64_t>(w->inputs.col.size())) {
      return absl::InternalError(absl::StrCat(
          "batch ", i, ": the parts hold ", held_nonzeros,
          " nonzeros; the whole batch has ", w->inputs.col.size()));
    }
  }
  return absl::OkStatus();
}

}  // namespace elm
