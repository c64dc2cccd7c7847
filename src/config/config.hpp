#pragma once
// The effective configuration: read and validated once at start (config/loader.hpp), then
// passed around as these plain immutable structs. The settings table in settings.cpp is the
// one source for flags, AGENTD_* environment variables, the config file, --help and docs.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace agentd::config {

namespace json = boost::json;

struct ServerSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8123;
  std::size_t threads = 0;  // 0 = one per core (resolved at load)
  std::size_t body_limit_bytes = 10 * 1024 * 1024;
  // Deepest nesting of objects/arrays in a request body (api/validate.hpp ParseBody).
  std::size_t json_max_depth = 64;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  std::size_t max_connections = 0;  // 0 = sized from the fd limit at load
  std::vector<std::string> cors_origins = {"*"};
  std::chrono::milliseconds health_stall_threshold{2'000};  // /health fails past this loop lag
  std::string log_level = "info";
  bool dev_endpoints = true;  // /internal/truncate
  // Runs left pending/running by the previous process: resumed at start (true) or ended `error`.
  bool resume_on_start = true;
  // SIGTERM: executing runs get shutdown_grace to finish and the rest stay pending/running for
  // the next start (true), or every active run is interrupted (false).
  bool drain_on_stop = true;
  // How often the TTL sweeper deletes expired threads and assistants.
  std::chrono::milliseconds thread_sweep_interval{60'000};
  // Runs' event logs (in process): bytes one run's log keeps, how long an ended run's log stays
  // joinable, the bytes all logs keep together (0 = sized from memory at load; ended logs are
  // dropped oldest first past it), and the unread bytes one stream may fall behind by.
  std::size_t stream_log_max_bytes = 16 << 20;
  std::chrono::milliseconds stream_retention{600'000};
  std::size_t stream_retained_bytes = 0;
  std::size_t stream_backlog_bytes = 8 << 20;
};

struct StorageSettings {
  std::string url = "sqlite";   // "memory", "sqlite" (data_dir/agentd.db) or "sqlite:/path.db"
  std::string data_dir = "./data";
  std::size_t sqlite_busy_timeout_ms = 5'000;
  // Bytes held in <database>.reserve and released when the disk fills up (0 = none).
  std::size_t sqlite_reserve_bytes = 4 << 20;
  // "inproc" (this process) or "redis://host:port[/db]": run event streams and control
  // messages in Redis; with a PostgreSQL `url` this is cluster mode (N instances).
  std::string bus = "inproc";
  std::size_t cluster_lease_ms = 10'000;  // run leases (cluster mode)
  std::size_t postgres_pool_size = 16;     // connections per process
  std::size_t postgres_acquire_timeout_ms = 2'000;  // then 503 "storage pool exhausted"
};

struct ModelSpec {
  // Every field: a reload keeps a model whose spec is equal (runtime/model_registry.hpp).
  bool operator==(const ModelSpec&) const = default;
  std::string name;
  std::string provider;  // mock | openai | anthropic
  std::string model;     // provider's model name
  std::string base_url;  // openai/anthropic; empty = the provider's default
  std::string api_key_env;  // name of the env var holding the key
  std::string api_key;      // resolved at load from api_key_env; masked when printed
  std::size_t max_concurrency = 64;
  // Timeouts of the HTTP providers (docs/configuration.md, models[]): one call (every attempt
  // and retry wait, from when it holds its max_concurrency permit), and per attempt the
  // connect, the response head, and the longest gap between body bytes.
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds first_byte_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Sampling and request settings, sent in each provider's wire shape; unset = not sent.
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> max_tokens;
  std::vector<std::string> stop;
  // Extra request headers (openai/anthropic), in file order. `env` names the variable the
  // value was read from at load ("" for a literal value): such values are never printed.
  struct Header {
    bool operator==(const Header&) const = default;
    std::string name;
    std::string value;
    std::string env;
  };
  std::vector<Header> headers;
  // Merged into the provider's request body last (options agentd does not model).
  json::object params;
  // mock only (mock-llm.md): base latency, slow latency, chunks per reply
  std::chrono::milliseconds mock_latency{0};
  std::chrono::milliseconds mock_slow_latency{2'000};
  int mock_chunks = 8;
};

struct ToolSpec {
  std::string name;
  std::string kind;  // http | demo | mcp (built from a server's tools/list, never from the file)
  std::string description;
  json::object parameters;  // JSON Schema of the arguments
  std::string url;          // http: POST target
  std::chrono::milliseconds timeout{30'000};
  int retries = 2;
  std::string server;       // mcp: the McpServerSpec name
  std::string remote_name;  // mcp: the tool's name on its server (name = prefix + remote_name)
};

// One MCP server whose tools agentd offers (docs/tools.md, src/mcp/README.md). stdio servers
// exist only here: never from API input.
struct McpServerSpec {
  bool operator==(const McpServerSpec&) const = default;
  std::string name;
  std::string transport;  // stdio | streamable_http
  // stdio: the child process. `child_env` is its whole environment ("NAME=value"), resolved
  // at load: PATH and HOME of agentd, the variables of `env_allow`, then `env`.
  std::string command;
  std::vector<std::string> args;
  std::string cwd;  // empty = agentd's
  std::vector<std::string> child_env;
  std::vector<std::string> env_keys;  // names set by `env` (values may be secrets: not printed)
  std::vector<std::string> env_allow;
  // streamable_http
  std::string url;
  std::vector<ModelSpec::Header> headers;
  // Both. A request (tools/call included) gives up after `timeout`.
  std::chrono::milliseconds timeout{60'000};
  std::vector<std::string> tool_filter;  // remote names to expose; empty = all
  std::string prefix;                    // prepended to every remote name
  bool required = false;                 // /ready fails while this server is down
  std::size_t max_output_bytes = 100'000;  // a tool result's text is cut past this, with a note
};

struct GraphSpec {
  std::string graph_id;
  std::string kind;  // react | echo
  std::string model;  // react: a ModelSpec name
  std::vector<std::string> tools;  // react: ToolSpec names
  std::string system_prompt;
  int recursion_limit = 25;
  std::string description;
  json::object config;   // the system assistant's config
  json::object context;  // the system assistant's context
  // Reducers of extra state channels: name -> "append" (list concatenation) or "last_value".
  // `messages` always uses add-messages; undeclared channels are last-value.
  std::map<std::string, std::string> channels;
};

// A `graphs[]` entry of the config file that names a graph file ({"file": "path"}) instead of
// declaring the graph inline. The path is resolved against the config file's directory.
struct GraphFileRef {
  std::string path;
  std::string key;  // "graphs[2].file", for errors
};

// Per-tenant limits, chosen by the tier the tenant's credentials carry. 0 = unlimited.
struct TierLimits {
  std::string name;
  std::size_t max_concurrent_runs = 0;  // runs executing at once
  std::size_t max_queued_runs = 0;      // runs waiting for a slot at once
  std::size_t requests_per_minute = 0;  // API requests
  std::size_t tokens_per_minute = 0;    // LLM tokens (prompt + completion)
  int priority = 0;                     // higher is admitted first among waiting runs
};

struct Limits {
  std::size_t max_active_runs = 0;  // 0 = sized from the machine at load
  std::size_t max_queued_runs = 0;
  // Memory-aware admission: new runs are refused once resident memory reaches
  // memory_admission_percent of memory_limit_bytes (0 = the cgroup's limit at load, else none).
  std::size_t memory_limit_bytes = 0;
  int memory_admission_percent = 90;
  std::chrono::milliseconds run_timeout{0};         // per-run deadline; 0 = none
  std::chrono::milliseconds queue_timeout{30'000};  // longest a run may wait for a slot
  std::string default_tier = "default";  // the tier of requests without one (and with auth off)
  std::vector<TierLimits> tiers = {TierLimits{.name = "default"}};
  // Per client IP and per API key request rates (token bucket); 0 = unlimited.
  double per_ip_requests_per_second = 0;
  double per_ip_burst = 0;
  double per_key_requests_per_second = 0;
  double per_key_burst = 0;
};

struct ApiKeySpec {
  std::string sha256;  // hex SHA-256 of the key: keys are never stored in clear
  std::string tenant;
  std::string user_id;
  std::string tier;  // "" = limits.default_tier
};

struct JwtSettings {
  std::string hs256_secret_env;  // env var holding the HS256 secret ("" = HS256 off)
  std::string hs256_secret;      // resolved at load; masked when printed
  std::string public_key_file;   // PEM (RSA or EC) for RS256/ES256 ("" = off)
  std::string audience;          // required `aud` when set
  std::string issuer;            // required `iss` when set
  std::string tenant_claim = "tenant";
  std::string user_claim = "sub";
  std::string tier_claim = "tier";
  std::chrono::seconds leeway{30};
  // Tokens without `exp` are refused (they would never expire) unless this is false.
  bool require_exp = true;
};

struct AuthSettings {
  // "none" (default: every request is the empty tenant, tier limits.default_tier), or
  // "required": every request but /ok, /health, /ready, /metrics and CORS preflights must
  // carry a valid x-api-key or Authorization: Bearer <jwt>.
  std::string mode = "none";
  std::vector<ApiKeySpec> api_keys;
  JwtSettings jwt;
};

// The console served at /console/ and what it relies on (docs/console.md).
struct ConsoleSettings {
  bool enabled = true;
  std::string ui_dir;  // the built console (index.html + assets/); "" = <agentd's dir>/ui
  // Tenants whose credentials may open the operations view while auth is required.
  std::vector<std::string> admin_tenants;
  std::chrono::milliseconds ops_interval{1'000};  // how often the operations sampler samples
  std::chrono::seconds stream_token_ttl{60};      // POST /auth/stream-token lifetime
  std::string stream_token_secret_env;  // env var holding the signing key ("" = random per start)
  std::string stream_token_secret;      // resolved at load; masked when printed
  std::size_t trace_max_runs = 1'000;   // run traces kept in memory (0 = none in memory)
  // Largest trace a run records and stores with it, in bytes of JSON (0 = no traces).
  std::size_t trace_max_bytes = 64 * 1024;
};

// OpenTelemetry export of run traces over OTLP/HTTP (docs/console.md, "OpenTelemetry").
struct OtlpSettings {
  std::string endpoint;  // the traces URL (http[s]://host:port/v1/traces); "" = no export
  std::vector<std::pair<std::string, std::string>> headers;  // sent on every export; masked
  std::size_t batch_size = 512;     // spans per request at most
  std::size_t queue_size = 8'192;   // spans waiting at most; more are dropped and counted
  std::chrono::milliseconds export_interval{1'000};  // a partial batch waits at most this
  std::chrono::milliseconds timeout{10'000};         // one export request
  std::string service_name = "agentd";
};

struct Config {
  ServerSettings server;
  StorageSettings storage;
  std::vector<ModelSpec> models;
  std::vector<ToolSpec> tools;
  std::vector<McpServerSpec> mcp_servers;
  std::vector<GraphSpec> graphs;
  // Graph files (docs/graphs.md), loaded by graph/loader.hpp: every *.yaml/*.yml/*.json of
  // `graphs_dir`, and the files `graphs[]` entries name.
  std::string graphs_dir;
  std::vector<GraphFileRef> graph_files;
  Limits limits;
  AuthSettings auth;
  ConsoleSettings console;
  OtlpSettings otlp;
  std::string source;  // "demo" or the config file path
  // setting name -> where its value came from: "default", "file", "env", "flag", or "auto"
  // (a 0 default sized from the machine at load). Shown by `agentd config`.
  std::map<std::string, std::string> setting_sources;
};

}  // namespace agentd::config
