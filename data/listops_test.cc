// Tests the ListOps evaluator on hand-written expressions (MED of an even
// count truncated as int(np.median) does), the LRA source text, the generator
// (lengths strictly within (500, 2000), depth <= 10, 2..10 arguments,
// deduplication, labels, determinism per seed; a training length range of its
// own changes train only), the TSV layout (byte-exact round trip with header
// and CRLF, errors naming file and line) and the dataset's one-hot batches,
// padded at the end or the start, with or without a length curriculum.
#include "data/listops.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

int64_t Eval(const std::string& text) {
  absl::StatusOr<std::vector<int32_t>> t = ParseListOpsText(text);
  EXPECT_TRUE(t.ok()) << t.status();
  absl::StatusOr<int64_t> v = EvaluateListOps(*t);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.ok() ? *v : -1;
}

TEST(ListOpsTest, EvaluatesHandWrittenExpressions) {
  EXPECT_EQ(Eval("7"), 7);
  EXPECT_EQ(Eval("[MIN 4 2 9 ]"), 2);
  EXPECT_EQ(Eval("[MAX 4 2 9 ]"), 9);
  EXPECT_EQ(Eval("[SM 5 6 7 ]"), 8);     // 18 mod 10
  EXPECT_EQ(Eval("[MED 3 9 1 ]"), 3);    // odd count: the middle
  EXPECT_EQ(Eval("[MED 1 2 ]"), 1);      // 1.5 -> 1
  EXPECT_EQ(Eval("[MED 4 1 2 9 ]"), 3);  // (2 + 4) / 2 = 3
  EXPECT_EQ(Eval("[MED 9 8 0 1 ]"), 4);  // (1 + 8) / 2 = 4.5 -> 4
  EXPECT_EQ(Eval("[MED 9 9 ]"), 9);
  EXPECT_EQ(Eval("[MAX 2 9 [MIN 4 7 ] 0 ]"), 9);
  EXPECT_EQ(Eval("[SM [MAX 2 9 X [MED 5 6 X 3 X"), 7);  // 9 + 5 + 3 = 17
  EXPECT_EQ(Eval("( ( ( [MAX 2 ) 9 ) ] )"), 9);
  EXPECT_EQ(Eval("[MIN [SM 9 9 ] [MED 1 [MAX 0 8 ] 2 ] 5 ]"), 2);
}

TEST(ListOpsTest, RejectsMalformedExpressions) {
  for (const char* bad : {"[MAX 2 9", "[MAX ]", "2 3", "]", "[MIN 1 ] ]", ""}) {
    absl::StatusOr<std::vector<int32_t>> t = ParseListOpsText(bad);
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(EvaluateListOps(*t).ok()) << bad;
    EXPECT_FALSE(ListOpsSourceText(*t).ok()) << bad;
  }
  absl::StatusOr<std::vector<int32_t>> t = ParseListOpsText("[MAX 2 10 ]");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::StrContains(t.status().message(), "'10'"));
}

TEST(ListOpsTest, SourceTextIsNestedPairs) {
  absl::StatusOr<std::vector<int32_t>> t = ParseListOpsText("[MAX 2 9 ]");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ListOpsSourceText(*t).value(), "( ( ( [MAX 2 ) 9 ) ] )");
  t = ParseListOpsText("[SM 1 [MIN 3 4 ] 5 ]");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ListOpsSourceText(*t).value(),
            "( ( ( ( [SM 1 ) ( ( ( [MIN 3 ) 4 ) ] ) ) 5 ) ] )");
  EXPECT_EQ(ListOpsSourceText({kListOpsDigit0 + 4}).value(), "4");
  // Parsing the text gives the tokens back.
  EXPECT_EQ(ParseListOpsText(ListOpsSourceText(*t).value()).value(), *t);
}

// Depth of the deepest node (root = 1) and checks of the argument counts.
int MaxDepth(const std::vector<int32_t>& tokens, int* min_args, int* max_args) {
  int depth = 0, max_depth = 0;
  std::vector<int> args;
  for (int32_t id : tokens) {
    if (id == kListOpsClose) {
      *min_args = std::min(*min_args, args.back());
      *max_args = std::max(*max_args, args.back());
      args.pop_back();
      --depth;
      continue;
    }
    if (!args.empty()) ++args.back();
    max_depth = std::max(max_depth, depth + 1);
    if (id >= kListOpsMin && id <= kListOpsSm) {
      ++depth;
      args.push_back(0);
    }
  }
  return max_depth;
}

ListOpsGeneratorOptions SmallOptions(uint64_t seed) {
  ListOpsGeneratorOptions o;
  o.num_train = 40;
  o.num_valid = 5;
  o.num_test = 5;
  o.seed = seed;
  return o;
}

TEST(ListOpsTest, GeneratedTreesFollowThePublishedConstraints) {
  absl::StatusOr<ListOpsSplits> s = GenerateListOps(SmallOptions(1));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->train.size(), 40u);
  ASSERT_EQ(s->valid.size(), 5u);
  ASSERT_EQ(s->test.size(), 5u);
  std::set<std::vector<int32_t>> unique;
  int min_args = 100, max_args = 0;
  for (const auto* split : {&s->train, &s->valid, &s->test}) {
    for (const ListOpsExample& e : *split) {
      EXPECT_GT(e.tokens.size(), 500u);
      EXPECT_LT(e.tokens.size(), 2000u);
      EXPECT_LE(MaxDepth(e.tokens, &min_args, &max_args), 10);
      EXPECT_EQ(EvaluateListOps(e.tokens).value(), e.label);
      EXPECT_GE(e.label, 0);
      EXPECT_LE(e.label, 9);
      unique.insert(e.tokens);
    }
  }
  EXPECT_EQ(unique.size(), 50u);
  EXPECT_EQ(min_args, 2);
  EXPECT_EQ(max_args, 10);
}

TEST(ListOpsTest, DrawnTreesRespectDepthAndLeafProbability) {
  ListOpsGeneratorOptions o;
  Rng rng(7);
  int64_t leaves_at_root = 0;
  const int kDraws = 4000;
  for (int i = 0; i < kDraws; ++i) {
    std::vector<int32_t> t = DrawListOpsTree(o, &rng);
    int lo = 100, hi = 0;
    EXPECT_LE(MaxDepth(t, &lo, &hi), 10);
    if (t.size() == 1) ++leaves_at_root;
  }
  // P(root is a leaf) = 0.75.
  EXPECT_NEAR(static_cast<double>(leaves_at_root) / kDraws, 0.75, 0.03);
  // At max_depth the node is always a leaf.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(DrawListOpsTree(o, &rng, 10).size(), 1u);
  }
}

TEST(ListOpsTest, DeduplicatesWithTinyLengthWindow) {
  // With lengths 4..5 only few distinct trees exist ([OP d d ] with 4
  // operators and 100 digit pairs = 400); asking for all but a few must give
  // distinct ones, and asking for more than exist must fail.
  ListOpsGeneratorOptions o;
  o.num_train = 350;
  o.num_valid = 0;
  o.num_test = 0;
  o.min_length = 3;
  o.max_length = 5;  // exactly 4 tokens
  o.max_draws = 2000000;
  absl::StatusOr<ListOpsSplits> s = GenerateListOps(o);
  ASSERT_TRUE(s.ok()) << s.status();
  std::set<std::vector<int32_t>> unique;
  for (const ListOpsExample& e : s->train) unique.insert(e.tokens);
  EXPECT_EQ(unique.size(), 350u);
  o.num_train = 401;
  o.max_draws = 200000;
  EXPECT_FALSE(GenerateListOps(o).ok());
}

TEST(ListOpsTest, DeterministicPerSeed) {
  absl::StatusOr<ListOpsSplits> a = GenerateListOps(SmallOptions(3));
  absl::StatusOr<ListOpsSplits> b = GenerateListOps(SmallOptions(3));
  absl::StatusOr<ListOpsSplits> c = GenerateListOps(SmallOptions(4));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (size_t i = 0; i < a->train.size(); ++i) {
    EXPECT_EQ(a->train[i].tokens, b->train[i].tokens);
  }
  EXPECT_NE(a->train[0].tokens, c->train[0].tokens);
}

TEST(ListOpsTest, TrainLengthRangeChangesOnlyTheTrainSplit) {
  // Short training expressions (lengths 9..49), the published range for
  // valid and test.
  ListOpsGeneratorOptions o = SmallOptions(5);
  o.train_min_length = 8;
  o.train_max_length = 50;
  absl::StatusOr<ListOpsSplits> a = GenerateListOps(o);
  absl::StatusOr<ListOpsSplits> again = GenerateListOps(o);
  absl::StatusOr<ListOpsSplits> plain = GenerateListOps(SmallOptions(5));
  ASSERT_TRUE(a.ok() && again.ok() && plain.ok()) << a.status();
  ASSERT_EQ(a->train.size(), 40u);
  // Valid and test are exactly those of the published range.
  ASSERT_EQ(a->valid.size(), plain->valid.size());
  ASSERT_EQ(a->test.size(), plain->test.size());
  for (size_t i = 0; i < a->valid.size(); ++i) {
    EXPECT_EQ(a->valid[i].tokens, plain->valid[i].tokens);
  }
  for (size_t i = 0; i < a->test.size(); ++i) {
    EXPECT_EQ(a->test[i].tokens, plain->test[i].tokens);
  }
  // Train: in its range, correct labels, distinct, deterministic per seed.
  std::set<std::vector<int32_t>> unique;
  for (size_t i = 0; i < a->train.size(); ++i) {
    const ListOpsExample& e = a->train[i];
    EXPECT_GT(e.tokens.size(), 8u);
    EXPECT_LT(e.tokens.size(), 50u);
    EXPECT_EQ(EvaluateListOps(e.tokens).value(), e.label);
    EXPECT_EQ(e.tokens, again->train[i].tokens);
    unique.insert(e.tokens);
  }
  EXPECT_EQ(unique.size(), 40u);
  o.seed = 6;
  EXPECT_NE(GenerateListOps(o).value().train[0].tokens, a->train[0].tokens);

  // Overlapping ranges (train 3..2000 holds the eval range): no expression in
  // two splits, and short ones appear.
  o = SmallOptions(5);
  o.train_min_length = 3;
  absl::StatusOr<ListOpsSplits> mixed = GenerateListOps(o);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  std::set<std::vector<int32_t>> eval;
  for (const auto* split : {&mixed->valid, &mixed->test}) {
    for (const ListOpsExample& e : *split) eval.insert(e.tokens);
  }
  size_t short_ones = 0;
  for (const ListOpsExample& e : mixed->train) {
    EXPECT_EQ(eval.count(e.tokens), 0u);
    EXPECT_GT(e.tokens.size(), 3u);
    EXPECT_LT(e.tokens.size(), 2000u);
    short_ones += e.tokens.size() <= 500;
  }
  EXPECT_GT(short_ones, 0u);

  // Giving the published range explicitly is the same as not giving it.
  o = SmallOptions(5);
  o.train_min_length = 500;
  o.train_max_length = 2000;
  absl::StatusOr<ListOpsSplits> same = GenerateListOps(o);
  ASSERT_TRUE(same.ok());
  for (size_t i = 0; i < same->train.size(); ++i) {
    EXPECT_EQ(same->train[i].tokens, plain->train[i].tokens);
  }
}

// The length of each sequence of a batch padded at the end.
std::vector<int64_t> BatchLengths(const Batch& b) {
  std::vector<int64_t> out;
  for (int64_t s = 0; s < b.batch; ++s) {
    int64_t len = 0;
    while (len < b.steps &&
           b.inputs.col[b.inputs.row_begin[s * b.steps + len]] != kListOpsPad) {
      ++len;
    }
    out.push_back(len);
  }
  return out;
}

TEST(ListOpsTest, LengthCurriculumOrdersOnlyTheFirstTrainingPass) {
  ListOpsGeneratorOptions o = SmallOptions(8);
  o.num_train = 42;  // 5 whole batches of 8 in the first pass, 2 left over
  o.train_min_length = 3;
  absl::StatusOr<ListOpsSplits> s = GenerateListOps(o);
  ASSERT_TRUE(s.ok()) << s.status();
  ListOpsDatasetOptions curriculum;
  curriculum.length_curriculum = true;
  auto plain = ListOpsDataset::Create(*s, ListOpsDatasetOptions()).value();
  auto ordered = ListOpsDataset::Create(*s, curriculum).value();
  auto a = ordered->MakeSampler(Split::kTrain, 8, 3).value();
  auto again = ordered->MakeSampler(Split::kTrain, 8, 3).value();
  auto b = plain->MakeSampler(Split::kTrain, 8, 3).value();
  // First pass: 5 batches by ascending length, 40 distinct examples; the
  // same for the same seed.
  std::vector<int64_t> lengths;
  std::set<std::vector<int32_t>> seen;
  for (int i = 0; i < 5; ++i) {
    const Batch x = a->Next().value();
    EXPECT_EQ(x.inputs.col, again->Next().value().inputs.col);
    for (int64_t len : BatchLengths(x)) lengths.push_back(len);
    for (int64_t r = 0; r < 8; ++r) {
      seen.insert(std::vector<int32_t>(
          x.inputs.col.begin() + r * 2000,
          x.inputs.col.begin() + r * 2000 + lengths[lengths.size() - 8 + r]));
    }
  }
  EXPECT_TRUE(std::is_sorted(lengths.begin(), lengths.end()));
  EXPECT_LT(lengths.front(), 100);
  EXPECT_GT(lengths.back(), 500);
  EXPECT_EQ(seen.size(), 40u);
  // Then the shuffled stream of the plain sampler, from its start.
  for (int i = 0; i < 8; ++i) {
    const Batch x = a->Next().value(), y = b->Next().value();
    EXPECT_EQ(x.inputs.col, y.inputs.col) << i;
    EXPECT_EQ(x.labels, y.labels) << i;
  }
  // Valid is unchanged.
  auto va = ordered->MakeSampler(Split::kValid, 5, 0).value();
  auto vb = plain->MakeSampler(Split::kValid, 5, 0).value();
  EXPECT_EQ(va->Next().value().inputs.col, vb->Next().value().inputs.col);
  const absl::Status held = CheckHeldParts(*ordered, Split::kTrain, 8, 3, 7);
  EXPECT_TRUE(held.ok()) << held;
}

TEST(ListOpsTest, OptionErrorsNameTheField) {
  ListOpsGeneratorOptions o;
  o.max_args = 1;
  absl::Status st = GenerateListOps(o).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "max_args")) << st;
  o = ListOpsGeneratorOptions();
  o.min_length = 2000;
  st = GenerateListOps(o).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "min_length")) << st;
  o = ListOpsGeneratorOptions();
  o.train_min_length = 100;
  o.train_max_length = 50;
  st = GenerateListOps(o).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "train_max_length")) << st;
}

TEST(ListOpsTest, TsvRoundTripIsByteExact) {
  absl::StatusOr<ListOpsSplits> s = GenerateListOps(SmallOptions(5));
  ASSERT_TRUE(s.ok());
  const std::string dir = TestTempPath("");
  ASSERT_TRUE(WriteListOpsDir(dir, *s).ok());
  const std::string first = ReadTestFile(dir + "/basic_train.tsv");
  ASSERT_TRUE(absl::StartsWith(first, "Source\tTarget\r\n"));
  ASSERT_TRUE(absl::EndsWith(first, "\r\n"));
  // Every line ends in CRLF: as many "\r\n" as "\n".
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 41);
  EXPECT_EQ(std::count(first.begin(), first.end(), '\r'), 41);
  const std::string line2 = first.substr(15, first.find("\r\n", 15) - 15);
  EXPECT_TRUE(absl::StartsWith(line2, "( ( ")) << line2.substr(0, 40);
  EXPECT_TRUE(absl::EndsWith(line2, absl::StrCat("] )\t", s->train[0].label)))
      << line2.substr(line2.size() - 20);

  absl::StatusOr<ListOpsSplits> back = ReadListOpsDir(dir);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->train.size(), 40u);
  for (size_t i = 0; i < 40; ++i) {
    EXPECT_EQ(back->train[i].tokens, s->train[i].tokens);
    EXPECT_EQ(back->train[i].label, s->train[i].label);
  }
  ASSERT_TRUE(WriteListOpsTsv(TestTempPath("again.tsv"), back->train).ok());
  EXPECT_EQ(ReadTestFile(TestTempPath("again.tsv")), first);
}

TEST(ListOpsTest, TsvMatchesHandWrittenFile) {
  const std::string text =
      "Source\tTarget\r\n"
      "( ( ( [MAX 2 ) 9 ) ] )\t9\r\n"
      "( ( ( ( [MED 1 ) 2 ) 4 ) ] )\t2\r\n";
  WriteTestFile(TestTempPath("hand.tsv"), text);
  absl::StatusOr<std::vector<ListOpsExample>> e =
      ReadListOpsTsv(TestTempPath("hand.tsv"));
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[1].label, 2);
  ASSERT_TRUE(WriteListOpsTsv(TestTempPath("hand2.tsv"), *e).ok());
  EXPECT_EQ(ReadTestFile(TestTempPath("hand2.tsv")), text);
}

void ExpectTsvError(const std::string& name, const std::string& text,
                    const std::string& where, const std::string& what) {
  WriteTestFile(TestTempPath(name), text);
  absl::Status st = ReadListOpsTsv(TestTempPath(name)).status();
  EXPECT_FALSE(st.ok()) << name;
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath(name) + ":" + where))
      << st;
  EXPECT_TRUE(absl::StrContains(st.message(), what)) << st;
}

TEST(ListOpsTest, TsvErrorsNameFileAndLine) {
  ExpectTsvError("e1.tsv", "Src\tTarget\r\n", "1:", "header");
  ExpectTsvError("e2.tsv", "", "1:", "header");
  ExpectTsvError("e3.tsv",
                 "Source\tTarget\r\n( ( ( [MAX 2 ) 9 ) ] )\t9\r\n[MAX 2\t2\r\n",
                 "3:", "missing");
  ExpectTsvError("e4.tsv", "Source\tTarget\r\n[MAX 2 9 ]\t7\r\n",
                 "2:", "differs");
  ExpectTsvError("e5.tsv", "Source\tTarget\r\n[MAX 2 9 ]\t12\r\n",
                 "2:", "0..9");
  ExpectTsvError("e6.tsv", "Source\tTarget\r\n[MAX 2 9 ]\r\n",
                 "2:", "2 tab-separated");
  ExpectTsvError("e7.tsv", "Source\tTarget\r\n[FOO 2 9 ]\t9\r\n", "2:", "[FOO");
  absl::Status st = ReadListOpsTsv(TestTempPath("missing.tsv")).status();
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath("missing.tsv")))
      << st;
}

TEST(ListOpsTest, DatasetBatchesAreOneHotAndPadded) {
  absl::StatusOr<ListOpsSplits> s = GenerateListOps(SmallOptions(6));
  ASSERT_TRUE(s.ok());
  const ListOpsSplits copy = *s;
  absl::StatusOr<std::unique_ptr<ListOpsDataset>> d =
      ListOpsDataset::Create(*s, ListOpsDatasetOptions());
  ASSERT_TRUE(d.ok()) << d.status();
  const DatasetInfo& info = (*d)->info();
  EXPECT_EQ(info.input_dim, 16);
  EXPECT_EQ(info.steps, 2000);
  EXPECT_EQ(info.num_classes, 10);
  EXPECT_EQ((*d)->num_sequences(Split::kValid),
            static_cast<int64_t>(copy.valid.size()));

  auto sampler = (*d)->MakeSampler(Split::kValid, 2, 0);
  ASSERT_TRUE(sampler.ok());
  absl::StatusOr<Batch> b = (*sampler)->Next();
  ASSERT_TRUE(b.ok());
  std::string why;
  EXPECT_TRUE(b->IsConsistent(&why)) << why;
  ASSERT_EQ(b->labels.size(), 2u);
  for (int s2 = 0; s2 < 2; ++s2) {
    const ListOpsExample& e = copy.valid[s2];
    EXPECT_EQ(b->labels[s2], e.label);
    for (int64_t t = 0; t < 2000; ++t) {
      const int64_t r = s2 * 2000 + t;
      ASSERT_EQ(b->inputs.row_begin[r + 1] - b->inputs.row_begin[r], 1);
      const int32_t want =
          t < static_cast<int64_t>(e.tokens.size()) ? e.tokens[t] : kListOpsPad;
      EXPECT_EQ(b->inputs.col[b->inputs.row_begin[r]], want);
      EXPECT_EQ(b->inputs.value[b->inputs.row_begin[r]], 1.0f);
    }
  }
  // Train: shuffled, deterministic per seed, an epoch covers each once.
  auto t1 = (*d)->MakeSampler(Split::kTrain, 8, 11).value();
  auto t2 = (*d)->MakeSampler(Split::kTrain, 8, 11).value();
  std::multiset<int64_t> labels;
  for (int i = 0; i < 5; ++i) {
    Batch x = t1->Next().value(), y = t2->Next().value();
    EXPECT_EQ(x.inputs.col, y.inputs.col);
    EXPECT_EQ(x.labels, y.labels);
    labels.insert(x.labels.begin(), x.labels.end());
  }
  std::multiset<int64_t> want;
  for (const ListOpsExample& e : copy.train) want.insert(e.label);
  EXPECT_EQ(labels, want);

  // A process holding only some sequences gets the same batches' rows.
  const absl::Status held = CheckHeldParts(**d, Split::kTrain, 8, 11, 3);
  EXPECT_TRUE(held.ok()) << held;

  // Padding at the start: the same batches (labels, order, tokens) with the
  // tokens moved to the end of each row, pads before them.
  ListOpsDatasetOptions start;
  start.pad_at_start = true;
  absl::StatusOr<std::unique_ptr<ListOpsDataset>> ds =
      ListOpsDataset::Create(copy, start);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ((*ds)->info().input_dim, 16);
  EXPECT_EQ((*ds)->info().steps, 2000);
  for (Split split : {Split::kTrain, Split::kValid}) {
    auto end_sampler = (*d)->MakeSampler(split, 4, 9).value();
    auto start_sampler = (*ds)->MakeSampler(split, 4, 9).value();
    for (int i = 0; i < 3; ++i) {
      const Batch x = end_sampler->Next().value();
      const Batch y = start_sampler->Next().value();
      ASSERT_TRUE(y.IsConsistent(&why)) << why;
      ASSERT_EQ(x.labels, y.labels);
      EXPECT_EQ(x.inputs.row_begin, y.inputs.row_begin);
      EXPECT_EQ(x.inputs.value, y.inputs.value);
      for (int s2 = 0; s2 < 4; ++s2) {
        const int32_t* xr = &x.inputs.col[s2 * 2000];
        const int32_t* yr = &y.inputs.col[s2 * 2000];
        int64_t len = 0;
        while (len < 2000 && xr[len] != kListOpsPad) ++len;
        ASSERT_GT(len, 500);
        for (int64_t t = 0; t < 2000 - len; ++t) {
          ASSERT_EQ(yr[t], kListOpsPad) << t;
        }
        for (int64_t t = 0; t < len; ++t) {
          ASSERT_EQ(yr[2000 - len + t], xr[t]) << t;
        }
      }
    }
  }
  const absl::Status held_start = CheckHeldParts(**ds, Split::kTrain, 8, 11, 3);
  EXPECT_TRUE(held_start.ok()) << held_start;

  ListOpsDatasetOptions short_steps;
  short_steps.steps = 100;
  EXPECT_FALSE(ListOpsDataset::Create(copy, short_steps).ok());
  EXPECT_FALSE((*d)->MakeSampler(Split::kTest, 6, 0).ok());
}

}  // namespace
}  // namespace elm
