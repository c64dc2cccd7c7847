#include "http/detail/cors.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/uuid.hpp"

namespace agentd::http::detail {

namespace {

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

void AddCorsHeaders(const std::vector<std::string>& allowed_origins,
                    std::optional<std::string_view> origin, HeaderList& headers) {
  bool any = std::find(allowed_origins.begin(), allowed_origins.end(), "*") != allowed_origins.end();
  if (any) {
    headers.emplace_back("Access-Control-Allow-Origin", "*");
  } else if (origin && std::find(allowed_origins.begin(), allowed_origins.end(), *origin) !=
                           allowed_origins.end()) {
    headers.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
    headers.emplace_back("Vary", "Origin");
  }
  headers.emplace_back("Access-Control-Expose-Headers", std::string(kExposeHeaders));
}

Response PreflightResponse(const Request& request) {
  auto r = Response::Empty(204);
  r.headers.emplace_back("Access-Control-Allow-Methods", std::string(kAllowMethods));
  if (auto requested = request.Header("access-control-request-headers")) {
    r.headers.emplace_back("Access-Control-Allow-Headers", std::string(*requested));
  }
  r.headers.emplace_back("Access-Control-Max-Age", "86400");
  return r;
}

std::string ErrorJson(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonString(out, code);
  out += ",\"detail\":";
  AppendJsonString(out, message);
  out += '}';
  return out;
}

std::string ChooseRequestId(std::optional<std::string_view> client_value) {
  if (client_value && !client_value->empty() && client_value->size() <= 128 &&
      std::all_of(client_value->begin(), client_value->end(),
                  [](char c) { return c > 0x20 && c < 0x7f; })) {
    return std::string(*client_value);
  }
  return NewUuid4();
}

}  // namespace agentd::http::detail
