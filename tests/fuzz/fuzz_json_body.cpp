// fuzz_json_body: arbitrary bytes as the JSON body of the endpoints that create things, through
// the real handlers (api::ParseBody + the Validator + the handler's own field readers, which
// live inside the handler .cpp files) on a memory storage. The first byte picks the endpoint;
// the rest is the body. Properties: no crash, no sanitizer report, no escaped exception, the
// status is one the protocol allows for a create (never a 500), every JSON response is JSON
// agentd can read back (no `Infinity` from a number beyond a double), and every error body has
// the one shape {"error": <code or Zod object>, "detail": <string>}.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include "api_world.hpp"
#include "common/json.hpp"

namespace {

using agentd::http::Method;

struct Endpoint {
  Method method;
  const char* target;  // "{thread}" is replaced by the world's thread id
};

constexpr Endpoint kEndpoints[] = {
    {Method::kPost, "/runs"},                       // stateless run create
    {Method::kPost, "/threads/{thread}/runs"},      // thread run create
    {Method::kPost, "/runs/batch"},                 // several run creates
    {Method::kPost, "/threads"},                    // thread create
    {Method::kPost, "/assistants"},                 // assistant create
    {Method::kPut, "/store/items"},                 // store put
    {Method::kPost, "/threads/search"},
    {Method::kPost, "/assistants/search"},
    {Method::kPost, "/store/items/search"},
    {Method::kPatch, "/threads/{thread}"},
};
constexpr std::size_t kEndpointCount = sizeof(kEndpoints) / sizeof(kEndpoints[0]);

std::string Target(const Endpoint& e, const std::string& thread_id) {
  std::string t = e.target;
  auto at = t.find("{thread}");
  if (at != std::string::npos) t.replace(at, 8, thread_id);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto& world = agentd::fuzz::World();
  const Endpoint& endpoint = kEndpoints[data[0] % kEndpointCount];
  agentd::http::Request req;
  req.method = endpoint.method;
  req.target = req.path = Target(endpoint, world.thread_id());
  req.headers.emplace_back("Content-Type", "application/json");
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto response = world.Call(req);
  if (response.status >= 500 && response.status != 503) {
    std::fprintf(stderr, "fuzz_json_body: %s %s answered %d: %s\n",
                 std::string(agentd::http::MethodName(req.method)).c_str(), req.target.c_str(),
                 response.status, response.body.c_str());
    std::abort();
  }
  bool json_body = false;
  for (const auto& [name, value] : response.headers) {
    json_body |= agentd::http::EqualsIgnoreCase(name, "content-type") && value == "application/json";
  }
  if (!json_body) return 0;
  std::string why;
  auto parsed = agentd::ParseJson(response.body, &why);
  const boost::json::object* o = parsed ? parsed->if_object() : nullptr;
  const boost::json::value* detail = o ? o->if_contains("detail") : nullptr;
  const bool error_shape = o && o->contains("error") && detail && detail->is_string();
  if (!parsed || (response.status >= 400 && !error_shape)) {
    std::fprintf(stderr, "fuzz_json_body: %s %s answered %d with %s: %s\n",
                 std::string(agentd::http::MethodName(req.method)).c_str(), req.target.c_str(),
                 response.status, parsed ? "an error body without error/detail" : why.c_str(),
                 response.body.c_str());
    std::abort();
  }
  return 0;
}
