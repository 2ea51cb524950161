// SPDX-License-Identifier: Apache-2.0
/// @file io/file.hpp
/// Writing output files so that a reader (or a crash, or an error) never sees a half-written one.
///
/// - `output_set`: several files committed together or not at all. `add(path, contents)` writes
///   each one to a temporary file next to its target (same directory, so the final rename stays
///   on one file system); `commit()` then moves every temporary into place. Any failure, while
///   writing or while renaming, removes the temporaries, puts back the files that were already
///   replaced (their previous contents are kept aside until the commit succeeds) and throws
///   std::runtime_error naming the path: afterwards either every target holds its new contents
///   or every target is as it was. An output_set destroyed without `commit()` leaves no trace.
/// - `write_file_atomically(path, contents)`: the same for one file.
///
/// O(bytes written); two renames per file.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace fulcrum::io {

/// Output files committed together or not at all (see the file comment).
class output_set {
 public:
  output_set() = default;
  output_set(const output_set&) = delete;
  output_set& operator=(const output_set&) = delete;
  ~output_set() { rollback(); }

  /// Writes `contents` to a temporary file next to `path`. Throws std::runtime_error naming
  /// `path` (and removes every temporary of this set) when it cannot be written.
  void add(const std::filesystem::path& path, std::string_view contents) {
    entry e;
    e.target = path;
    e.temp = sibling(path, "tmp");
    try {
      std::ofstream out(e.temp, std::ios::binary | std::ios::trunc);
      if (!out) fail(path, "cannot open for writing" + why_not(path));
      entries_.push_back(e);  // from here on the temporary exists and is cleaned up on failure
      out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
      out.flush();
      if (!out) fail(path, "write failed");
      out.close();
      if (!out) fail(path, "write failed");
    } catch (...) {
      rollback();
      throw;
    }
  }

  /// Moves every file into place; on any failure restores every target and throws.
  void commit() {
    std::size_t done = 0;
    try {
      for (; done < entries_.size(); ++done) {
        entry& e = entries_[done];
        std::error_code ec;
        const auto st = std::filesystem::symlink_status(e.target, ec);
        if (std::filesystem::is_directory(st)) fail(e.target, "is a directory, cannot replace it with a file");
        if (std::filesystem::exists(st)) {
          e.backup = sibling(e.target, "old");
          std::filesystem::rename(e.target, e.backup, ec);
          if (ec) {
            e.backup.clear();
            fail(e.target, "cannot move the previous file aside: " + ec.message());
          }
        }
        std::filesystem::rename(e.temp, e.target, ec);
        if (ec) fail(e.target, "cannot move the new file into place: " + ec.message());
        e.placed = true;
      }
    } catch (...) {
      rollback();
      throw;
    }
    for (auto& e : entries_) {
      std::error_code ignored;
      if (!e.backup.empty()) std::filesystem::remove(e.backup, ignored);
    }
    entries_.clear();
  }

 private:
  struct entry {
    std::filesystem::path target, temp, backup;
    bool placed = false;
  };

  [[noreturn]] static void fail(const std::filesystem::path& path, const std::string& what) {
    throw std::runtime_error(path.string() + ": " + what);
  }

  /// Why `path` cannot be opened, when a look at its directory can tell.
  static std::string why_not(const std::filesystem::path& path) {
    std::error_code ec;
    const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    const auto st = std::filesystem::status(dir, ec);
    if (!std::filesystem::exists(st)) return ": directory " + dir.string() + " does not exist";
    if (!std::filesystem::is_directory(st)) return ": " + dir.string() + " is not a directory";
    if (std::filesystem::is_directory(std::filesystem::status(path, ec))) return ": it is a directory";
    return "";
  }

  /// A fresh name next to `path`: ".name.<clock ticks>-<counter>.<kind>" (hidden, unique).
  static std::filesystem::path sibling(const std::filesystem::path& path, const char* kind) {
    static std::atomic<std::uint64_t> counter{0};
    const auto n = counter.fetch_add(1, std::memory_order_relaxed);
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    std::string name(1, '.');  // built by appending: GCC 12 misreports "." + std::string (-Wrestrict)
    name.append(path.filename().string()).append(1, '.').append(std::to_string(ticks));
    name.append(1, '-').append(std::to_string(n)).append(1, '.').append(kind);
    return path.parent_path() / name;
  }

  /// Undoes everything: new files out, previous files back, temporaries removed. Never throws.
  void rollback() noexcept {
    for (std::size_t i = entries_.size(); i-- > 0;) {
      entry& e = entries_[i];
      std::error_code ignored;
      if (e.placed) std::filesystem::remove(e.target, ignored);
      if (!e.backup.empty()) std::filesystem::rename(e.backup, e.target, ignored);
      std::filesystem::remove(e.temp, ignored);
    }
    entries_.clear();
  }

  std::vector<entry> entries_;
};

/// Writes `contents` to `path` through a temporary next to it and a rename. Throws
/// std::runtime_error naming the path on failure, leaving any previous file at `path` untouched
/// and no temporary behind.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  output_set out;
  out.add(path, contents);
  out.commit();
}

}  // namespace fulcrum::io
