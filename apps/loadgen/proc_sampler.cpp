#include "loadgen/proc_sampler.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace agentd::loadgen {

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  ProcStat out;
  out.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      out.rss_kb = std::stoull(line.substr(6));
      break;
    }
  }
  return out;
}

std::optional<ProcStat> ProcSampler::ReadAll() const {
  std::optional<ProcStat> total;
  for (pid_t pid : pids_) {
    auto s = ReadProcStat(pid);
    if (!s) continue;
    if (!total) total.emplace();
    total->rss_kb += s->rss_kb;
    total->cpu_seconds += s->cpu_seconds;
  }
  return total;
}

ProcSampler::ProcSampler(std::vector<pid_t> pids, std::chrono::milliseconds period) : period_(period) {
  for (pid_t pid : pids) {
    if (pid > 0) pids_.push_back(pid);
  }
  if (pids_.empty()) return;
  if (auto s = ReadAll()) {
    usage_.baseline_rss_kb = usage_.peak_rss_kb = usage_.end_rss_kb = s->rss_kb;
    cpu_start_ = s->cpu_seconds;
    usage_.samples = 1;
  }
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      std::this_thread::sleep_for(period_);  // a plain thread, not an event loop
      Sample();
    }
  });
}

ProcSampler::~ProcSampler() { Stop(); }

void ProcSampler::Sample() {
  auto s = ReadAll();
  if (!s) return;
  std::lock_guard lock(mutex_);
  usage_.peak_rss_kb = std::max(usage_.peak_rss_kb, s->rss_kb);
  usage_.end_rss_kb = s->rss_kb;
  usage_.cpu_seconds = s->cpu_seconds - cpu_start_;
  ++usage_.samples;
}

ServerUsage ProcSampler::Snapshot() {
  if (!pids_.empty()) Sample();
  std::lock_guard lock(mutex_);
  return usage_;
}

ServerUsage ProcSampler::Stop() {
  stop_.store(true);
  if (thread_.joinable()) {
    thread_.join();
    Sample();
  }
  std::lock_guard lock(mutex_);
  return usage_;
}

}  // namespace agentd::loadgen
