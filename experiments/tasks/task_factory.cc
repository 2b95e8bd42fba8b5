// The choice of an experiment's task (see task_factory.h).
#include "experiments/tasks/task_factory.h"

#include "experiments/tasks/classification_task.h"
#include "experiments/tasks/neuronio_task.h"

namespace elm {

std::unique_ptr<Task> MakeTask(const DatasetInfo& info,
                               const ExperimentSpec& spec) {
  if (info.num_classes > 0) {
    return std::make_unique<ClassificationTask>(info.num_classes, spec);
  }
  return std::make_unique<NeuronioTask>(spec);
}

}  // namespace elm
