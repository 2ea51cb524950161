// SPDX-License-Identifier: Apache-2.0
/// @file python/src/bind_runtime.cpp
/// `fulcrum._core`: multi-dimensional pack_for_ranks (packing/rank_packing.hpp), the epoch planner
/// (runtime/epoch_plan.hpp) and the streaming batchers over 1 and 2 size dimensions
/// (runtime/streaming_batcher.hpp). Multi-dimensional sizes come as an (n, D) C-contiguous matrix,
/// D = 1..4. The GIL is released for every solve and push.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/runtime/epoch_plan.hpp"
#include "fulcrum/runtime/streaming_batcher.hpp"

namespace fulcrum_py {

using namespace nb::literals;

namespace {

template <std::size_t D, class T>
std::vector<std::array<T, D>> rows_of(const in_matrix<T>& sizes) {
  const std::size_t n = sizes.shape(0);
  const T* data = sizes.data();
  std::vector<std::array<T, D>> rows(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t d = 0; d < D; ++d) rows[i][d] = data[i * D + d];
  return rows;
}

template <std::size_t D>
std::array<std::int64_t, D> caps_of(const std::vector<std::int64_t>& capacity) {
  std::array<std::int64_t, D> cap{};
  for (std::size_t d = 0; d < D; ++d) cap[d] = capacity[d];
  return cap;
}

/// Calls f(std::integral_constant<D>) for D = sizes.shape(1) in 1..4, after checking the capacity.
template <class T, class F>
auto with_dims(const char* where, const in_matrix<T>& sizes, const std::vector<std::int64_t>& capacity, F&& f) {
  const std::size_t dims = sizes.shape(1);
  if (capacity.size() != dims)
    throw fulcrum::invalid_input(
        fulcrum::detail::describe(where, "capacity", capacity.size(), "needs one entry per size column"));
  switch (dims) {
    case 1:
      return f(std::integral_constant<std::size_t, 1>{});
    case 2:
      return f(std::integral_constant<std::size_t, 2>{});
    case 3:
      return f(std::integral_constant<std::size_t, 3>{});
    case 4:
      return f(std::integral_constant<std::size_t, 4>{});
    default:
      throw fulcrum::invalid_input(
          fulcrum::detail::describe(where, "sizes.shape[1]", dims, "the Python binding handles 1 to 4 dimensions"));
  }
}

nb::dict rank_packing_dict(fulcrum::rank_packing&& p) {
  nb::dict d;
  put_groups(d, p.bins.groups());
  d["steps"] = p.steps();
  d["ranks"] = p.ranks();
  d["dims"] = p.dims;
  d["loads"] = to_numpy(std::move(p.loads));
  d["lower_bound"] = p.lower_bound;
  d["used_bins"] = p.used_bins;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  d["dist"] = to_numpy(std::move(p.dist));
  d["pad"] = to_numpy(std::move(p.pad));
  return d;
}

// ---- pack_for_ranks (D = 1..4) -------------------------------------------------------------------

template <class T>
nb::dict pack_for_ranks_nd(const in_matrix<T>& sizes, const std::vector<std::int64_t>& capacity, std::size_t ranks,
                           const std::string& oversize, std::size_t passes, bool shuffle, std::uint64_t seed) {
  fulcrum::rank_pack_options opts;
  opts.oversize_policy = fulcrum::parse_enum<fulcrum::oversize>(oversize, "oversize");
  opts.passes = passes;
  opts.shuffle = shuffle;
  opts.seed = seed;
  fulcrum::rank_packing p = with_dims("pack_for_ranks", sizes, capacity, [&](auto dim) {
    constexpr std::size_t D = decltype(dim)::value;
    nb::gil_scoped_release release;
    return fulcrum::pack_for_ranks(rows_of<D>(sizes), caps_of<D>(capacity), ranks, opts);
  });
  return rank_packing_dict(std::move(p));
}

// ---- epoch planner -------------------------------------------------------------------------------

struct py_epoch_planner {
  std::variant<std::monostate, fulcrum::epoch_planner<1>, fulcrum::epoch_planner<2>, fulcrum::epoch_planner<3>,
               fulcrum::epoch_planner<4>>
      p;

  template <class F>
  auto visit(F&& f) const {
    return std::visit(
        [&](const auto& x) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(x)>, std::monostate>) {
            throw fulcrum::invalid_input("EpochPlanner: not constructed");
            return f(std::get<1>(p));  // unreachable; fixes the return type
          } else {
            return f(x);
          }
        },
        p);
  }
};

template <class T>
void epoch_init(py_epoch_planner* self, const in_matrix<T>& sizes, const std::vector<std::int64_t>& capacity,
                std::size_t ranks, const std::string& oversize, std::size_t passes, std::size_t repack_rounds,
                double full_slack, std::size_t chunks, std::size_t perturb_rounds, bool shuffle, std::uint64_t seed) {
  fulcrum::epoch_plan_options opts;
  opts.oversize_policy = fulcrum::parse_enum<fulcrum::oversize>(oversize, "oversize");
  opts.passes = passes;
  opts.repack_rounds = repack_rounds;
  opts.full_slack = full_slack;
  opts.chunks = chunks;
  opts.perturb_rounds = perturb_rounds;
  opts.shuffle = shuffle;
  opts.seed = seed;
  new (self) py_epoch_planner();
  with_dims("make_epoch_planner", sizes, capacity, [&](auto dim) {
    constexpr std::size_t D = decltype(dim)::value;
    nb::gil_scoped_release release;
    const auto rows = rows_of<D>(sizes);
    if constexpr (D == 1) {
      std::vector<T> flat(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) flat[i] = rows[i][0];
      self->p.template emplace<1>(fulcrum::make_epoch_planner(flat, capacity[0], ranks, opts));
    } else {
      self->p.template emplace<D>(fulcrum::make_epoch_planner(rows, caps_of<D>(capacity), ranks, opts));
    }
    return 0;
  });
}

void bind_epoch_planner(nb::module_& m) {
  auto cls = nb::class_<py_epoch_planner>(m, "EpochPlanner",
                                          "fulcrum::epoch_planner<D>: rank-aware packing of a dataset, per epoch.");
#define FULCRUM_PY_EPOCH(T)                                                                                            \
  cls.def("__init__", &epoch_init<T>, "sizes"_a, "capacity"_a, "ranks"_a, "oversize"_a, "passes"_a, "repack_rounds"_a, \
          "full_slack"_a, "chunks"_a, "perturb_rounds"_a, "shuffle"_a, "seed"_a);
  FULCRUM_PY_EPOCH(std::uint64_t)
  FULCRUM_PY_EPOCH(std::int64_t)
  FULCRUM_PY_EPOCH(double)
#undef FULCRUM_PY_EPOCH
  cls.def(
         "plan",
         [](const py_epoch_planner& self, std::uint64_t epoch) {
           fulcrum::rank_packing p = self.visit([&](const auto& x) {
             nb::gil_scoped_release release;
             return x.plan(epoch);
           });
           return rank_packing_dict(std::move(p));
         },
         "epoch"_a)
      .def(
          "rank_plan",
          [](const py_epoch_planner& self, std::uint64_t epoch, std::size_t rank, std::size_t first_step) {
            fulcrum::rank_schedule s = self.visit([&](const auto& x) {
              nb::gil_scoped_release release;
              return x.rank_plan(epoch, rank, first_step);
            });
            std::vector<std::uint64_t> offsets{0};
            std::vector<std::uint32_t> indices;
            for (const auto& mb : s.micro_batches) {
              indices.insert(indices.end(), mb.begin(), mb.end());
              offsets.push_back(indices.size());
            }
            nb::dict d;
            d["epoch"] = s.epoch;
            d["rank"] = s.rank;
            d["first_step"] = s.first_step;
            d["steps"] = s.steps;
            d["offsets"] = to_numpy(std::move(offsets));
            d["indices"] = to_numpy(std::move(indices));
            return d;
          },
          "epoch"_a, "rank"_a, "first_step"_a)
      .def("lower_bound",
           [](const py_epoch_planner& self) { return self.visit([](const auto& x) { return x.lower_bound(); }); });
}

// ---- streaming batchers (D = 1..4) --------------------------------------------------------------

template <std::size_t D>
fulcrum::stream_options<D> stream_opts(const std::vector<std::uint64_t>& caps, std::size_t ranks, std::size_t buffer,
                                       std::uint64_t seed, bool shuffle, std::size_t warmup_steps, double warmup_start,
                                       bool drop_last, std::size_t max_wait, const std::string& oversize,
                                       std::size_t passes, double keep_fill, double keep_share,
                                       std::uint32_t max_keep_rounds, std::size_t pad_multiple) {
  if (caps.size() != D)
    throw fulcrum::invalid_input(
        fulcrum::detail::describe("StreamingBatcher", "capacity", caps.size(), "has the wrong number of dimensions"));
  fulcrum::stream_options<D> o;
  for (std::size_t d = 0; d < D; ++d) o.caps[d] = caps[d];
  o.ranks = ranks;
  o.buffer = buffer;
  o.seed = seed;
  o.shuffle = shuffle;
  o.warmup_steps = warmup_steps;
  o.warmup_start = warmup_start;
  o.end = drop_last ? fulcrum::stream_end::drop_last : fulcrum::stream_end::flush;
  o.max_wait = max_wait;
  o.oversize_policy = fulcrum::parse_enum<fulcrum::oversize>(oversize, "oversize");
  o.passes = passes;
  o.keep_fill = keep_fill;
  o.keep_share = keep_share;
  o.max_keep_rounds = max_keep_rounds;
  o.pad_multiple = pad_multiple;
  return o;
}

/// The Python-side batcher: the C++ one, re-creatable from (options, state bytes). Every call
/// releases the GIL (a push may run a packing round) and takes the batcher's mutex, so Python
/// threads sharing one batcher are serialised rather than racing.
template <std::size_t D>
struct py_batcher {
  using batcher = fulcrum::streaming_batcher<D>;
  using sizes_type = std::array<std::uint64_t, D>;
  std::optional<batcher> b;
  mutable std::mutex mu;

  /// f(batcher&) with the GIL released and the mutex held (the mutex is released first on return).
  template <class F>
  auto locked(F&& f) const {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu);
    return f(const_cast<batcher&>(*b));
  }

  static sizes_type sizes_of(const std::vector<std::uint64_t>& v) {
    if (v.size() != D)
      throw fulcrum::invalid_input(
          fulcrum::detail::describe("StreamingBatcher.push", "size", v.size(), "has the wrong number of dimensions"));
    sizes_type s{};
    for (std::size_t d = 0; d < D; ++d) s[d] = v[d];
    return s;
  }

  nb::object next() {
    std::optional<fulcrum::stream_step> s = locked([](batcher& x) { return x.next(); });
    if (!s) return nb::none();
    std::vector<std::uint64_t> offsets(s->offsets.begin(), s->offsets.end());
    nb::dict d;
    d["index"] = s->index;
    d["ranks"] = s->ranks;
    d["dims"] = s->dims;
    d["offsets"] = to_numpy(std::move(offsets));
    d["ids"] = to_numpy(std::move(s->ids));
    d["loads"] = to_numpy(std::move(s->loads));
    d["costs"] = to_numpy(std::move(s->costs));
    d["cap"] = s->caps.empty() ? std::uint64_t{0} : s->caps.back();
    d["caps"] = to_numpy(std::move(s->caps));
    d["pad_multiple"] = s->pad_multiple;
    return d;
  }
};

template <std::size_t D>
void bind_batcher(nb::module_& m, const char* name) {
  using pyb = py_batcher<D>;
  using batcher = typename pyb::batcher;
  nb::class_<pyb>(m, name, "fulcrum::streaming_batcher<D>: online balanced micro-batches.")
      .def(
          "__init__",
          [](pyb* self, const std::vector<std::uint64_t>& caps, std::size_t ranks, std::size_t buffer,
             std::uint64_t seed, bool shuffle, std::size_t warmup_steps, double warmup_start, bool drop_last,
             std::size_t max_wait, const std::string& oversize, std::size_t passes, double keep_fill, double keep_share,
             std::uint32_t max_keep_rounds, std::size_t pad_multiple, std::optional<nb::bytes> state) {
            new (self) pyb();
            auto o = stream_opts<D>(caps, ranks, buffer, seed, shuffle, warmup_steps, warmup_start, drop_last, max_wait,
                                    oversize, passes, keep_fill, keep_share, max_keep_rounds, pad_multiple);
            if (state) {
              const auto* p = static_cast<const std::byte*>(static_cast<const void*>(state->c_str()));
              self->b.emplace(batcher::restore(std::span<const std::byte>(p, state->size()), std::move(o)));
            } else {
              self->b.emplace(std::move(o));
            }
          },
          "capacity"_a, "ranks"_a, "buffer"_a, "seed"_a, "shuffle"_a, "warmup_steps"_a, "warmup_start"_a, "drop_last"_a,
          "max_wait"_a, "oversize"_a, "passes"_a, "keep_fill"_a, "keep_share"_a, "max_keep_rounds"_a, "pad_multiple"_a,
          "state"_a = nb::none())
      .def(
          "push",
          [](pyb& self, std::uint64_t id, const std::vector<std::uint64_t>& size) {
            const auto s = pyb::sizes_of(size);
            self.locked([&](batcher& x) { x.push(id, s); });
          },
          "id"_a, "size"_a)
      .def(
          "push_cost",
          [](pyb& self, std::uint64_t id, const std::vector<std::uint64_t>& size, double cost) {
            const auto s = pyb::sizes_of(size);
            self.locked([&](batcher& x) { x.push(id, s, cost); });
          },
          "id"_a, "size"_a, "cost"_a)
      .def(
          "push_many",
          [](pyb& self, const in_array<std::uint64_t>& ids, const in_matrix<std::uint64_t>& sizes) {
            if (ids.shape(0) != sizes.shape(0) || sizes.shape(1) != D)
              throw fulcrum::invalid_input(fulcrum::detail::describe(
                  "StreamingBatcher.push_many", "sizes", sizes.shape(0), "differs in length from ids or in columns"));
            const auto i = span_of(ids);
            const std::uint64_t* s = sizes.data();
            self.locked([&](batcher& x) {
              for (std::size_t k = 0; k < i.size(); ++k) {
                typename pyb::sizes_type v{};
                for (std::size_t d = 0; d < D; ++d) v[d] = s[k * D + d];
                x.push(i[k], v);
              }
            });
          },
          "ids"_a, "sizes"_a)
      .def("next", &pyb::next)
      .def("finish", [](pyb& self) { self.locked([](batcher& x) { x.finish(); }); })
      .def("ready", [](const pyb& self) { return self.locked([](batcher& x) { return x.ready(); }); })
      .def("buffered", [](const pyb& self) { return self.locked([](batcher& x) { return x.buffered(); }); })
      .def("finished", [](const pyb& self) { return self.locked([](batcher& x) { return x.finished(); }); })
      .def("dropped", [](const pyb& self) { return to_numpy(self.locked([](batcher& x) { return x.dropped(); })); })
      .def("stats",
           [](const pyb& self) {
             auto s = self.locked([](batcher& x) { return x.stats(); });
             nb::dict d;
             d["pushed"] = s.pushed;
             d["emitted"] = s.emitted;
             d["dropped"] = s.dropped;
             d["steps"] = s.steps;
             d["micro_batches"] = s.micro_batches;
             d["rounds"] = s.rounds;
             d["lower_bound"] = s.lower_bound;
             d["dist"] = s.dist.empty() ? 0.0 : s.dist.back();
             d["dist_per_dim"] = to_numpy(std::move(s.dist));
             d["cost_dist"] = s.cost_dist;
             d["proven_optimal"] = s.proven_optimal;
             d["gap"] = s.gap();
             return d;
           })
      .def("state", [](const pyb& self) {
        const std::vector<std::byte> bytes = self.locked([](batcher& x) { return x.state(); });
        return nb::bytes(bytes.data(), bytes.size());
      });
}

}  // namespace

void bind_runtime(nb::module_& m) {
  m.def("pack_for_ranks", &pack_for_ranks_nd<std::uint64_t>, "sizes"_a, "capacity"_a, "ranks"_a, "oversize"_a,
        "passes"_a, "shuffle"_a, "seed"_a);
  m.def("pack_for_ranks", &pack_for_ranks_nd<std::int64_t>, "sizes"_a, "capacity"_a, "ranks"_a, "oversize"_a,
        "passes"_a, "shuffle"_a, "seed"_a);
  m.def("pack_for_ranks", &pack_for_ranks_nd<double>, "sizes"_a, "capacity"_a, "ranks"_a, "oversize"_a, "passes"_a,
        "shuffle"_a, "seed"_a);
  bind_epoch_planner(m);
  bind_batcher<1>(m, "StreamingBatcher");
  bind_batcher<2>(m, "StreamingBatcher2");
  bind_batcher<3>(m, "StreamingBatcher3");
  bind_batcher<4>(m, "StreamingBatcher4");
}

}  // namespace fulcrum_py
