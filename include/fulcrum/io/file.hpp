// SPDX-License-Identifier: Apache-2.0
/// @file io/file.hpp
/// `write_file_atomically`: writes a whole file through a temporary next to it and renames it into
/// place, so a reader (or a crash) never sees a half-written plan or chart. O(bytes).
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace fulcrum::io {

/// Writes `contents` to `path` via `path.tmp` + rename. Throws std::runtime_error naming the path
/// on failure, leaving any previous file at `path` untouched and no temporary behind.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot open for writing");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw std::runtime_error(path.string() + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error(path.string() + ": cannot rename the temporary file into place: " + ec.message());
  }
}

}  // namespace fulcrum::io
