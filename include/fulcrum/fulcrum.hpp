// SPDX-License-Identifier: Apache-2.0
/// @file fulcrum.hpp
/// Umbrella header: everything CPU-only (no CUDA, MPI or NCCL include). GPU backends are in
/// <fulcrum/cuda/*.cuh>, the NCCL communicator in <fulcrum/nccl/...>, MPI in <fulcrum/comm/mpi...>.
#pragma once

#include "fulcrum/version.hpp"

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/bounds.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/sample.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"

#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/partition.hpp"
