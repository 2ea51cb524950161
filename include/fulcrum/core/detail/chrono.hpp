// SPDX-License-Identifier: Apache-2.0
/// @file core/detail/chrono.hpp
/// std::chrono's durations and clocks, without what the declaration path does not need: libstdc++'s
/// <chrono> also brings its C++20 I/O and time zones (<sstream>, <locale>, ...), while
/// <bits/chrono.h> holds duration, time_point and the clocks. Other libraries get <chrono>.
#pragma once

#if defined(__GLIBCXX__) && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>  // IWYU pragma: export
#else
#include <chrono>  // IWYU pragma: export
#endif
