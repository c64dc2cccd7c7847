#include "storage/sqlite/file_guard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace agentd::storage::sqlite {

Result<std::unique_ptr<FileGuard>> FileGuard::Open(const std::string& db_path,
                                                   std::uint64_t reserve_bytes) {
  int fd = ::open(db_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(Errc::kUnavailable,
                     fmt::format("open {}: {}", db_path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return MakeError(Errc::kUnavailable, fmt::format("stat {}: {}", db_path, std::strerror(err)));
  }
  std::unique_ptr<FileGuard> guard(new FileGuard(db_path, fd, st.st_dev, st.st_ino, reserve_bytes));
  // Left by a start with a reserve: give the space back. (With a reserve, the storage thread
  // creates it first thing and reports storage as not writable when it cannot.)
  if (reserve_bytes == 0) ::unlink(guard->reserve_path_.c_str());
  return guard;
}

FileGuard::FileGuard(std::string path, int fd, std::uint64_t dev, std::uint64_t ino,
                     std::uint64_t reserve_bytes)
    : path_(std::move(path)),
      fd_(fd),
      dev_(dev),
      ino_(ino),
      reserve_bytes_(reserve_bytes),
      reserve_path_(path_ + ".reserve") {}

FileGuard::~FileGuard() { ::close(fd_); }

std::string FileGuard::CheckLinked() const {
  struct stat open_file {};
  if (::fstat(fd_, &open_file) == 0 && open_file.st_nlink == 0) {
    return fmt::format("the database file {} was deleted", path_);
  }
  struct stat at_path {};
  if (::stat(path_.c_str(), &at_path) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return fmt::format("the database file {} was moved or deleted (the path no longer exists)",
                         path_);
    }
    return fmt::format("the database file {} cannot be checked: {}", path_, std::strerror(errno));
  }
  if (static_cast<std::uint64_t>(at_path.st_dev) != dev_ ||
      static_cast<std::uint64_t>(at_path.st_ino) != ino_) {
    return fmt::format("the database file {} was replaced by another file", path_);
  }
  return {};
}

Status FileGuard::EnsureReserve() {
  if (reserve_bytes_ == 0 || reserve_held_) return Status{};
  int fd = ::open(reserve_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(Errc::kResourceExhausted,
                     fmt::format("cannot create the reserve {}: {}", reserve_path_,
                                 std::strerror(errno)));
  }
  // Allocated blocks, not a sparse file: only then does deleting it give space back.
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(reserve_bytes_));
  if (err == 0 && ::ftruncate(fd, static_cast<off_t>(reserve_bytes_)) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(reserve_path_.c_str());  // a partial reserve would only take space
    return MakeError(Errc::kResourceExhausted,
                     fmt::format("cannot reserve {} bytes at {}: {}", reserve_bytes_,
                                 reserve_path_, std::strerror(err)));
  }
  reserve_held_ = true;
  return Status{};
}

bool FileGuard::ReleaseReserve() {
  if (!reserve_held_) return false;
  reserve_held_ = false;
  return ::unlink(reserve_path_.c_str()) == 0;
}

}  // namespace agentd::storage::sqlite
