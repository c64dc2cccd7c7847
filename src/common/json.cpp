#include "common/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace agentd {

bool JsonContains(const json::value& target, const json::value& filter) {
  if (filter.is_object()) {
    if (!target.is_object()) return false;
    const auto& t = target.get_object();
    for (const auto& [key, want] : filter.get_object()) {
      auto it = t.find(key);
      if (it == t.end()) return false;
      if (!JsonContains(it->value(), want)) return false;
    }
    return true;
  }
  // Numbers compare by value whatever their storage (int64 vs uint64 vs double).
  if (filter.is_number() && target.is_number()) {
    boost::system::error_code ec1, ec2;
    double a = filter.to_number<double>(ec1);
    double b = target.to_number<double>(ec2);
    return !ec1 && !ec2 && a == b;
  }
  return target == filter;
}

void MergeShallow(json::object& into, const json::object& from) {
  for (const auto& [key, value] : from) into[key] = value;
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

std::optional<json::value> ParseJson(std::string_view text, std::string* error, bool lenient) {
  json::parse_options opts;
  if (lenient) {
    opts.allow_comments = true;
    opts.allow_trailing_commas = true;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) {
    if (error) *error = ec.message();
    return std::nullopt;
  }
  return v;
}

}  // namespace agentd
