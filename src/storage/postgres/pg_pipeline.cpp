// PgConn::Pipeline: several statements and one Sync in one round trip (libpq pipeline mode,
// PostgreSQL 14+ client library). The connection enters pipeline mode for the call only and
// leaves it before returning, so Query/Exec keep working exactly as outside a pipeline.
#include <libpq-fe.h>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "storage/postgres/pg_conn.hpp"
#include "storage/postgres/pg_io.hpp"
#include "storage/postgres/pg_pool.hpp"
#include "storage/postgres/pg_stores.hpp"

namespace agentd::storage::postgres {
namespace asio = boost::asio;

Task<Result<std::vector<PgResult>>> PgConn::Pipeline(std::vector<Statement> statements) {
  // The deferred BEGIN and COMMIT ride in this pipeline; their results are not the caller's.
  const bool begin = std::exchange(begin_deferred_, false);
  const bool commit = std::exchange(commit_after_next_, false);
  if (begin) statements.insert(statements.begin(), Plain("BEGIN"));
  if (commit) statements.push_back(Plain("COMMIT"));
  auto results = co_await SendPipeline(statements);
  if (!results) co_return results.error();
  if (commit) results->pop_back();
  if (begin) results->erase(results->begin());
  co_return results;
}

Task<Result<std::vector<PgResult>>> PgConn::SendPipeline(
    const std::vector<Statement>& statements) {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    co_return MakeError(Errc::kUnavailable, "postgres: connection lost");
  }
  std::vector<PgResult> results(statements.size());
  if (statements.empty()) co_return results;
  if (PQenterPipelineMode(conn_) != 1) co_return PgError(conn_, nullptr, "pipeline");

  // Every command sent, in order, so that results can be matched to statements: a statement
  // not yet prepared on this connection costs a Parse (its own command) before its Execute.
  struct Command {
    std::size_t statement;
    const std::string* prepare_name;  // a Parse, naming the statement it creates
  };
  std::vector<Command> commands;
  commands.reserve(statements.size() * 2);
  std::unordered_map<std::string, std::string> parsed;  // sql -> name, Parse sent in this call
  auto fail_send = [&](std::string_view what) {
    // Commands are queued and cannot be taken back: the connection is not reused.
    broken_ = true;
    return PgError(conn_, nullptr, what);
  };
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const Statement& s = statements[i];
    std::vector<const char*> values;
    values.reserve(s.params.size());
    for (const auto& p : s.params) values.push_back(p ? p->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    const std::string text(s.sql);  // libpq copies it into its output buffer at once
    if (!s.prepared) {
      if (PQsendQueryParams(conn_, text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0) !=
          1) {
        co_return fail_send("send");
      }
      commands.push_back(Command{i, nullptr});
      continue;
    }
    const std::string* name = nullptr;
    if (auto it = prepared_.find(text); it != prepared_.end()) {
      name = &it->second;
    } else if (auto p = parsed.find(text); p != parsed.end()) {
      name = &p->second;
    } else {
      auto [inserted, ok] = parsed.emplace(text, fmt::format("agentd_{}", next_name_++));
      name = &inserted->second;
      if (PQsendPrepare(conn_, name->c_str(), text.c_str(), n, nullptr) != 1) {
        co_return fail_send("prepare");
      }
      commands.push_back(Command{i, name});
    }
    if (PQsendQueryPrepared(conn_, name->c_str(), n, values.data(), nullptr, nullptr, 0) != 1) {
      co_return fail_send("send");
    }
    commands.push_back(Command{i, nullptr});
  }
  if (PQpipelineSync(conn_) != 1) co_return fail_send("sync");
  if (round_trips_ != nullptr) round_trips_->Inc();

  auto deadline = SteadyClock::now() + query_timeout_;
  io::BoundSocket sock(co_await asio::this_coro::executor);
  if (Status st = sock.Follow(PQsocket(conn_)); !st) {
    broken_ = true;
    co_return st.error();
  }
  if (Status st = co_await io::Flush(conn_, sock.sd, deadline); !st) {
    broken_ = true;
    co_return st.error();
  }
  std::optional<Error> failure;
  std::vector<const std::string*> created;  // Parses that succeeded
  for (const Command& command : commands) {
    // Each command's results end with a NULL from PQgetResult.
    while (true) {
      if (Status st = co_await io::AwaitResult(conn_, sock.sd, deadline); !st) {
        broken_ = true;
        co_return st.error();
      }
      pg_result* r = PQgetResult(conn_);
      if (r == nullptr) break;
      PgResult owned(r);
      auto status = PQresultStatus(r);
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        if (command.prepare_name != nullptr) {
          created.push_back(command.prepare_name);
        } else {
          results[command.statement] = std::move(owned);
        }
      } else if (status == PGRES_PIPELINE_ABORTED) {
        // Skipped because an earlier command failed; that one is the error to report.
        if (!failure) {
          failure = MakeError(Errc::kInternal, "postgres pipeline: statement skipped");
        }
      } else if (!failure) {
        failure = PgError(conn_, r, command.prepare_name != nullptr ? "prepare" : "query");
      }
    }
  }
  // Then the Sync's own result; after it the connection is idle and leaves pipeline mode.
  if (Status st = co_await io::AwaitResult(conn_, sock.sd, deadline); !st) {
    broken_ = true;
    co_return st.error();
  }
  PgResult sync(PQgetResult(conn_));
  if (sync.status() != static_cast<int>(PGRES_PIPELINE_SYNC) || PQexitPipelineMode(conn_) != 1) {
    broken_ = true;
    co_return failure ? *failure : PgError(conn_, nullptr, "pipeline sync");
  }
  // Prepared statements outlive the transaction: a Parse that succeeded stays even when a
  // later statement failed and the pipeline's work was rolled back.
  for (const std::string* name : created) {
    for (auto& [sql, parsed_name] : parsed) {
      if (&parsed_name == name) prepared_.emplace(sql, parsed_name);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  if (failure) co_return *failure;
  co_return results;
}

Task<Result<std::vector<PgResult>>> TxPipeline(PgPool& pool, std::vector<Statement> statements) {
  auto lease = co_await pool.Acquire();
  if (!lease) co_return lease.error();
  PgConn& c = **lease;
  statements.insert(statements.begin(), Plain("BEGIN"));
  statements.push_back(Plain("COMMIT"));
  auto results = co_await c.Pipeline(std::move(statements));
  if (!results) {
    // A failed statement left the transaction block open and aborted (the COMMIT was skipped).
    if (c.InTransaction()) (void)co_await c.Exec("ROLLBACK");
    co_return results.error();
  }
  results->pop_back();
  results->erase(results->begin());
  co_return results;
}

}  // namespace agentd::storage::postgres
