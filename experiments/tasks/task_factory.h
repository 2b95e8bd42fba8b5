// Chooses the task of an experiment's data, once: classification when the
// data has class labels (DatasetInfo.num_classes > 0), NeuronIO's per-step
// spike and soma otherwise. A new task is its Task implementation
// (experiments/task.h) and its case here.
#ifndef ELM_EXPERIMENTS_TASKS_TASK_FACTORY_H_
#define ELM_EXPERIMENTS_TASKS_TASK_FACTORY_H_

#include <memory>

#include "data/dataset.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/task.h"

namespace elm {

// The task of data described by `info`, trained and evaluated as `spec` says
// (its model readout and eval section; a default spec where only the task's
// outputs matter).
std::unique_ptr<Task> MakeTask(const DatasetInfo& info,
                               const ExperimentSpec& spec);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TASKS_TASK_FACTORY_H_
