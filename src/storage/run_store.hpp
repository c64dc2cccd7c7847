#pragma once
// Runs, per tenant, with what recovery, usage and traces need (storage.hpp: threading and
// error rules).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "model/types.hpp"
#include "storage/types.hpp"

namespace agentd::storage {

struct RunQuery {
  std::string tenant;
  std::string thread_id;
  std::optional<model::RunStatus> status;
  std::int64_t limit = 10;
  std::int64_t offset = 0;
};

class RunStore {
 public:
  virtual ~RunStore() = default;
  // created_at/updated_at set by the backend. kConflict on an existing run id.
  virtual Task<Result<model::Run>> Create(model::Run run) = 0;
  virtual Task<Result<model::Run>> Get(std::string tenant, std::string run_id) = 0;
  // Newest first. kNotFound when the thread does not exist.
  virtual Task<Result<std::vector<model::Run>>> List(RunQuery query) = 0;
  virtual Task<Result<model::Run>> SetStatus(std::string tenant, std::string run_id,
                                             model::RunStatus status) = 0;
  virtual Task<Status> Delete(std::string tenant, std::string run_id) = 0;

  // Crash recovery (scheduler Recover at start): every run of every tenant whose status is one of `statuses`, oldest first (created_at,
  // then insertion order), at most `limit`.
  virtual Task<Result<std::vector<model::Run>>> ListByStatus(
      std::vector<model::RunStatus> statuses, std::int64_t limit) = 0;
  // Counts one more attempt of the run (a new run is attempt 1) and returns the new number,
  // durably before it returns. kNotFound when the run is missing.
  virtual Task<Result<std::int64_t>> NextAttempt(std::string tenant, std::string run_id) = 0;
  // Records the tokens a finished run spent (model::Run::usage), replacing what was there;
  // updated_at is left alone. kNotFound when the run is missing.
  virtual Task<Status> SetUsage(std::string tenant, std::string run_id, json::object usage) = 0;
  // The run's trace (runtime/run_trace.hpp, docs/console.md "Run traces"): the JSON text the
  // trace endpoint answers, replacing what was stored; its size is bounded by the caller
  // (trace_max_bytes). It is deleted with the run; updated_at is left alone. kNotFound when
  // the run is missing.
  virtual Task<Status> SetTrace(std::string tenant, std::string run_id, std::string trace) = 0;
  // The stored trace of run `run_id` on thread `thread_id`; nullopt when the run has none (it
  // never executed, or has not ended yet). kNotFound when the run is missing or is another
  // thread's or tenant's.
  virtual Task<Result<std::optional<std::string>>> GetTrace(std::string tenant,
                                                            std::string thread_id,
                                                            std::string run_id) = 0;
};

}  // namespace agentd::storage
