// ThreadPool: a fixed set of worker threads for data-parallel training steps.
// `Run(n, fn)` calls fn(0), …, fn(n − 1), task 0 on the calling thread and the
// rest on the workers, and returns when all are done. With one tape and one
// GradBlock per task, summed in task order afterwards, a step is deterministic
// for a given thread count. Threads are started once, so a step pays a wake-up,
// not a thread creation.
//
// Example:
//   ThreadPool pool(2);
//   pool.Run(2, [&](int shard) { StepOnHalfBatch(shard, tapes[shard],
//   grads[shard]); }); grads[0].Add(grads[1]);
#ifndef ELM_BASE_THREAD_POOL_H_
#define ELM_BASE_THREAD_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace elm {

class ThreadPool {
 public:
  // `num_threads` ≥ 1 counts the calling thread: ThreadPool(1) starts no
  // worker.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(i) for i in [0, num_tasks), num_tasks ≤ num_threads(), and waits
  // for all.
  void Run(int num_tasks, const std::function<void(int)>& fn);

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  int num_tasks_ = 0;
  int64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace elm

#endif  // ELM_BASE_THREAD_POOL_H_
