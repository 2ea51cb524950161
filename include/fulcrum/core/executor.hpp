// SPDX-License-Identifier: Apache-2.0
/// @file core/executor.hpp
/// `executor_ref`: how a caller lends fulcrum its threads. fulcrum never starts a thread of its
/// own; an algorithm with a parallel path (pack_options::executor) splits its work into tasks and
/// hands them to the caller's executor, or runs them in order on the calling thread when none is
/// given (the default). Results never depend on the executor: the same input gives the same plan
/// serially, on 2 threads or on 64.
///
/// An executor is any object `e` with
///   - `e.concurrency()`: how many tasks it can run at once (>= 1), and
///   - `e.bulk(std::size_t tasks, fulcrum::task_ref task)`: runs task(0) .. task(tasks - 1), on any
///     threads in any order, and returns once every one has finished.
/// `fulcrum/runtime/thread_pool.hpp` is one (a fixed pool the caller owns); an adaptor over
/// Taskflow, TBB or a trainer's own pool is a few lines. The executor is held by reference: it
/// must outlive the call. A task that throws makes bulk() rethrow (thread_pool does so).
#pragma once

#include <concepts>
#include <cstddef>

namespace fulcrum {

/// A non-owning reference to a task `void(std::size_t)`, cheap to copy.
class task_ref {
 public:
  template <class F>
  requires std::invocable<const F&, std::size_t>
  explicit task_ref(const F& f) noexcept
      : ctx_(&f), call_([](const void* c, std::size_t i) { (*static_cast<const F*>(c))(i); }) {}
  void operator()(std::size_t i) const { call_(ctx_, i); }

 private:
  const void* ctx_;
  void (*call_)(const void*, std::size_t);
};

/// What an executor must offer (see file docs).
template <class E>
concept parallel_executor = requires(E& e, std::size_t tasks, task_ref task) {
  { e.concurrency() } -> std::convertible_to<std::size_t>;
  e.bulk(tasks, task);
};

/// A type-erased reference to a parallel_executor, or to none (serial, the default).
class executor_ref {
 public:
  constexpr executor_ref() noexcept = default;
  template <parallel_executor E>
  executor_ref(E& e) noexcept  // NOLINT(google-explicit-constructor): lending an executor reads naturally
      : ctx_(&e),
        concurrency_([](void* c) -> std::size_t { return static_cast<E*>(c)->concurrency(); }),
        bulk_([](void* c, std::size_t tasks, task_ref task) { static_cast<E*>(c)->bulk(tasks, task); }) {}

  /// Tasks that can run at once: 1 without an executor.
  [[nodiscard]] std::size_t concurrency() const {
    if (ctx_ == nullptr) return 1;
    const std::size_t c = concurrency_(ctx_);
    return c == 0 ? 1 : c;
  }
  /// Runs f(0) .. f(tasks - 1): on the executor, or in order here without one.
  template <class F>
  void bulk(std::size_t tasks, const F& f) const {
    if (ctx_ == nullptr || tasks <= 1) {
      for (std::size_t i = 0; i < tasks; ++i) f(i);
      return;
    }
    bulk_(ctx_, tasks, task_ref(f));
  }
  [[nodiscard]] bool parallel() const { return ctx_ != nullptr && concurrency() > 1; }

 private:
  void* ctx_ = nullptr;
  std::size_t (*concurrency_)(void*) = nullptr;
  void (*bulk_)(void*, std::size_t, task_ref) = nullptr;
};

}  // namespace fulcrum
