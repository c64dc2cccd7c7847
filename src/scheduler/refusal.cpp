#include "scheduler/refusal.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace agentd::scheduler {

namespace json = boost::json;

Error RefusalError(Errc code, const Refusal& refusal) {
  json::object o{{"error", refusal.error},
                 {"message", refusal.message},
                 {"limit", refusal.limit},
                 {"retry_after", refusal.retry_after.count()}};
  return Error(code, std::string(kRefusalPrefix) + json::serialize(o));
}

std::optional<Refusal> ParseRefusal(const Error& error) {
  std::string_view text = error.message;
  if (!text.starts_with(kRefusalPrefix)) return std::nullopt;
  text.remove_prefix(kRefusalPrefix.size());
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  Refusal r;
  auto str = [&](std::string_view key) -> std::string {
    const auto* p = o.if_contains(key);
    return p && p->is_string() ? std::string(p->as_string()) : std::string();
  };
  r.error = str("error");
  r.limit = str("limit");
  r.message = str("message");
  if (const auto* p = o.if_contains("retry_after"); p && p->is_int64()) {
    r.retry_after = std::chrono::seconds(p->as_int64());
  }
  return r;
}

}  // namespace agentd::scheduler
