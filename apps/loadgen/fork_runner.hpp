#pragma once
// Runs one piece of work in `procs` forked client processes and merges their Reports: each
// child gets its index, runs `work` (which must build its own io_context: call this before
// the parent creates any threads), writes its Report as JSON to a pipe and exits. procs <= 1
// runs `work(0)` in the calling process. A child that dies or writes garbage counts as a
// "client_process" error in the merged Report.

#include <functional>

#include "loadgen/report.hpp"

namespace agentd::loadgen {

Report RunForked(int procs, const std::function<Report(int index)>& work);

}  // namespace agentd::loadgen
