#include "bus/redis/detail/redis_url.hpp"

#include <charconv>

namespace agentd::bus::redis::detail {

namespace {
Error Bad(std::string_view url, std::string_view why) {
  return Error(Errc::kInvalidArgument, "redis url '" + std::string(url) + "': " + std::string(why));
}

bool ToInt(std::string_view s, int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return Bad(url, "must start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  RedisEndpoint ep;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !ToInt(db, ep.db)) return Bad(url, "database must be a number");
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view creds = rest.substr(0, at);
    auto colon = creds.find(':');
    ep.password = std::string(colon == std::string_view::npos ? creds : creds.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (!ToInt(rest.substr(colon + 1), ep.port) || ep.port <= 0 || ep.port > 65535) {
      return Bad(url, "bad port");
    }
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) ep.host = std::string(rest);
  return ep;
}

}  // namespace agentd::bus::redis::detail
