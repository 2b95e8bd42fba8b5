// LRA ListOps: a generator following the published Long Range Arena algorithm
// (shared/notes/datasets.md §4.2: operators MIN, MAX, MED, SM written as
// `[MIN [MAX [MED [SM` and closed by `]`, digits 0–9, an operator with
// probability 0.25 at every depth below 10, 2–10 arguments, lengths strictly
// between 500 and 2000 tokens, deduplicated), an evaluator (MED is numpy's
// median truncated to int), the LRA TSV layout (`Source\tTarget` header,
// CRLF line ends, the source as nested pairs `( ( [MAX 2 ) 9 )` ...) written
// byte-exactly and read back with errors naming the file and line, and a
// `Dataset` of one-hot token inputs with 10 classes. An expression is held as
// its token ids in prefix order (the LRA tokenisation: parentheses dropped,
// `]` kept as the close token); that form is unambiguous, so deduplicating
// token sequences is deduplicating trees. Randomness comes from elm::Rng, so
// the streams differ from Python's but are deterministic per seed.
#ifndef ELM_DATA_LISTOPS_H_
#define ELM_DATA_LISTOPS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/rng.h"
#include "data/dataset.h"

namespace elm {

// Token ids (the input channels of the one-hot encoding). The LRA vocabulary
// `[MIN [MAX [MED [SM 0-9 X` plus padding, in this order:
//   0 pad, 1..10 the digits 0..9, 11 [MIN, 12 [MAX, 13 [MED, 14 [SM, 15 ].
inline constexpr int32_t kListOpsPad = 0;
inline constexpr int32_t kListOpsDigit0 = 1;  // digit d has id 1 + d
inline constexpr int32_t kListOpsMin = 11;
inline constexpr int32_t kListOpsMax = 12;
inline constexpr int32_t kListOpsMed = 13;
inline constexpr int32_t kListOpsSm = 14;
inline constexpr int32_t kListOpsClose = 15;
inline constexpr int kListOpsVocabSize = 16;
inline constexpr int kListOpsNumClasses = 10;

// The text of a token id as the TSV writes it (`[MIN`, `7`, `]`, `<pad>`).
const char* ListOpsTokenText(int32_t id);
// The id of one whitespace-separated token of a source: `[MIN`..`[SM`, a
// digit, `]` or LRA's `X` (both the close token); -1 for anything else.
int32_t ListOpsTokenId(const std::string& text);

// One expression and its value.
struct ListOpsExample {
  std::vector<int32_t> tokens;  // prefix order, no padding
  int64_t label = 0;            // the value, 0..9
};

// Evaluates a token sequence: MIN, MAX; MED = int(np.median(args)), that is
// the middle value for an odd count and the mean of the two middle values
// truncated for an even count; SM = sum mod 10. Errors on a malformed sequence
// (unbalanced, an operator without arguments, pad or unknown ids, trailing
// tokens).
absl::StatusOr<int64_t> EvaluateListOps(const std::vector<int32_t>& tokens);

// Token ids of an expression given as text, either the TSV's parenthesised
// form or the bare `[MAX 2 9 ]` / `[MAX 2 9 X` form: splits on whitespace,
// drops `(` and `)`. Errors name the first unknown token.
absl::StatusOr<std::vector<int32_t>> ParseListOpsText(const std::string& text);

// The LRA source text of a well-formed token sequence: a leaf is its digit; an
// operator with arguments c1..cn is the nested pairs ((((op, c1), c2) ..., cn),
// "]") with every pair printed as "( L R )". `[MAX 2 9 ]` gives
// `( ( ( [MAX 2 ) 9 ) ] )`. Errors on a malformed sequence.
absl::StatusOr<std::string> ListOpsSourceText(
    const std::vector<int32_t>& tokens);

// The generator's parameters; the defaults are the published ones.
struct ListOpsGeneratorOptions {
  int64_t num_train = 96000;
  int64_t num_valid = 2000;
  int64_t num_test = 2000;
  int max_depth = 10;        // the root has depth 1; depth max_depth is a leaf
  int max_args = 10;         // arguments per operator uniform in 2..max_args
  double operator_p = 0.25;  // P(operator) below max_depth (VALUE_P)
  int64_t min_length = 500;  // accepted iff min_length < tokens < max_length
  int64_t max_length = 2000;
  // The training split's own length range (a length cap, or short expressions
  // mixed in); -1: min_length / max_length. Validation and test keep
  // min_length..max_length.
  int64_t train_min_length = -1;
  int64_t train_max_length = -1;
  // Give up (error) after this many drawn trees; 0 means 1000 per tree asked.
  int64_t max_draws = 0;
  uint64_t seed = 0;
};

// Checks the fields (counts >= 0, max_depth >= 1, max_args >= 2, operator_p
// in [0, 1], min_length < max_length, the train range likewise); the error
// names the field.
absl::Status ValidateListOpsGeneratorOptions(
    const ListOpsGeneratorOptions& options);

// One tree drawn by the published recursion `gen(depth)` starting at `depth`:
// below max_depth, an operator with probability operator_p (its argument count
// uniform in 2..max_args, the arguments drawn first, then the operator uniform
// from the 4), else a digit uniform in 0..9. No length filter.
std::vector<int32_t> DrawListOpsTree(const ListOpsGeneratorOptions& options,
                                     Rng* rng, int depth = 1);

struct ListOpsSplits {
  std::vector<ListOpsExample> train, valid, test;
};

// Draws trees until num_train + num_valid + num_test distinct ones of an
// accepted length exist, in first-drawn order (Python slices its set's hash
// order instead), and splits them in that order: train, then valid, then test.
// With a train length range of its own (train_min_length/train_max_length),
// valid and test are the same as without it (the stream's first num_train
// trees are drawn and dropped) and train is drawn from a second stream
// (MixSeeds of the seed) in the train range, leaving out trees of valid and
// test. Deterministic per seed.
absl::StatusOr<ListOpsSplits> GenerateListOps(
    const ListOpsGeneratorOptions& options);

// Writes the LRA TSV: `Source\tTarget\r\n`, then one `<source>\t<label>\r\n`
// per example (Python's csv.writer with a tab delimiter; no field needs
// quoting). Errors name the file.
absl::Status WriteListOpsTsv(const std::string& path,
                             const std::vector<ListOpsExample>& examples);

// Reads an LRA TSV. Requires the header; lines end in CRLF (a bare LF is
// accepted too); each line has exactly two tab-separated fields, a
// well-formed source and a target 0..9 that equals the source's value. Errors
// name the file and the 1-based line.
absl::StatusOr<std::vector<ListOpsExample>> ReadListOpsTsv(
    const std::string& path);

// Reads `<dir>/basic_{train,val,test}.tsv` (the LRA release layout).
absl::StatusOr<ListOpsSplits> ReadListOpsDir(const std::string& dir);

// Writes `<dir>/basic_{train,val,test}.tsv`.
absl::Status WriteListOpsDir(const std::string& dir,
                             const ListOpsSplits& splits);

struct ListOpsDatasetOptions {
  // T of every batch. Every sequence is padded with kListOpsPad up to T; a
  // longer sequence is an error.
  int64_t steps = 2000;
  // Where the pads go. At the end (LRA's choice, max length 2000): a model read
  // out at the last step must carry its answer through up to T - length pads.
  // At the start: the expression's last token is step T - 1, so a last-step
  // readout reads right after it (the same as reading each sequence out at its
  // own last token, from a state that saw only pads before).
  bool pad_at_start = false;
  // A curriculum from short to long expressions: the train sampler's first
  // pass over the split goes by ascending length (ties in the split's order),
  // in whole batches; after it come the shuffled epochs, the same stream as
  // without the curriculum. Valid and test are unchanged.
  bool length_curriculum = false;
};

// ListOps as a classification Dataset over examples held in memory.
// info(): name "listops", input_dim 16 (the vocabulary), steps T,
// num_classes 10, delta_t_ms 1. Every step, pads included, has exactly one
// nonzero: channel = token id, value 1; pads at the end or the start
// (options.pad_at_start). Samplers (infinite; the dataset must
// outlive them): train is consecutive batches over an order that Fisher–Yates
// with Rng(seed) reshuffles every epoch; valid and test go in order, seed
// unused; the trailing partial batch of an epoch is dropped (a split smaller
// than the batch is an error).
class ListOpsDataset : public Dataset {
 public:
  static absl::StatusOr<std::unique_ptr<ListOpsDataset>> Create(
      ListOpsSplits splits, const ListOpsDatasetOptions& options);

  const DatasetInfo& info() const override { return info_; }
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override;
  const std::vector<ListOpsExample>& examples(Split split) const;
  int64_t num_sequences(Split split) const override {
    return static_cast<int64_t>(examples(split).size());
  }

 private:
  ListOpsDataset() = default;
  DatasetInfo info_;
  bool pad_at_start_ = false;
  bool length_curriculum_ = false;
  ListOpsSplits splits_;
};

}  // namespace elm

#endif  // ELM_DATA_LISTOPS_H_
