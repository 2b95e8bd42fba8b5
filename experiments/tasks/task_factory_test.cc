// Tests of the choice of an experiment's task from its data.
#include "experiments/tasks/task_factory.h"

#include <memory>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(MakeTaskTest, ClassLabelsMakeAClassificationTask) {
  DatasetInfo info;
  info.name = "shd";
  info.num_classes = 20;
  const std::unique_ptr<Task> task = MakeTask(info, ExperimentSpec());
  EXPECT_EQ(task->name(), "classification");
  EXPECT_EQ(task->num_outputs(), 20);
  EXPECT_EQ(task->outputs_description(), "one per class");
}

TEST(MakeTaskTest, PerStepTargetsMakeTheNeuronioTask) {
  DatasetInfo info;
  info.name = "neuronio";
  info.input_dim = 1278;
  const std::unique_ptr<Task> task = MakeTask(info, ExperimentSpec());
  EXPECT_EQ(task->name(), "neuronio");
  EXPECT_EQ(task->num_outputs(), 2);
  EXPECT_EQ(task->outputs_description(), "spike logit and soma voltage");
}

}  // namespace
}  // namespace elm
