#pragma once
// Private to sqlite/: what the storage thread knows about the database file on disk.
//
// - Identity: the file is opened once more, read-only, at start; its (device, inode) is the
//   database. If that inode is no longer linked (st_nlink 0: the file or its directory was
//   deleted) or the path now names another file (moved away, replaced), every write would go
//   to a file nobody will ever open again: CheckLinked() says so, and the storage refuses
//   writes from then on. The open descriptor keeps the deleted data readable until exit
//   (/proc/<pid>/fd/<fd()>), which the log tells the operator.
// - The reserve: a file of `reserve_bytes` next to the database (`<db>.reserve`), allocated at
//   start. When the disk fills up, deleting it gives SQLite room to record how the runs that
//   were executing ended (status `error`, their threads released) instead of leaving them
//   `running`. Recreating it is how the storage thread learns that space is back.
//
// Not thread-safe: only the storage thread (and the factory, before it starts) use it.

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.hpp"

namespace agentd::storage::sqlite {

class FileGuard {
 public:
  // Remembers the identity of the database file at `db_path` (which must exist); the reserve
  // is made by EnsureReserve. kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<FileGuard>> Open(const std::string& db_path,
                                                 std::uint64_t reserve_bytes);
  ~FileGuard();
  FileGuard(const FileGuard&) = delete;
  FileGuard& operator=(const FileGuard&) = delete;

  // Empty while the file opened at start is still the one linked at its path; otherwise a
  // sentence saying what happened to it ("... was deleted", "... was replaced by another
  // file"). Two stat calls.
  std::string CheckLinked() const;

  // (Re)creates the reserve at its full size; kResourceExhausted (naming the errno) when the
  // space is not there, and then no partial file is left behind. Success at once when
  // reserve_bytes is 0 or the reserve is held.
  Status EnsureReserve();
  // Deletes the reserve; true when there was one to give back.
  bool ReleaseReserve();
  bool reserve_held() const { return reserve_held_; }
  std::uint64_t reserve_bytes() const { return reserve_bytes_; }
  const std::string& reserve_path() const { return reserve_path_; }
  const std::string& path() const { return path_; }
  // The read-only descriptor of the database inode (valid until destruction).
  int fd() const { return fd_; }

 private:
  FileGuard(std::string path, int fd, std::uint64_t dev, std::uint64_t ino,
            std::uint64_t reserve_bytes);

  std::string path_;
  int fd_;
  std::uint64_t dev_;
  std::uint64_t ino_;
  std::uint64_t reserve_bytes_;
  std::string reserve_path_;
  bool reserve_held_ = false;
};

}  // namespace agentd::storage::sqlite
