#include "storage/postgres/postgres_storage.hpp"

#include <algorithm>

#include "observe/metrics.hpp"
#include "storage/postgres/pg_migrate.hpp"
#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/pg_stores.hpp"

namespace agentd::storage {
namespace postgres {
namespace {

Task<Status> Done(Task<Result<std::vector<PgResult>>> pipeline) {
  auto r = co_await std::move(pipeline);
  if (!r) co_return r.error();
  co_return Status{};
}

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(PoolOptions pool, storage::Clock clock, std::string instance_id)
      : pool_(std::make_unique<PgPool>(std::move(pool))),
        assistants_(Context{*pool_, clock}),
        threads_(Context{*pool_, clock}),
        checkpoints_(Context{*pool_, clock, std::move(instance_id)}),
        runs_(Context{*pool_, clock}),
        leases_(Context{*pool_, clock}),
        items_(Context{*pool_, clock}) {}

  AssistantStore& assistants() override { return assistants_; }
  ThreadStore& threads() override { return threads_; }
  CheckpointStore& checkpoints() override { return checkpoints_; }
  RunStore& runs() override { return runs_; }
  ItemStore& items() override { return items_; }
  RunLeases* leases() override { return &leases_; }
  std::string_view backend_name() const override { return "postgres"; }

  Task<Status> Ping() override {
    return WithConn<void>(*pool_, [](PgConn& c) -> Task<Status> {
      auto r = co_await c.Query("SELECT 1");
      if (!r) co_return r.error();
      co_return Status{};
    });
  }

  Task<Status> Truncate(TruncateOptions options) override {
    // Independent statements: one round trip for the whole transaction.
    std::vector<Statement> statements;
    if (options.runs) statements.push_back(Plain("DELETE FROM runs"));
    if (options.threads) statements.push_back(Plain("DELETE FROM threads"));
    if (options.checkpointer) {
      statements.push_back(Plain("DELETE FROM checkpoint_messages"));
      statements.push_back(Plain("DELETE FROM checkpoints"));
    }
    if (options.assistants) {
      // System assistants stay; versions of the others go with them (ON DELETE CASCADE).
      statements.push_back(Plain(
          "DELETE FROM assistants WHERE metadata ->> 'created_by' IS DISTINCT FROM 'system'"));
    }
    if (options.store) statements.push_back(Plain("DELETE FROM store_items"));
    return Done(TxPipeline(*pool_, std::move(statements)));
  }

 private:
  std::unique_ptr<PgPool> pool_;  // first: the stores below refer to it, and die before it
  PgAssistants assistants_;
  PgThreads threads_;
  PgCheckpoints checkpoints_;
  PgRuns runs_;
  PgLeases leases_;
  PgItems items_;
};

}  // namespace
}  // namespace postgres

Result<std::unique_ptr<Storage>> MakePostgresStorage(const PostgresOptions& options) {
  auto connect_s = static_cast<int>(
      std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(options.connect_timeout)
                                    .count()));
  if (Status st = postgres::ApplyMigrations(options.dsn, options.schema, connect_s); !st) {
    return MakeError(st.error().code == Errc::kInternal ? Errc::kUnavailable : st.error().code,
                     st.error().message);
  }
  postgres::PoolOptions pool;
  pool.connect.dsn = options.dsn;
  pool.connect.schema = options.schema.empty() ? "public" : options.schema;
  pool.connect.connect_timeout = options.connect_timeout;
  pool.connect.query_timeout = options.query_timeout;
  pool.size = options.pool_size;
  pool.acquire_timeout = options.acquire_timeout;
  if (options.metrics != nullptr) {
    pool.connect.round_trips = &options.metrics->GetCounter(
        "agentd_pg_round_trips_total",
        "Request/response exchanges with PostgreSQL (a statement, or a whole pipeline)");
  }
  return std::unique_ptr<Storage>(
      std::make_unique<postgres::PostgresStorage>(std::move(pool), OrSystemClock(options.clock),
                                                  options.instance_id));
}

}  // namespace agentd::storage
