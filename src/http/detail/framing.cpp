#include "http/detail/framing.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "http/detail/cors.hpp"

namespace agentd::http::detail {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The transfer codings of every Transfer-Encoding line, in order; empty list elements are
// skipped (RFC 9110 5.6.1). A coding keeps its parameters ("chunked;x=1" is not chunked).
void AppendCodings(std::string_view value, std::vector<std::string_view>& out) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view item = Trim(value.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

Response Refuse(int status, std::string_view code, std::string_view detail) {
  return Response::Json(status, ErrorJson(code, detail));
}

}  // namespace

std::optional<Response> CheckFraming(const Request& request, unsigned version) {
  bool has_te = false;
  bool has_length = false;
  int hosts = 0;
  std::vector<std::string_view> codings;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "transfer-encoding")) {
      has_te = true;
      AppendCodings(value, codings);
    } else if (EqualsIgnoreCase(name, "content-length")) {
      has_length = true;
    } else if (EqualsIgnoreCase(name, "host")) {
      ++hosts;
    }
  }
  if (has_te) {
    if (has_length) {
      return Refuse(400, "bad_request",
                    "a request may not carry both Content-Length and Transfer-Encoding");
    }
    if (version < 11) {
      return Refuse(400, "bad_request", "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    }
    if (codings.empty()) return Refuse(400, "bad_request", "empty Transfer-Encoding");
    for (std::string_view coding : codings) {
      if (!EqualsIgnoreCase(coding, "chunked")) {
        // The name only: a coding is a token, but keep the detail short whatever was sent.
        std::string shown(coding.substr(0, 32));
        return Refuse(501, "not_implemented",
                      "transfer coding \"" + shown + "\" is not supported (only chunked)");
      }
    }
    if (codings.size() > 1) return Refuse(400, "bad_request", "chunked applied more than once");
  }
  if (hosts > 1) return Refuse(400, "bad_request", "more than one Host header");
  if (hosts == 0 && version >= 11) {
    return Refuse(400, "bad_request", "missing Host header (required in HTTP/1.1)");
  }
  return std::nullopt;
}

}  // namespace agentd::http::detail
