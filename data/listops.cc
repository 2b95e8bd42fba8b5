// Implementation of the LRA ListOps generator, evaluator, TSV reader/writer
// and dataset declared in listops.h. Expressions are token-id vectors in
// prefix order; recursive descent over that vector evaluates them and prints
// their LRA source text. Depth is bounded by max_depth for generated trees;
// parsed input is checked for balance with an explicit nesting limit so a
// hostile file cannot overflow the stack.
#include "data/listops.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "data/epoch_order.h"

namespace elm {
namespace {

constexpr int kMaxParseNesting = 10000;
// MixSeeds sub-stream of the generator seed that draws a training split with
// a length range of its own.
constexpr uint64_t kTrainRangeStream = 0x7472616e6765;  // "trange"

bool IsOperator(int32_t id) { return id >= kListOpsMin && id <= kListOpsSm; }

int64_t TrainMinLength(const ListOpsGeneratorOptions& o) {
  return o.train_min_length < 0 ? o.min_length : o.train_min_length;
}
int64_t TrainMaxLength(const ListOpsGeneratorOptions& o) {
  return o.train_max_length < 0 ? o.max_length : o.train_max_length;
}
bool IsDigit(int32_t id) {
  return id >= kListOpsDigit0 && id < kListOpsDigit0 + 10;
}

int64_t Apply(int32_t op, std::vector<int64_t>& args) {
  switch (op) {
    case kListOpsMin:
      return *std::min_element(args.begin(), args.end());
    case kListOpsMax:
      return *std::max_element(args.begin(), args.end());
    case kListOpsMed: {
      std::sort(args.begin(), args.end());
      const size_t n = args.size();
      if (n % 2 == 1) return args[n / 2];
      // np.median gives the mean of the two middle values; int() truncates
      // (all values are >= 0, so this is the floor).
      return (args[n / 2 - 1] + args[n / 2]) / 2;
    }
    default: {  // kListOpsSm
      int64_t sum = 0;
      for (int64_t a : args) sum += a;
      return sum % 10;
    }
  }
}

// Evaluates the expression starting at tokens[*pos]; advances *pos past it.
absl::StatusOr<int64_t> EvalAt(const std::vector<int32_t>& tokens, size_t* pos,
                               int nesting) {
  if (*pos >= tokens.size()) {
    return absl::InvalidArgumentError("ListOps: expression ends early");
  }
  const int32_t id = tokens[*pos];
  if (IsDigit(id)) {
    ++*pos;
    return id - kListOpsDigit0;
  }
  if (!IsOperator(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListOps: unexpected token '", ListOpsTokenText(id), "' at ", *pos));
  }
  if (nesting > kMaxParseNesting) {
    return absl::InvalidArgumentError("ListOps: nesting too deep");
  }
  ++*pos;
  std::vector<int64_t> args;
  while (*pos < tokens.size() && tokens[*pos] != kListOpsClose) {
    ASSIGN_OR_RETURN(int64_t v, EvalAt(tokens, pos, nesting + 1));
    args.push_back(v);
  }
  if (*pos >= tokens.size()) {
    return absl::InvalidArgumentError("ListOps: missing ']'");
  }
  ++*pos;  // ']'
  if (args.empty()) {
    return absl::InvalidArgumentError("ListOps: operator without arguments");
  }
  return Apply(id, args);
}

// Appends the source text of the expression at tokens[*pos] to *out.
absl::Status PrintAt(const std::vector<int32_t>& tokens, size_t* pos,
                     int nesting, std::string* out) {
  if (*pos >= tokens.size()) {
    return absl::InvalidArgumentError("ListOps: expression ends early");
  }
  const int32_t id = tokens[*pos];
  if (IsDigit(id)) {
    ++*pos;
    out->push_back(static_cast<char>('0' + id - kListOpsDigit0));
    return absl::OkStatus();
  }
  if (!IsOperator(id) || nesting > kMaxParseNesting) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListOps: unexpected token '", ListOpsTokenText(id), "' at ", *pos));
  }
  ++*pos;
  // ((((op, c1), c2) ..., cn), "]"): n + 1 pairs, so n + 1 opening "( ".
  std::vector<std::string> children;
  while (*pos < tokens.size() && tokens[*pos] != kListOpsClose) {
    std::string child;
    RETURN_IF_ERROR(PrintAt(tokens, pos, nesting + 1, &child));
    children.push_back(std::move(child));
  }
  if (*pos >= tokens.size() || children.empty()) {
    return absl::InvalidArgumentError("ListOps: malformed operator");
  }
  ++*pos;
  for (size_t i = 0; i <= children.size(); ++i) out->append("( ");
  out->append(ListOpsTokenText(id));
  for (const std::string& c : children) {
    out->push_back(' ');
    out->append(c);
    out->append(" )");
  }
  out->append(" ] )");
  return absl::OkStatus();
}

void DrawInto(const ListOpsGeneratorOptions& o, Rng* rng, int depth,
              std::vector<int32_t>* out) {
  const double r = depth < o.max_depth ? rng->Uniform() : 1.0;
  if (r >= o.operator_p) {
    out->push_back(kListOpsDigit0 + static_cast<int32_t>(rng->UniformInt(10)));
    return;
  }
  const int n = 2 + static_cast<int>(rng->UniformInt(o.max_args - 1));
  // Python draws the arguments, then the operator; the operator token comes
  // first in the sequence, so reserve its slot.
  const size_t op_slot = out->size();
  out->push_back(kListOpsMin);
  for (int i = 0; i < n; ++i) DrawInto(o, rng, depth + 1, out);
  (*out)[op_slot] = kListOpsMin + static_cast<int32_t>(rng->UniformInt(4));
  out->push_back(kListOpsClose);
}

// Removes a trailing carriage return (CRLF line ends).
std::string StripCr(const std::string& line) {
  if (!line.empty() && line.back() == '\r') {
    return line.substr(0, line.size() - 1);
  }
  return line;
}

class ListOpsSampler : public BatchSampler {
 public:
  ListOpsSampler(const std::vector<ListOpsExample>* pool, int batch,
                 int64_t steps, bool pad_at_start, bool shuffle,
                 bool length_curriculum, uint64_t seed)
      : pool_(pool),
        batch_(batch),
        steps_(steps),
        pad_at_start_(pad_at_start),
        order_(0, static_cast<int64_t>(pool_->size()), shuffle, seed) {
    if (length_curriculum) {
      first_pass_.resize(pool_->size());
      std::iota(first_pass_.begin(), first_pass_.end(), int64_t{0});
      std::stable_sort(
          first_pass_.begin(), first_pass_.end(), [this](int64_t a, int64_t b) {
            return (*pool_)[a].tokens.size() < (*pool_)[b].tokens.size();
          });
    }
  }

  absl::StatusOr<Batch> Next() override {
    absl::Span<const int64_t> picks;
    if (first_pos_ + batch_ <= first_pass_.size()) {
      picks = absl::MakeConstSpan(first_pass_.data() + first_pos_, batch_);
      first_pos_ += batch_;
    } else {
      picks = order_.Next(batch_);
    }
    Batch b;
    b.batch = batch_;
    b.steps = steps_;
    b.inputs.rows = b.batch * b.steps;
    b.inputs.cols = kListOpsVocabSize;
    // One nonzero per step (a token or the pad) for the held sequences
    // [h0, h1); the others' rows are empty.
    const int64_t h0 = HeldBegin(batch_), h1 = HeldEnd(batch_);
    b.held_begin = h0;
    b.held_end = h1;
    b.nonzeros_before = h0 * steps_;
    const int64_t rows = b.batch * b.steps;
    b.inputs.row_begin.resize(rows + 1);
    for (int64_t r = 0; r <= rows; ++r) {
      b.inputs.row_begin[r] =
          std::clamp(r - h0 * steps_, int64_t{0}, (h1 - h0) * steps_);
    }
    b.inputs.col.assign((h1 - h0) * steps_, kListOpsPad);
    b.inputs.value.assign((h1 - h0) * steps_, 1.0f);
    b.labels.resize(batch_);
    for (int s = 0; s < batch_; ++s) {
      const ListOpsExample& e = (*pool_)[picks[s]];
      if (Holds(s)) {
        const int64_t first =
            pad_at_start_ ? steps_ - static_cast<int64_t>(e.tokens.size()) : 0;
        std::copy(e.tokens.begin(), e.tokens.end(),
                  b.inputs.col.begin() + (s - h0) * steps_ + first);
      }
      b.labels[s] = e.label;
    }
    return b;
  }

 private:
  const std::vector<ListOpsExample>* pool_;
  int batch_;
  int64_t steps_;
  bool pad_at_start_;
  EpochOrder order_;
  // The curriculum's first pass (by ascending length) and the position in it.
  std::vector<int64_t> first_pass_;
  size_t first_pos_ = 0;
};

}  // namespace

const char* ListOpsTokenText(int32_t id) {
  static const char* const kText[kListOpsVocabSize] = {
      "<pad>", "0", "1", "2",    "3",    "4",    "5",   "6",
      "7",     "8", "9", "[MIN", "[MAX", "[MED", "[SM", "]"};
  if (id < 0 || id >= kListOpsVocabSize) return "<unknown>";
  return kText[id];
}

int32_t ListOpsTokenId(const std::string& text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '9') {
    return kListOpsDigit0 + (text[0] - '0');
  }
  if (text == "]" || text == "X") return kListOpsClose;
  if (text == "[MIN") return kListOpsMin;
  if (text == "[MAX") return kListOpsMax;
  if (text == "[MED") return kListOpsMed;
  if (text == "[SM") return kListOpsSm;
  return -1;
}

absl::StatusOr<int64_t> EvaluateListOps(const std::vector<int32_t>& tokens) {
  size_t pos = 0;
  ASSIGN_OR_RETURN(int64_t v, EvalAt(tokens, &pos, 0));
  if (pos != tokens.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListOps: trailing tokens after position ", pos));
  }
  return v;
}

absl::StatusOr<std::vector<int32_t>> ParseListOpsText(const std::string& text) {
  std::vector<int32_t> tokens;
  for (absl::string_view piece :
       absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
    if (piece == "(" || piece == ")") continue;
    const int32_t id = ListOpsTokenId(std::string(piece));
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ListOps: unknown token '", piece, "'"));
    }
    tokens.push_back(id);
  }
  return tokens;
}

absl::StatusOr<std::string> ListOpsSourceText(
    const std::vector<int32_t>& tokens) {
  size_t pos = 0;
  std::string out;
  RETURN_IF_ERROR(PrintAt(tokens, &pos, 0, &out));
  if (pos != tokens.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListOps: trailing tokens after position ", pos));
  }
  return out;
}

absl::Status ValidateListOpsGeneratorOptions(const ListOpsGeneratorOptions& o) {
  if (o.num_train < 0 || o.num_valid < 0 || o.num_test < 0) {
    return absl::InvalidArgumentError(
        "ListOps: num_train, num_valid and num_test must be >= 0");
  }
  if (o.max_depth < 1) {
    return absl::InvalidArgumentError("ListOps: max_depth must be >= 1");
  }
  if (o.max_args < 2) {
    return absl::InvalidArgumentError("ListOps: max_args must be >= 2");
  }
  if (!(o.operator_p >= 0 && o.operator_p <= 1)) {
    return absl::InvalidArgumentError("ListOps: operator_p must be in [0, 1]");
  }
  if (o.min_length >= o.max_length) {
    return absl::InvalidArgumentError(
        "ListOps: min_length must be < max_length");
  }
  if (o.train_min_length < -1 || o.train_max_length < -1 ||
      TrainMinLength(o) >= TrainMaxLength(o)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListOps: train_min_length (", o.train_min_length,
                     ") must be < train_max_length (", o.train_max_length,
                     "), each -1 (min_length / max_length) or >= 0"));
  }
  if (o.max_draws < 0) {
    return absl::InvalidArgumentError("ListOps: max_draws must be >= 0");
  }
  return absl::OkStatus();
}

std::vector<int32_t> DrawListOpsTree(const ListOpsGeneratorOptions& options,
                                     Rng* rng, int depth) {
  std::vector<int32_t> out;
  DrawInto(options, rng, depth, &out);
  return out;
}

absl::StatusOr<ListOpsSplits> GenerateListOps(
    const ListOpsGeneratorOptions& options) {
  RETURN_IF_ERROR(ValidateListOpsGeneratorOptions(options));
  const int64_t total =
      options.num_train + options.num_valid + options.num_test;
  const int64_t max_draws = options.max_draws > 0
                                ? options.max_draws
                                : 1000 * std::max<int64_t>(total, 1);
  const int64_t train_min = TrainMinLength(options),
                train_max = TrainMaxLength(options);
  const bool own_train_range =
      train_min != options.min_length || train_max != options.max_length;
  absl::flat_hash_set<std::vector<int32_t>> seen;
  int64_t draws = 0;
  // Draws from `rng` until `want` new distinct trees of a length in (lo, hi)
  // exist; appends them to `out` (null: drops them, still deduplicating).
  auto draw = [&](Rng* rng, int64_t want, int64_t lo, int64_t hi,
                  std::vector<ListOpsExample>* out) -> absl::Status {
    for (int64_t got = 0; got < want;) {
      if (draws++ >= max_draws) {
        return absl::ResourceExhaustedError(
            absl::StrCat("ListOps: only ", got, " of ", want,
                         " accepted trees of lengths in (", lo, ", ", hi,
                         ") after max_draws = ", max_draws, " draws"));
      }
      std::vector<int32_t> tree = DrawListOpsTree(options, rng, 1);
      const int64_t len = static_cast<int64_t>(tree.size());
      if (len <= lo || len >= hi) continue;
      if (!seen.insert(tree).second) continue;
      ++got;
      if (out == nullptr) continue;
      ListOpsExample e;
      ASSIGN_OR_RETURN(e.label, EvaluateListOps(tree));
      e.tokens = std::move(tree);
      out->push_back(std::move(e));
    }
    return absl::OkStatus();
  };
  ListOpsSplits s;
  Rng rng(options.seed);
  // The published split: train, valid, test from one stream. With a train
  // range of its own, the first num_train trees of that stream are drawn and
  // dropped, so that valid and test are the same as without it.
  RETURN_IF_ERROR(draw(&rng, options.num_train, options.min_length,
                       options.max_length,
                       own_train_range ? nullptr : &s.train));
  RETURN_IF_ERROR(draw(&rng, options.num_valid, options.min_length,
                       options.max_length, &s.valid));
  RETURN_IF_ERROR(draw(&rng, options.num_test, options.min_length,
                       options.max_length, &s.test));
  if (own_train_range) {
    // Train from a stream of its own, distinct from valid and test.
    seen.clear();
    for (const auto* split : {&s.valid, &s.test}) {
      for (const ListOpsExample& e : *split) seen.insert(e.tokens);
    }
    Rng train_rng(MixSeeds(options.seed, kTrainRangeStream));
    RETURN_IF_ERROR(
        draw(&train_rng, options.num_train, train_min, train_max, &s.train));
  }
  return s;
}

absl::Status WriteListOpsTsv(const std::string& path,
                             const std::vector<ListOpsExample>& examples) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    return absl::NotFoundError(
        absl::StrCat("ListOps: cannot open ", path, " for writing"));
  }
  f << "Source\tTarget\r\n";
  for (size_t i = 0; i < examples.size(); ++i) {
    absl::StatusOr<std::string> src = ListOpsSourceText(examples[i].tokens);
    if (!src.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": example ", i, ": ", src.status().message()));
    }
    f << *src << '\t' << examples[i].label << "\r\n";
  }
  f.close();
  if (!f) {
    return absl::DataLossError(absl::StrCat("ListOps: error writing ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ListOpsExample>> ReadListOpsTsv(
    const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return absl::NotFoundError(absl::StrCat("ListOps: cannot open ", path));
  }
  std::vector<ListOpsExample> out;
  std::string raw;
  int64_t line_no = 0;
  while (std::getline(f, raw)) {
    ++line_no;
    const std::string line = StripCr(raw);
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_no, ": ", what));
    };
    if (line_no == 1) {
      if (line != "Source\tTarget") {
        return error("expected the header 'Source<TAB>Target'");
      }
      continue;
    }
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 2) {
      return error(absl::StrCat("expected 2 tab-separated fields, found ",
                                fields.size()));
    }
    ListOpsExample e;
    absl::StatusOr<std::vector<int32_t>> tokens = ParseListOpsText(fields[0]);
    if (!tokens.ok()) return error(tokens.status().message());
    absl::StatusOr<int64_t> value = EvaluateListOps(*tokens);
    if (!value.ok()) return error(value.status().message());
    int64_t target = 0;
    if (!absl::SimpleAtoi(fields[1], &target) || target < 0 || target > 9) {
      return error(absl::StrCat("target '", fields[1], "' is not in 0..9"));
    }
    if (target != *value) {
      return error(absl::StrCat(
          "target ", target, " differs from the expression's value ", *value));
    }
    e.tokens = std::move(*tokens);
    e.label = target;
    out.push_back(std::move(e));
  }
  if (line_no == 0)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":1: empty file, expected the header 'Source<TAB>Target'"));
  if (f.bad()) {
    return absl::DataLossError(absl::StrCat("ListOps: error reading ", path));
  }
  return out;
}

absl::StatusOr<ListOpsSplits> ReadListOpsDir(const std::string& dir) {
  ListOpsSplits s;
  ASSIGN_OR_RETURN(s.train, ReadListOpsTsv(dir + "/basic_train.tsv"));
  ASSIGN_OR_RETURN(s.valid, ReadListOpsTsv(dir + "/basic_val.tsv"));
  ASSIGN_OR_RETURN(s.test, ReadListOpsTsv(dir + "/basic_test.tsv"));
  return s;
}

absl::Status WriteListOpsDir(const std::string& dir,
                             const ListOpsSplits& splits) {
  RETURN_IF_ERROR(WriteListOpsTsv(dir + "/basic_train.tsv", splits.train));
  RETURN_IF_ERROR(WriteListOpsTsv(dir + "/basic_val.tsv", splits.valid));
  RETURN_IF_ERROR(WriteListOpsTsv(dir + "/basic_test.tsv", splits.test));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ListOpsDataset>> ListOpsDataset::Create(
    ListOpsSplits splits, const ListOpsDatasetOptions& options) {
  if (options.steps < 1) {
    return absl::InvalidArgumentError("ListOps: steps must be >= 1");
  }
  for (Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
    const std::vector<ListOpsExample>& v = split == Split::kTrain ? splits.train
                                           : split == Split::kValid
                                               ? splits.valid
                                               : splits.test;
    for (size_t i = 0; i < v.size(); ++i) {
      if (static_cast<int64_t>(v[i].tokens.size()) > options.steps) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ListOps: ", SplitName(split), " example ", i, " has ",
            v[i].tokens.size(), " tokens, more than steps = ", options.steps));
      }
      for (int32_t id : v[i].tokens) {
        if (id < 0 || id >= kListOpsVocabSize) {
          return absl::InvalidArgumentError(
              absl::StrCat("ListOps: ", SplitName(split), " example ", i,
                           " has token id ", id, " out of range"));
        }
      }
      if (v[i].label < 0 || v[i].label >= kListOpsNumClasses) {
        return absl::InvalidArgumentError(
            absl::StrCat("ListOps: ", SplitName(split), " example ", i,
                         " has label ", v[i].label, " out of 0..9"));
      }
    }
  }
  std::unique_ptr<ListOpsDataset> d(new ListOpsDataset());
  d->info_.name = "listops";
  d->info_.input_dim = kListOpsVocabSize;
  d->info_.steps = options.steps;
  d->info_.num_classes = kListOpsNumClasses;
  d->info_.delta_t_ms = 1.0;
  d->splits_ = std::move(splits);
  d->pad_at_start_ = options.pad_at_start;
  d->length_curriculum_ = options.length_curriculum;
  return d;
}

const std::vector<ListOpsExample>& ListOpsDataset::examples(Split split) const {
  switch (split) {
    case Split::kTrain:
      return splits_.train;
    case Split::kValid:
      return splits_.valid;
    default:
      return splits_.test;
  }
}

absl::StatusOr<std::unique_ptr<BatchSampler>> ListOpsDataset::MakeSampler(
    Split split, int batch_size, uint64_t seed) const {
  const std::vector<ListOpsExample>& pool = examples(split);
  if (batch_size < 1) {
    return absl::InvalidArgumentError("ListOps: batch_size must be >= 1");
  }
  if (static_cast<size_t>(batch_size) > pool.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListOps: batch_size ", batch_size, " exceeds the ",
                     pool.size(), " examples of split ", SplitName(split)));
  }
  return std::unique_ptr<BatchSampler>(new ListOpsSampler(
      &pool, batch_size, info_.steps, pad_at_start_, split == Split::kTrain,
      split == Split::kTrain && length_curriculum_, seed));
}

}  // namespace elm
