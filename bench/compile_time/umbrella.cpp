// SPDX-License-Identifier: Apache-2.0
// Compile-time probe (bench/compile_time.sh): the umbrella header alone.
#include <fulcrum/fulcrum.hpp>
