#pragma once
// A temporary directory removed (recursively) when the object dies.

#include <filesystem>
#include <string>

namespace agentd::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace agentd::testing
