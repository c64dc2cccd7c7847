#pragma once
// The console's files (ui/, built into build/ui by `make build`), read into memory once at
// start-up so that serving them never touches the disk from an event loop.
//
// Load() takes every regular file under a directory (at most kMaxFiles files, kMaxBytes in
// all; a larger tree is refused, not truncated). A file `x.gz` beside `x` is not served by its
// own name: it becomes x's gzip variant, sent to clients that accept gzip. Each file gets a
// strong ETag (FNV-1a of its bytes) and a Content-Type from its extension. Immutable after
// Load(): safe to read from every event loop.
// Tests: tests/unit/api/console_assets_test.cpp.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace agentd::api {

struct ConsoleAsset {
  std::string body;
  std::string gzip;  // "" = no gzip variant
  std::string content_type;
  std::string etag;  // quoted, e.g. "\"9f2c...\""
  // Vite names built assets after their content (assets/index-3f9a1c.js): cacheable forever.
  bool immutable = false;
};

class ConsoleAssets {
 public:
  static constexpr std::size_t kMaxFiles = 512;
  static constexpr std::size_t kMaxBytes = 64 * 1024 * 1024;

  // kNotFound when `dir` does not exist or has no index.html; kResourceExhausted past the
  // bounds above; kUnavailable when a file cannot be read.
  static Result<std::shared_ptr<const ConsoleAssets>> Load(const std::filesystem::path& dir);

  // `path` relative to the directory, '/'-separated, without a leading '/' ("assets/app.js").
  // Null when there is no such file.
  const ConsoleAsset* Find(std::string_view path) const;
  const ConsoleAsset& index() const { return *index_; }
  std::size_t file_count() const { return files_.size(); }
  std::size_t total_bytes() const { return total_bytes_; }
  const std::string& dir() const { return dir_; }

 private:
  std::map<std::string, ConsoleAsset, std::less<>> files_;
  const ConsoleAsset* index_ = nullptr;
  std::size_t total_bytes_ = 0;
  std::string dir_;
};

// Content-Type for a file name by its extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view path);

}  // namespace agentd::api
