#include "mcp/jsonrpc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace agentd::mcp {

namespace json = boost::json;

namespace {

Error Bad(std::string what) { return Error(Errc::kInvalidArgument, std::move(what)); }

// `"id":` followed by digits, anywhere in `text`; the last one wins (the SDKs write id last).
std::optional<std::int64_t> FindId(std::string_view text) {
  std::optional<std::int64_t> found;
  std::size_t pos = 0;
  while ((pos = text.find("\"id\"", pos)) != std::string_view::npos) {
    std::size_t i = pos + 4;
    while (i < text.size() && (text[i] == ' ' || text[i] == ':')) ++i;
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 18) {
      n = n * 10 + (text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits > 0) found = n;
    pos += 4;
  }
  return found;
}

}  // namespace

Result<Message> ParseMessage(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 128;
  json::value v = json::parse(text, ec, {}, options);
  if (ec) return Bad("not JSON: " + ec.message());
  if (v.is_array()) return Bad("JSON-RPC batches are not supported");
  if (!v.is_object()) return Bad("not a JSON-RPC message (expected an object)");
  json::object& o = v.get_object();
  const json::value* version = o.if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != "2.0") {
    return Bad("not a JSON-RPC 2.0 message (\"jsonrpc\": \"2.0\" missing)");
  }
  Message m;
  const json::value* id = o.if_contains("id");
  if (id != nullptr && !id->is_string() && !id->is_int64() && !id->is_uint64()) {
    return Bad("\"id\" must be a string or an integer");
  }
  if (const json::value* method = o.if_contains("method")) {
    if (!method->is_string()) return Bad("\"method\" must be a string");
    m.method = std::string(method->get_string());
    if (const json::value* params = o.if_contains("params")) m.params = *params;
    if (id != nullptr) {
      m.kind = MessageKind::kRequest;
      m.id = *id;
    } else {
      m.kind = MessageKind::kNotification;
    }
    return m;
  }
  if (id == nullptr) return Bad("neither a request, a notification nor a response");
  m.kind = MessageKind::kResponse;
  m.id = *id;
  if (const json::value* error = o.if_contains("error")) {
    if (!error->is_object()) return Bad("\"error\" must be an object");
    m.error = error->get_object();
  } else if (o.contains("result")) {
    m.result = std::move(o["result"]);
  } else {
    return Bad("a response needs \"result\" or \"error\"");
  }
  return m;
}

std::string EncodeRequest(std::int64_t id, std::string_view method, json::value params) {
  json::object o{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) o["params"] = std::move(params);
  return json::serialize(o);
}

std::string EncodeNotification(std::string_view method, json::value params) {
  json::object o{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) o["params"] = std::move(params);
  return json::serialize(o);
}

std::string EncodeResult(const json::value& id, json::value result) {
  return json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
}

std::string EncodeError(const json::value& id, int code, std::string_view message) {
  return json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", id}, {"error", json::object{{"code", code}, {"message", message}}}});
}

std::optional<std::int64_t> IntegerId(const json::value& id) {
  if (id.is_int64()) return id.get_int64();
  if (id.is_uint64() && id.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(id.get_uint64());
  }
  return std::nullopt;
}

void LineSplitter::Feed(std::string_view bytes, std::vector<std::string>& lines,
                        std::vector<Oversized>& oversized) {
  constexpr std::size_t kKeep = 256;
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    if (!skipping_) {
      if (line_.size() + piece.size() <= max_) {
        line_.append(piece);
      } else {
        skipping_ = true;
        skipped_ = line_.size();
        head_ = line_.substr(0, kKeep);
        tail_.clear();
        line_.clear();
      }
    }
    if (skipping_) {
      skipped_ += piece.size();
      if (head_.size() < kKeep) head_.append(piece.substr(0, kKeep - head_.size()));
      tail_.append(piece);
      if (tail_.size() > kKeep) tail_.erase(0, tail_.size() - kKeep);
    }
    if (nl == std::string_view::npos) return;
    bytes.remove_prefix(nl + 1);
    if (skipping_) {
      auto id = FindId(tail_);
      if (!id) id = FindId(head_);
      oversized.push_back({skipped_, id});
      skipping_ = false;
      skipped_ = 0;
      head_.clear();
      tail_.clear();
      continue;
    }
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (!line_.empty()) lines.push_back(std::move(line_));
    line_.clear();
  }
}

}  // namespace agentd::mcp
