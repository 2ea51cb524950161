// fulcrum: load-balancing algorithms for large-model training.
// SPDX-License-Identifier: Apache-2.0
/// @file version.hpp
/// The one source of the library version. CMake reads FULCRUM_VERSION_{MAJOR,MINOR,PATCH} from here.
#pragma once

#define FULCRUM_VERSION_MAJOR 0
#define FULCRUM_VERSION_MINOR 1
#define FULCRUM_VERSION_PATCH 0
/// Single integer, e.g. 100 for 0.1.0 (major * 10000 + minor * 100 + patch).
#define FULCRUM_VERSION (FULCRUM_VERSION_MAJOR * 10000 + FULCRUM_VERSION_MINOR * 100 + FULCRUM_VERSION_PATCH)

namespace fulcrum {
inline constexpr int version_major = FULCRUM_VERSION_MAJOR;
inline constexpr int version_minor = FULCRUM_VERSION_MINOR;
inline constexpr int version_patch = FULCRUM_VERSION_PATCH;
}  // namespace fulcrum
