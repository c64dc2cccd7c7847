#include "config/settings.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <boost/json/array.hpp>
#include <fmt/format.h>

#include "common/json.hpp"

namespace agentd::config {
namespace {

// "scheme://user:secret@host" -> "scheme://user:****@host": DSNs are printed, secrets never.
std::string MaskUrlPassword(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "****" + url.substr(at);
}

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kMaxCount = 100'000'000;

std::string Ok() { return {}; }
const std::string& Str(const SettingValue& v) { return std::get<std::string>(v); }
std::int64_t Int(const SettingValue& v) { return std::get<std::int64_t>(v); }
std::size_t Size(const SettingValue& v) { return static_cast<std::size_t>(std::get<std::int64_t>(v)); }
milliseconds Ms(const SettingValue& v) { return milliseconds(std::get<std::int64_t>(v)); }
json::value Num(std::uint64_t n) { return json::value(n); }
json::value MsJson(milliseconds d) { return json::value(d.count()); }

json::value ListJson(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

const Setting kSettings[] = {
    {"config", "", SettingType::kString, "",
     "Path of the JSON config file (comments and trailing commas allowed). Empty: the built-in "
     "demo configuration.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.source = Str(v).empty() ? "demo" : Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.source); }},
    {"host", "server", SettingType::kString, "127.0.0.1", "Address to listen on.", 0, 0,
     [](Config& c, const SettingValue& v) {
       if (Str(v).empty()) return std::string("must not be empty");
       c.server.host = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.server.host); }},
    {"port", "server", SettingType::kInteger, "8123", "TCP port to listen on; 0 picks a free port.",
     0, 65535,
     [](Config& c, const SettingValue& v) {
       c.server.port = static_cast<std::uint16_t>(Int(v));
       return Ok();
     },
     [](const Config& c) { return Num(c.server.port); }},
    {"threads", "server", SettingType::kInteger, "0",
     "Event-loop threads; 0 = one per CPU core.", 0, 1024,
     [](Config& c, const SettingValue& v) {
       c.server.threads = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.threads); }},
    {"data_dir", "server", SettingType::kString, "./data",
     "Directory for durable state (the SQLite database agentd.db).", 0, 0,
     [](Config& c, const SettingValue& v) {
       if (Str(v).empty()) return std::string("must not be empty");
       c.storage.data_dir = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.storage.data_dir); }},
    {"graphs_dir", "server", SettingType::kString, "",
     "Directory of graph files (docs/graphs.md): every *.yaml, *.yml and *.json in it is loaded "
     "and validated at start. Relative to the config file's directory when set there (the file "
     "may also say top-level \"graphs_dir\"). Empty: none.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.graphs_dir = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.graphs_dir); }},
    {"storage", "server", SettingType::kString, "sqlite",
     "Storage backend: \"sqlite\" (data_dir/agentd.db), \"sqlite:/path/file.db\", \"memory\" "
     "(lost on exit) or a PostgreSQL URL \"postgres://user@host:5432/db\" (password from "
     "PGPASSWORD or ~/.pgpass; one written in the URL is masked when printed).", 0, 0,
     [](Config& c, const SettingValue& v) {
       const std::string& s = Str(v);
       const bool postgres = (s.rfind("postgres://", 0) == 0 && s.size() > 11) ||
                             (s.rfind("postgresql://", 0) == 0 && s.size() > 13);
       const bool ok = s == "memory" || s == "sqlite" || (s.rfind("sqlite:", 0) == 0 && s.size() > 7) ||
                       postgres;
       if (!ok) {
         return fmt::format("must be \"sqlite\", \"sqlite:<path>\", \"memory\" or \"postgres://...\", got \"{}\"",
                            MaskUrlPassword(s));
       }
       c.storage.url = s;
       return Ok();
     },
     [](const Config& c) { return json::value(MaskUrlPassword(c.storage.url)); }},
    {"sqlite_busy_timeout_ms", "server", SettingType::kDuration, "5000",
     "How long SQLite waits for a lock before failing a statement.", 0, kHour,
     [](Config& c, const SettingValue& v) {
       c.storage.sqlite_busy_timeout_ms = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.storage.sqlite_busy_timeout_ms); }},
    {"sqlite_reserve_bytes", "server", SettingType::kInteger, "4194304",
     "Bytes SQLite storage keeps allocated in a file beside the database (agentd.db.reserve) "
     "and gives back when the disk fills up, so that executing runs can still record that "
     "they ended (error) and release their threads; /ready fails until it can be allocated "
     "again. 0 = none (docs/operations.md, \"Full disk\").", 0, std::int64_t{1} << 34,
     [](Config& c, const SettingValue& v) {
       c.storage.sqlite_reserve_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.storage.sqlite_reserve_bytes); }},
    {"bus", "server", SettingType::kString, "inproc",
     "Where run event streams and control messages live: \"inproc\" (this process) or "
     "\"redis://host:port[/db]\" (Redis Streams + pub/sub, so any instance serves any run). "
     "Redis with PostgreSQL storage is cluster mode: N identical instances behind any load "
     "balancer (docs/scaling.md).", 0, 0,
     [](Config& c, const SettingValue& v) {
       const std::string& s = Str(v);
       if (s != "inproc" && !(s.rfind("redis://", 0) == 0 && s.size() > 8)) {
         return fmt::format("must be \"inproc\" or \"redis://host:port[/db]\", got \"{}\"",
                            MaskUrlPassword(s));
       }
       c.storage.bus = s;
       return Ok();
     },
     [](const Config& c) { return json::value(MaskUrlPassword(c.storage.bus)); }},
    {"cluster_lease_ms", "server", SettingType::kDuration, "10000",
     "Cluster mode: how long a run stays with an instance that stopped renewing its lease "
     "(killed, partitioned) before another instance adopts and resumes it. Renewed every third "
     "of it.", 300, kHour,
     [](Config& c, const SettingValue& v) {
       c.storage.cluster_lease_ms = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.storage.cluster_lease_ms); }},
    {"postgres_pool_size", "server", SettingType::kInteger, "16",
     "PostgreSQL connections per process, shared by every event loop (each query holds one "
     "only while it runs).", 1, 1000,
     [](Config& c, const SettingValue& v) {
       c.storage.postgres_pool_size = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.storage.postgres_pool_size); }},
    {"postgres_acquire_timeout_ms", "server", SettingType::kDuration, "2000",
     "How long a request waits for a free PostgreSQL connection before it is refused with 503 "
     "\"storage pool exhausted\".", 1, kHour,
     [](Config& c, const SettingValue& v) {
       c.storage.postgres_acquire_timeout_ms = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.storage.postgres_acquire_timeout_ms); }},
    {"body_limit", "server", SettingType::kInteger, "10485760",
     "Largest accepted request body in bytes (larger: 413).", 1024, std::int64_t{1} << 32,
     [](Config& c, const SettingValue& v) {
       c.server.body_limit_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.body_limit_bytes); }},
    {"json_max_depth", "server", SettingType::kInteger, "64",
     "Deepest nesting of objects and arrays accepted in a JSON request body or WebSocket "
     "message (deeper: 400 \"Malformed JSON in request body: nesting deeper than N levels\"). "
     "64 leaves room for messages with structured content and tool arguments; up to 512.",
     8, static_cast<std::int64_t>(kMaxRequestJsonDepth),
     [](Config& c, const SettingValue& v) {
       c.server.json_max_depth = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.json_max_depth); }},
    {"header_timeout_ms", "server", SettingType::kDuration, "10000",
     "The whole request head must arrive within this time.", 1, kHour,
     [](Config& c, const SettingValue& v) {
       c.server.header_timeout = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.header_timeout); }},
    {"read_timeout_ms", "server", SettingType::kDuration, "30000",
     "The whole request body must arrive within this time.", 1, kHour,
     [](Config& c, const SettingValue& v) {
       c.server.read_timeout = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.read_timeout); }},
    {"idle_timeout_ms", "server", SettingType::kDuration, "60000",
     "A keep-alive connection idle this long between requests is closed.", 1, kHour,
     [](Config& c, const SettingValue& v) {
       c.server.idle_timeout = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.idle_timeout); }},
    {"shutdown_grace_ms", "server", SettingType::kDuration, "10000",
     "On SIGTERM/SIGINT, in-flight requests and streams get this long before being closed.", 0,
     kHour,
     [](Config& c, const SettingValue& v) {
       c.server.shutdown_grace = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.shutdown_grace); }},
    {"max_connections", "server", SettingType::kInteger, "0",
     "Most open client connections; 0 = 90% of the open-file limit (RLIMIT_NOFILE), at least 64.",
     0, kMaxCount,
     [](Config& c, const SettingValue& v) {
       c.server.max_connections = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.max_connections); }},
    {"cors_origins", "server", SettingType::kList, "*",
     "Comma-separated origins allowed by CORS: \"*\" or exact origins like https://app.example.",
     0, 0,
     [](Config& c, const SettingValue& v) {
       const auto& list = std::get<std::vector<std::string>>(v);
       for (const auto& origin : list) {
         if (origin != "*" && origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) {
           return fmt::format("origin \"{}\" must be \"*\" or start with http:// or https://", origin);
         }
       }
       c.server.cors_origins = list;
       return Ok();
     },
     [](const Config& c) { return ListJson(c.server.cors_origins); }},
    {"health_stall_threshold_ms", "server", SettingType::kDuration, "2000",
     "/health fails when an event loop has not ticked for this long.", 10, kHour,
     [](Config& c, const SettingValue& v) {
       c.server.health_stall_threshold = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.health_stall_threshold); }},
    {"log_level", "server", SettingType::kString, "info",
     "trace, debug, info, warn, error or off.", 0, 0,
     [](Config& c, const SettingValue& v) {
       static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
       if (std::find(std::begin(kLevels), std::end(kLevels), Str(v)) == std::end(kLevels)) {
         return fmt::format("must be one of trace, debug, info, warn, error, off, got \"{}\"", Str(v));
       }
       c.server.log_level = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.server.log_level); }},
    {"dev_endpoints", "server", SettingType::kBool, "true",
     "Serve development endpoints (POST /internal/truncate).", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.server.dev_endpoints = std::get<bool>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.server.dev_endpoints); }},
    {"resume_on_start", "server", SettingType::kBool, "true",
     "At start, resume runs a previous process left pending or running (from their thread's "
     "latest checkpoint); false ends them with status error.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.server.resume_on_start = std::get<bool>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.server.resume_on_start); }},
    {"drain_on_stop", "server", SettingType::kBool, "true",
     "On SIGTERM/SIGINT, let executing runs finish within shutdown_grace_ms and leave the rest "
     "pending for the next start; false interrupts every active run.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.server.drain_on_stop = std::get<bool>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.server.drain_on_stop); }},
    {"thread_sweep_interval_ms", "server", SettingType::kDuration, "60000",
     "How often expired threads and assistants (ttl) are deleted, with their runs.", 100,
     24 * kHour,
     [](Config& c, const SettingValue& v) {
       c.server.thread_sweep_interval = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.thread_sweep_interval); }},
    {"stream_log_max_bytes", "server", SettingType::kInteger, "16777216",
     "Bytes of events one run's event log keeps for joiners and Last-Event-ID; past it the oldest "
     "events are dropped (the newest is always kept).", 4096, std::int64_t{1} << 40,
     [](Config& c, const SettingValue& v) {
       c.server.stream_log_max_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.stream_log_max_bytes); }},
    {"stream_retention_ms", "server", SettingType::kDuration, "600000",
     "How long an ended run's event log stays joinable (within stream_retained_bytes).", 0,
     24 * kHour,
     [](Config& c, const SettingValue& v) {
       c.server.stream_retention = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.server.stream_retention); }},
    {"stream_retained_bytes", "server", SettingType::kInteger, "0",
     "Bytes all runs' event logs keep together; past it ended runs' logs are dropped, the "
     "longest-ended first (a later join gets the run's final values). 0 = memory/1024, between "
     "8 MiB and 256 MiB.", 0, std::int64_t{1} << 40,
     [](Config& c, const SettingValue& v) {
       c.server.stream_retained_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.stream_retained_bytes); }},
    {"stream_backlog_bytes", "server", SettingType::kInteger, "8388608",
     "Bytes of events a stream may leave unread before it is cut with an error event (the client "
     "can resume with Last-Event-ID): what a client that stops reading can cost.", 4096,
     std::int64_t{1} << 40,
     [](Config& c, const SettingValue& v) {
       c.server.stream_backlog_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.server.stream_backlog_bytes); }},
    // The console (docs/console.md).
    {"console", "server", SettingType::kBool, "true",
     "Serve the console (playground, operations, run traces) at /console/; GET / redirects "
     "there.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.console.enabled = std::get<bool>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.console.enabled); }},
    {"ui_dir", "server", SettingType::kString, "",
     "Directory of the built console (index.html, assets/), read once at start; empty = the "
     "`ui` directory beside the agentd binary (build/ui, written by make build).", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.console.ui_dir = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.console.ui_dir); }},
    {"console_admin_tenants", "server", SettingType::kList, "",
     "With auth required: the tenants whose credentials may open the console's operations "
     "view (every tenant's runs, queues and limits). With auth off everyone may.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.console.admin_tenants = std::get<std::vector<std::string>>(v);
       return Ok();
     },
     [](const Config& c) { return ListJson(c.console.admin_tenants); }},
    {"ops_interval_ms", "server", SettingType::kDuration, "1000",
     "How often the operations view is sampled (one sampler for every viewer, only while "
     "someone watches).", 100, 60'000,
     [](Config& c, const SettingValue& v) {
       c.console.ops_interval = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.console.ops_interval); }},
    {"stream_token_ttl_s", "server", SettingType::kInteger, "60",
     "Lifetime of the short-lived tokens POST /auth/stream-token hands out, for browsers' "
     "EventSource and WebSocket (?access_token=).", 5, 3600,
     [](Config& c, const SettingValue& v) {
       c.console.stream_token_ttl = std::chrono::seconds(Int(v));
       return Ok();
     },
     [](const Config& c) { return json::value(c.console.stream_token_ttl.count()); }},
    {"stream_token_secret_env", "server", SettingType::kString, "",
     "Environment variable holding the key that signs stream tokens (at least 32 bytes); "
     "empty = a random key per start. Cluster mode: set the same on every instance.", 0, 0,
     [](Config& c, const SettingValue& v) {
       c.console.stream_token_secret_env = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.console.stream_token_secret_env); }},
    {"trace_max_runs", "server", SettingType::kInteger, "1000",
     "Run traces kept in memory (GET /threads/{thread_id}/runs/{run_id}/trace), oldest "
     "dropped first; 0 records none.", 0, 1'000'000,
     [](Config& c, const SettingValue& v) {
       c.console.trace_max_runs = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.console.trace_max_runs); }},
    {"trace_max_bytes", "server", SettingType::kInteger, "65536",
     "Largest run trace recorded and stored with its run, in bytes of JSON: spans past it are "
     "counted in dropped_spans, not kept. 0 records no traces (and exports none).", 0,
     16 * 1024 * 1024,
     [](Config& c, const SettingValue& v) {
       if (Int(v) != 0 && Int(v) < 4096) return std::string("must be 0 or at least 4096");
       c.console.trace_max_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.console.trace_max_bytes); }},
    {"otlp_endpoint", "server", SettingType::kString, "",
     "OTLP/HTTP traces URL (e.g. http://127.0.0.1:4318/v1/traces): run, node, model and tool "
     "spans are exported there as OTLP JSON with the GenAI semantic conventions. Empty: no "
     "export.", 0, 0,
     [](Config& c, const SettingValue& v) {
       const std::string& url = Str(v);
       if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
         return std::string("must start with http:// or https://");
       }
       c.otlp.endpoint = url;
       return Ok();
     },
     [](const Config& c) { return json::value(c.otlp.endpoint); }},
    {"otlp_headers", "server", SettingType::kList, "",
     "Headers sent with every OTLP export, as name=value (comma-separated in flags and "
     "AGENTD_OTLP_HEADERS, like OTEL_EXPORTER_OTLP_HEADERS); values are masked when printed.",
     0, 0,
     [](Config& c, const SettingValue& v) {
       std::vector<std::pair<std::string, std::string>> headers;
       for (const auto& item : std::get<std::vector<std::string>>(v)) {
         const auto eq = item.find('=');
         if (eq == std::string::npos || eq == 0) {
           return fmt::format("\"{}\" must be name=value", item.substr(0, item.find('=')));
         }
         headers.emplace_back(item.substr(0, eq), item.substr(eq + 1));
       }
       c.otlp.headers = std::move(headers);
       return Ok();
     },
     [](const Config& c) {
       json::array a;
       for (const auto& [name, value] : c.otlp.headers) a.emplace_back(name + "=****");
       return json::value(std::move(a));
     }},
    {"otlp_batch_size", "server", SettingType::kInteger, "512",
     "Spans per OTLP export request at most.", 1, 100'000,
     [](Config& c, const SettingValue& v) {
       c.otlp.batch_size = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.otlp.batch_size); }},
    {"otlp_queue_size", "server", SettingType::kInteger, "8192",
     "Spans waiting for export at most; when full, new spans are dropped and counted in "
     "agentd_otlp_spans_dropped_total{reason=\"queue_full\"} (a run never waits for export).",
     1, 10'000'000,
     [](Config& c, const SettingValue& v) {
       c.otlp.queue_size = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.otlp.queue_size); }},
    {"otlp_export_interval_ms", "server", SettingType::kDuration, "1000",
     "Longest wait before a partial batch of spans is exported.", 10, 60'000,
     [](Config& c, const SettingValue& v) {
       c.otlp.export_interval = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.otlp.export_interval); }},
    {"otlp_timeout_ms", "server", SettingType::kDuration, "10000",
     "Bound of one OTLP export request (connect included); a failed export drops its spans "
     "(agentd_otlp_spans_dropped_total{reason=\"export_failed\"}).", 100, 600'000,
     [](Config& c, const SettingValue& v) {
       c.otlp.timeout = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.otlp.timeout); }},
    {"otlp_service_name", "server", SettingType::kString, "agentd",
     "service.name of the exported spans' resource.", 0, 0,
     [](Config& c, const SettingValue& v) {
       if (Str(v).empty()) return std::string("must not be empty");
       c.otlp.service_name = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.otlp.service_name); }},
    {"max_active_runs", "limits", SettingType::kInteger, "0",
     "Runs executing at once; 0 = min(1024 x cores, memory MiB / 4), at least 16.", 0, kMaxCount,
     [](Config& c, const SettingValue& v) {
       c.limits.max_active_runs = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.limits.max_active_runs); }},
    {"max_queued_runs", "limits", SettingType::kInteger, "0",
     "Runs waiting for a slot before new ones are refused; 0 = 4 x max_active_runs.", 0, kMaxCount,
     [](Config& c, const SettingValue& v) {
       c.limits.max_queued_runs = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.limits.max_queued_runs); }},
    {"memory_limit_bytes", "limits", SettingType::kInteger, "0",
     "The memory agentd may use; new runs are refused (503) once resident memory reaches "
     "memory_admission_percent of it. 0 = the cgroup's memory limit when there is one, else no "
     "limit.", 0, std::int64_t{1} << 50,
     [](Config& c, const SettingValue& v) {
       c.limits.memory_limit_bytes = Size(v);
       return Ok();
     },
     [](const Config& c) { return Num(c.limits.memory_limit_bytes); }},
    {"memory_admission_percent", "limits", SettingType::kInteger, "90",
     "Share of memory_limit_bytes at which new runs are refused with 503 + Retry-After (runs "
     "already accepted go on); 0 = never refuse for memory.", 0, 100,
     [](Config& c, const SettingValue& v) {
       c.limits.memory_admission_percent = static_cast<int>(std::get<std::int64_t>(v));
       return Ok();
     },
     [](const Config& c) { return Num(static_cast<std::uint64_t>(c.limits.memory_admission_percent)); }},
    {"run_timeout_ms", "limits", SettingType::kDuration, "0",
     "Longest a run may execute before it is stopped (status timeout); 0 = no deadline.", 0,
     24 * kHour,
     [](Config& c, const SettingValue& v) {
       c.limits.run_timeout = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.limits.run_timeout); }},
    {"queue_timeout_ms", "limits", SettingType::kDuration, "30000",
     "Longest a run may wait for an execution slot before it is refused.", 1, 24 * kHour,
     [](Config& c, const SettingValue& v) {
       c.limits.queue_timeout = Ms(v);
       return Ok();
     },
     [](const Config& c) { return MsJson(c.limits.queue_timeout); }},
    {"default_tier", "limits", SettingType::kString, "default",
     "Tier (limits.tiers[].name) of requests whose credentials name none, and of every request "
     "with auth off.", 0, 0,
     [](Config& c, const SettingValue& v) {
       if (Str(v).empty()) return std::string("must not be empty");
       c.limits.default_tier = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.limits.default_tier); }},
    {"per_ip_requests_per_second", "limits", SettingType::kNumber, "0",
     "Requests per second one client IP may make (token bucket); 0 = unlimited. Over it: 429.",
     0, 1'000'000,
     [](Config& c, const SettingValue& v) {
       c.limits.per_ip_requests_per_second = std::get<double>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.limits.per_ip_requests_per_second); }},
    {"per_ip_burst", "limits", SettingType::kNumber, "0",
     "Requests one client IP may make at once above its rate; 0 = one second's worth.", 0,
     10'000'000,
     [](Config& c, const SettingValue& v) {
       c.limits.per_ip_burst = std::get<double>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.limits.per_ip_burst); }},
    {"per_key_requests_per_second", "limits", SettingType::kNumber, "0",
     "Requests per second one credential (API key, or JWT tenant+user) may make; 0 = unlimited.",
     0, 1'000'000,
     [](Config& c, const SettingValue& v) {
       c.limits.per_key_requests_per_second = std::get<double>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.limits.per_key_requests_per_second); }},
    {"per_key_burst", "limits", SettingType::kNumber, "0",
     "Requests one credential may make at once above its rate; 0 = one second's worth.", 0,
     10'000'000,
     [](Config& c, const SettingValue& v) {
       c.limits.per_key_burst = std::get<double>(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.limits.per_key_burst); }},
    {"auth", "", SettingType::kString, "none",
     "Authentication: \"none\" (every request is the empty tenant) or \"required\" (x-api-key or "
     "Authorization: Bearer <jwt>; see auth.api_keys and auth.jwt). File key: auth.mode.", 0, 0,
     [](Config& c, const SettingValue& v) {
       if (Str(v) != "none" && Str(v) != "required") {
         return fmt::format("must be \"none\" or \"required\", got \"{}\"", Str(v));
       }
       c.auth.mode = Str(v);
       return Ok();
     },
     [](const Config& c) { return json::value(c.auth.mode); }},
};

std::string CheckRange(const Setting& s, std::int64_t v) {
  if (v < s.min || v > s.max) return fmt::format("must be between {} and {}, got {}", s.min, s.max, v);
  return {};
}

std::string CheckNumber(const Setting& s, double v) {
  if (!(v >= static_cast<double>(s.min) && v <= static_cast<double>(s.max))) {
    return fmt::format("must be between {} and {}, got {}", s.min, s.max, v);
  }
  return {};
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::span<const Setting> Settings() { return kSettings; }

const Setting* FindSetting(std::string_view name) {
  for (const auto& s : kSettings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string EnvName(const Setting& s) {
  std::string out = "AGENTD_";
  for (char c : s.name) out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  return out;
}

std::string FlagName(const Setting& s) {
  std::string out = "--";
  for (char c : s.name) out.push_back(c == '_' ? '-' : c);
  return out;
}

std::string FileKey(const Setting& s) { return fmt::format("{}.{}", s.section, s.name); }

std::string_view TypeName(SettingType t) {
  switch (t) {
    case SettingType::kString: return "string";
    case SettingType::kInteger: return "integer";
    case SettingType::kBool: return "bool";
    case SettingType::kDuration: return "ms";
    case SettingType::kList: return "list";
    case SettingType::kNumber: return "number";
  }
  return "?";
}

std::string ApplyText(Config& config, const Setting& s, std::string_view text) {
  switch (s.type) {
    case SettingType::kString: return s.apply(config, std::string(text));
    case SettingType::kInteger:
    case SettingType::kDuration: {
      std::int64_t v = 0;
      const auto* end = text.data() + text.size();
      const auto res = std::from_chars(text.data(), end, v);
      if (text.empty() || res.ec != std::errc() || res.ptr != end) {
        return fmt::format("expected an integer, got \"{}\"", text);
      }
      if (auto err = CheckRange(s, v); !err.empty()) return err;
      return s.apply(config, v);
    }
    case SettingType::kBool: {
      if (text == "true" || text == "1" || text == "yes" || text == "on") return s.apply(config, true);
      if (text == "false" || text == "0" || text == "no" || text == "off") return s.apply(config, false);
      return fmt::format("expected true or false, got \"{}\"", text);
    }
    case SettingType::kList: return s.apply(config, SplitList(text));
    case SettingType::kNumber: {
      double v = 0;
      const auto* end = text.data() + text.size();
      const auto res = std::from_chars(text.data(), end, v);
      if (text.empty() || res.ec != std::errc() || res.ptr != end) {
        return fmt::format("expected a number, got \"{}\"", text);
      }
      if (auto err = CheckNumber(s, v); !err.empty()) return err;
      return s.apply(config, v);
    }
  }
  return "unsupported setting type";
}

std::string ApplyJson(Config& config, const Setting& s, const json::value& v) {
  switch (s.type) {
    case SettingType::kString:
      if (!v.is_string()) return "expected a string";
      return s.apply(config, std::string(v.get_string()));
    case SettingType::kInteger:
    case SettingType::kDuration: {
      std::int64_t n = 0;
      if (v.is_int64()) {
        n = v.get_int64();
      } else if (v.is_uint64()) {
        n = std::numeric_limits<std::int64_t>::max();
      } else {
        return "expected an integer";
      }
      if (auto err = CheckRange(s, n); !err.empty()) return err;
      return s.apply(config, n);
    }
    case SettingType::kBool:
      if (!v.is_bool()) return "expected true or false";
      return s.apply(config, v.get_bool());
    case SettingType::kList: {
      if (v.is_string()) return s.apply(config, SplitList(v.get_string()));
      if (!v.is_array()) return "expected an array of strings or a comma-separated string";
      std::vector<std::string> items;
      for (const auto& e : v.get_array()) {
        if (!e.is_string()) return "expected an array of strings";
        items.emplace_back(e.get_string());
      }
      return s.apply(config, items);
    }
    case SettingType::kNumber: {
      if (!v.is_number()) return "expected a number";
      const double n = v.to_number<double>();
      if (auto err = CheckNumber(s, n); !err.empty()) return err;
      return s.apply(config, n);
    }
  }
  return "unsupported setting type";
}

}  // namespace agentd::config
