// SPDX-License-Identifier: Apache-2.0
// fulcrum::compiled: the span-level workers of the pipeline and recompute front doors
// (partition_stages, evaluate_partition, uniform_boundaries, simulate_schedule, search_partition,
// select_recompute, joint_partition_recompute, evaluate_pipeline), built once. One TU for both
// areas: recompute/detail/joint_impl.hpp builds on pipeline/detail/search_impl.hpp.
#if !defined(FULCRUM_COMPILED)
#error "src/pipeline.cpp is built by the fulcrum::compiled target, which defines FULCRUM_COMPILED"
#endif

#include "fulcrum/pipeline/detail/partition_impl.hpp"
#include "fulcrum/pipeline/detail/schedule_impl.hpp"
#include "fulcrum/pipeline/detail/search_impl.hpp"
#include "fulcrum/recompute/detail/joint_impl.hpp"
#include "fulcrum/recompute/detail/select_impl.hpp"
