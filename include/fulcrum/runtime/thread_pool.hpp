// SPDX-License-Identifier: Apache-2.0
/// @file runtime/thread_pool.hpp
/// `thread_pool`: a fixed pool of worker threads that the caller creates and owns, usable as the
/// executor of fulcrum's parallel paths (core/executor.hpp; e.g. pack_options::executor). bulk()
/// runs tasks 0..n-1 on the workers and on the calling thread, returns when all have finished and
/// rethrows the first exception a task threw. Not part of the umbrella header (it needs `<thread>`).
/// One bulk() at a time per pool (concurrent calls are serialised).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "fulcrum/core/executor.hpp"

namespace fulcrum {

class thread_pool {
 public:
  /// `threads` workers in total, counting the caller of bulk() (so threads - 1 are started).
  explicit thread_pool(std::size_t threads = std::thread::hardware_concurrency()) {
    const std::size_t workers = threads > 1 ? threads - 1 : 0;
    workers_.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) workers_.emplace_back([this] { work(); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  [[nodiscard]] std::size_t concurrency() const noexcept { return workers_.size() + 1; }

  void bulk(std::size_t tasks, task_ref task) {
    const std::lock_guard one_at_a_time(bulk_mutex_);
    {
      const std::lock_guard lock(mutex_);
      task_ = &task;
      tasks_ = tasks;
      next_.store(0);
      done_ = 0;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_tasks(&task, tasks);
    std::unique_lock lock(mutex_);
    // Every task done and no worker still inside this generation's run_tasks.
    finished_.wait(lock, [&] { return done_ == tasks_ && active_ == 0; });
    task_ = nullptr;
    tasks_ = 0;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_tasks(const task_ref* task, std::size_t tasks) {
    for (;;) {
      const std::size_t i = next_.fetch_add(1);
      if (i >= tasks) return;
      std::exception_ptr error;
      try {
        (*task)(i);
      } catch (...) {
        error = std::current_exception();
      }
      const std::lock_guard lock(mutex_);
      if (error && !error_) error_ = error;
      if (++done_ == tasks_) finished_.notify_all();
    }
  }
  void work() {
    std::size_t seen = 0;
    for (;;) {
      const task_ref* task = nullptr;
      std::size_t tasks = 0;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        task = task_;
        tasks = tasks_;
        ++active_;
      }
      if (task != nullptr) run_tasks(task, tasks);
      const std::lock_guard lock(mutex_);
      if (--active_ == 0) finished_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex bulk_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  const task_ref* task_ = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::size_t done_ = 0;
  std::size_t active_ = 0;  // workers inside run_tasks
  std::size_t generation_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
};

static_assert(parallel_executor<thread_pool>);

}  // namespace fulcrum
