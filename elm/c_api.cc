// The C interface of c_api.h over ElmPopulation<float> and LoadElmModelFile.
#include "elm/c_api.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "elm/model_file.h"
#include "elm/population.h"

struct elm_population {
  elm::ElmPopulation<float> pop;
};

namespace {

thread_local std::string last_error;

int Fail(std::string message) {
  last_error = std::move(message);
  return -1;
}

}  // namespace

extern "C" {

elm_population* elm_population_create(const char* model_path,
                                      const char* config_path,
                                      int64_t num_neurons, int threads) {
  if (model_path == nullptr) {
    Fail("elm_population_create: model_path is NULL");
    return nullptr;
  }
  elm::ElmModelFileOptions options;
  if (config_path != nullptr) options.config_path = config_path;
  absl::StatusOr<elm::ElmModel<float>> model =
      elm::LoadElmModelFile<float>(model_path, options);
  if (!model.ok()) {
    Fail(std::string(model.status().message()));
    return nullptr;
  }
  absl::StatusOr<elm::ElmPopulation<float>> pop =
      elm::ElmPopulation<float>::Create(*model, num_neurons,
                                        {.threads = threads});
  if (!pop.ok()) {
    Fail(std::string(pop.status().message()));
    return nullptr;
  }
  return new elm_population{std::move(*pop)};
}

void elm_population_free(elm_population* pop) { delete pop; }

int64_t elm_population_size(const elm_population* pop) {
  return pop->pop.size();
}
int64_t elm_population_num_input(const elm_population* pop) {
  return pop->pop.num_input();
}
int64_t elm_population_num_output(const elm_population* pop) {
  return pop->pop.num_output();
}

int elm_population_step_sparse(elm_population* pop, const int64_t* row_begin,
                               const int32_t* channels, const float* values) {
  if (pop == nullptr || row_begin == nullptr) {
    return Fail("elm_population_step_sparse: NULL handle or row_begin");
  }
  const int64_t n = pop->pop.size(), n_in = pop->pop.num_input();
  if (row_begin[0] != 0) {
    return Fail(absl::StrCat("elm_population_step_sparse: row_begin[0] = ",
                             row_begin[0], ", not 0"));
  }
  for (int64_t i = 0; i < n; ++i) {
    if (row_begin[i + 1] < row_begin[i]) {
      return Fail(absl::StrCat("elm_population_step_sparse: row_begin[", i + 1,
                               "] = ", row_begin[i + 1], " < row_begin[", i,
                               "] = ", row_begin[i]));
    }
    for (int64_t q = row_begin[i]; q < row_begin[i + 1]; ++q) {
      if (channels == nullptr || channels[q] < 0 || channels[q] >= n_in) {
        return Fail(absl::StrCat("elm_population_step_sparse: neuron ", i,
                                 ": channel ",
                                 channels == nullptr ? -1 : channels[q],
                                 " is outside [0, ", n_in, ")"));
      }
    }
  }
  pop->pop.StepSparse(row_begin, channels, values);
  return 0;
}

int elm_population_step_dense(elm_population* pop, const float* x) {
  if (pop == nullptr || x == nullptr) {
    return Fail("elm_population_step_dense: NULL handle or input");
  }
  pop->pop.StepDense(x);
  return 0;
}

int elm_population_reset(elm_population* pop, int64_t neuron) {
  if (pop == nullptr) return Fail("elm_population_reset: NULL handle");
  if (neuron >= pop->pop.size()) {
    return Fail(absl::StrCat("elm_population_reset: neuron ", neuron,
                             " >= size ", pop->pop.size()));
  }
  if (neuron < 0) {
    pop->pop.ResetAll();
  } else {
    pop->pop.Reset(neuron);
  }
  return 0;
}

const float* elm_population_output(const elm_population* pop) {
  return pop->pop.output().data();
}
const float* elm_population_spike_probability(const elm_population* pop) {
  return pop->pop.spike_probability().empty()
             ? nullptr
             : pop->pop.spike_probability().data();
}
const float* elm_population_soma_voltage(const elm_population* pop) {
  return pop->pop.soma_voltage().empty() ? nullptr
                                         : pop->pop.soma_voltage().data();
}

const char* elm_last_error(void) { return last_error.c_str(); }

}  // extern "C"
