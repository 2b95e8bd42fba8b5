/* The C interface (c_api.h) called from C: errors for a missing model and a
 * bad channel; a population of the released num_memory_15 model (from
 * ../shared, skipped when absent) stepped with sparse and with dense input
 * (the same outputs), per-neuron reset (a reset neuron repeats its first
 * outputs, the others go on), and outputs in range. Exits 0 on success. */
#include "elm/c_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                    \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "%s:%d: EXPECT(%s) failed\n", __FILE__, __LINE__, \
              #cond);                                                   \
      ++failures;                                                       \
    }                                                                   \
  } while (0)

enum { kNeurons = 3, kSteps = 20, kInputs = 1278 };

/* Neuron i's active channels at step t (a fixed pseudo-random pattern),
 * ascending and distinct: the order in which the dense step visits them, so
 * that sparse and dense steps sum in the same order. */
static int Channels(int i, int t, int32_t* out) {
  int n = 0;
  for (int k = 0; k < 14; ++k) {
    const int32_t c = (int32_t)((i * 7919 + t * 104729 + k * 1543) % kInputs);
    int j = n;
    while (j > 0 && out[j - 1] > c) {
      out[j] = out[j - 1];
      --j;
    }
    if (j > 0 && out[j - 1] == c) { /* a repeat: undo the shift */
      for (; j < n; ++j) out[j] = out[j + 1];
      continue;
    }
    out[j] = c;
    ++n;
  }
  return n;
}

int main(void) {
  /* A missing model: NULL and an error naming the file. */
  elm_population* bad =
      elm_population_create("/nonexistent/model.pt", NULL, 4, 1);
  EXPECT(bad == NULL);
  EXPECT(strstr(elm_last_error(), "/nonexistent/model.pt") != NULL);

  const char* srcdir = getenv("TEST_SRCDIR");
  char path[4096];
  snprintf(path, sizeof(path),
           "%s/elm/external/shared/golden/pretrained/num_memory_15/"
           "neuronio_best_model_state.pt",
           srcdir != NULL ? srcdir : ".");
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    printf("SKIPPED the model tests: missing %s\n", path);
    return failures == 0 ? 0 : 1;
  }
  fclose(f);

  elm_population* sparse = elm_population_create(path, NULL, kNeurons, 2);
  elm_population* dense = elm_population_create(path, NULL, kNeurons, 1);
  if (sparse == NULL || dense == NULL) {
    fprintf(stderr, "create failed: %s\n", elm_last_error());
    return 1;
  }
  EXPECT(elm_population_size(sparse) == kNeurons);
  EXPECT(elm_population_num_input(sparse) == kInputs);
  EXPECT(elm_population_num_output(sparse) == 2);

  static float x[kNeurons * kInputs];
  int64_t row_begin[kNeurons + 1];
  int32_t channels[kNeurons * 14];
  float first_prob[kNeurons], first_soma[kNeurons];
  for (int t = 0; t < kSteps; ++t) {
    memset(x, 0, sizeof(x));
    row_begin[0] = 0;
    for (int i = 0; i < kNeurons; ++i) {
      const int n = Channels(i, t, channels + row_begin[i]);
      for (int k = 0; k < n; ++k) {
        x[i * kInputs + channels[row_begin[i] + k]] += 1.0f;
      }
      row_begin[i + 1] = row_begin[i] + n;
    }
    EXPECT(elm_population_step_sparse(sparse, row_begin, channels, NULL) == 0);
    EXPECT(elm_population_step_dense(dense, x) == 0);
    const float* p = elm_population_spike_probability(sparse);
    const float* v = elm_population_soma_voltage(sparse);
    const float* pd = elm_population_spike_probability(dense);
    const float* vd = elm_population_soma_voltage(dense);
    const float* y = elm_population_output(sparse);
    for (int i = 0; i < kNeurons; ++i) {
      EXPECT(p[i] >= 0.0f && p[i] <= 1.0f);
      EXPECT(isfinite(v[i]));
      EXPECT(p[i] == pd[i]);
      EXPECT(v[i] == vd[i]);
      EXPECT(fabsf(v[i] - 10.0f * y[2 * i + 1]) <= 1e-5f * fabsf(v[i]));
      if (t == 0) {
        first_prob[i] = p[i];
        first_soma[i] = v[i];
      }
    }
  }

  /* Reset neuron 1 and step with step 0's input: it repeats its first
   * outputs; neuron 0 (not reset) does not. */
  row_begin[0] = 0;
  for (int i = 0; i < kNeurons; ++i) {
    row_begin[i + 1] = row_begin[i] + Channels(i, 0, channels + row_begin[i]);
  }
  EXPECT(elm_population_reset(sparse, 1) == 0);
  EXPECT(elm_population_step_sparse(sparse, row_begin, channels, NULL) == 0);
  EXPECT(elm_population_spike_probability(sparse)[1] == first_prob[1]);
  EXPECT(elm_population_soma_voltage(sparse)[1] == first_soma[1]);
  EXPECT(elm_population_soma_voltage(sparse)[0] != first_soma[0]);
  /* Reset all: every neuron repeats. */
  EXPECT(elm_population_reset(sparse, -1) == 0);
  EXPECT(elm_population_step_sparse(sparse, row_begin, channels, NULL) == 0);
  for (int i = 0; i < kNeurons; ++i) {
    EXPECT(elm_population_soma_voltage(sparse)[i] == first_soma[i]);
  }

  /* Errors: a channel out of range, a neuron out of range. */
  channels[2] = kInputs;
  EXPECT(elm_population_step_sparse(sparse, row_begin, channels, NULL) == -1);
  EXPECT(strstr(elm_last_error(), "channel 1278") != NULL);
  EXPECT(elm_population_reset(sparse, kNeurons) == -1);

  elm_population_free(sparse);
  elm_population_free(dense);
  elm_population_free(NULL);
  if (failures > 0)
    fprintf(stderr, "%d failures\n", failures);
  else
    printf("PASSED\n");
  return failures == 0 ? 0 : 1;
}
