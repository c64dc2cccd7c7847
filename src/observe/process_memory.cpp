#include "observe/process_memory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

namespace agentd::observe {
namespace {

std::int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ResidentMemory::ResidentMemory(std::chrono::milliseconds max_age)
    : max_age_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(max_age).count()),
      page_size_(static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE))),
      fd_(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) {}

ResidentMemory::~ResidentMemory() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t ResidentMemory::ReadNow() const {
  if (fd_ < 0) return 0;
  char buffer[128];
  const ssize_t n = ::pread(fd_, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return 0;
  // "size resident shared text lib data dt", in pages.
  std::string_view text(buffer, static_cast<std::size_t>(n));
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return 0;
  text.remove_prefix(space + 1);
  std::uint64_t pages = 0;
  std::from_chars(text.data(), text.data() + text.size(), pages);
  return pages * page_size_;
}

std::uint64_t ResidentMemory::Bytes() {
  const std::int64_t now = SteadyNowNs();
  const std::int64_t at = read_at_ns_.load(std::memory_order_relaxed);
  if (at != 0 && now - at < max_age_ns_) return bytes_.load(std::memory_order_relaxed);
  // Two threads may both read here; either value is current.
  const std::uint64_t bytes = ReadNow();
  bytes_.store(bytes, std::memory_order_relaxed);
  read_at_ns_.store(now, std::memory_order_relaxed);
  return bytes;
}

}  // namespace agentd::observe
