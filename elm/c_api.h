/* A C interface to streaming ELM inference (elm/population.h), so that a
 * simulator written in C, Fortran, Python (ctypes), Julia, ... can use trained
 * ELM neurons as surrogates: an opaque handle holds a population of N neurons
 * of one model (float32); each call advances every neuron by one time step Δt
 * of the model.
 *
 *   elm_population* pop = elm_population_create(
 *       "models/num_memory_15/neuronio_best_model_state.pt", NULL, 1000, 2);
 *   if (pop == NULL) { fprintf(stderr, "%s\n", elm_last_error()); ... }
 *   for (each step) {
 *     // the active inputs of neuron i: channels[row_begin[i] ..
 * row_begin[i+1]) if (elm_population_step_sparse(pop, row_begin, channels,
 * NULL) != 0) ... const float* p = elm_population_spike_probability(pop);   //
 * [N] const float* v = elm_population_soma_voltage(pop);        // [N]
 *   }
 *   elm_population_free(pop);
 *
 * Functions that can fail return 0 on success and -1 on failure (NULL for
 * elm_population_create); elm_last_error() then describes the failure (per
 * thread; valid until the thread's next failing call). Output pointers stay
 * valid until the next step, reset or free of the handle. A handle must not be
 * used by two threads at once.
 */
#ifndef ELM_ELM_C_API_H_
#define ELM_ELM_C_API_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct elm_population elm_population;

/* A population of num_neurons neurons of the model in model_path: a PyTorch
 * state_dict (.pt) or ELMTENSOR weights (.txt) with its model_config.json
 * (config_path, or NULL for the model_config.json beside the model), or a
 * checkpoint of ours (which holds its config; config_path is ignored).
 * threads ≥ 1 worker threads step it (the caller's included). NULL on error. */
elm_population* elm_population_create(const char* model_path,
                                      const char* config_path,
                                      int64_t num_neurons, int threads);

/* Frees the handle (NULL is allowed). */
void elm_population_free(elm_population* pop);

int64_t elm_population_size(const elm_population* pop);
int64_t elm_population_num_input(const elm_population* pop);
int64_t elm_population_num_output(const elm_population* pop);

/* One step with sparse input: neuron i's nonzero inputs are (channels[q],
 * values[q]) for q in [row_begin[i], row_begin[i + 1]); row_begin has
 * size() + 1 entries starting at 0; values NULL means every value is 1
 * (spikes). -1 (nothing stepped) for a decreasing row_begin or a channel
 * outside [0, num_input). */
int elm_population_step_sparse(elm_population* pop, const int64_t* row_begin,
                               const int32_t* channels, const float* values);

/* One step with dense input x [size, num_input] (row-major). */
int elm_population_step_dense(elm_population* pop, const float* x);

/* Resets neuron `neuron` (or every neuron when neuron < 0) to the zero state:
 * its next step starts a new sequence. -1 for neuron ≥ size(). */
int elm_population_reset(elm_population* pop, int64_t neuron);

/* The last step's outputs: y [size, num_output] (row-major); for 2-output
 * NeuronIO models the spike probability [size] and the soma voltage [size]
 * in mV relative to -67.7 mV (NULL for other models). */
const float* elm_population_output(const elm_population* pop);
const float* elm_population_spike_probability(const elm_population* pop);
const float* elm_population_soma_voltage(const elm_population* pop);

/* The calling thread's last error message ("" when none). */
const char* elm_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ELM_ELM_C_API_H_ */
