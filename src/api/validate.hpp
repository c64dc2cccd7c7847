#pragma once
// Request validation (agent-protocol.md 1.1, 1.7). A Validator reads typed fields from a JSON
// object (a request body) or from the query string and collects Zod-style issues, so a handler
// reads every field first, then answers 400 once with all the problems and writes nothing:
//
//   Validator v(body);
//   auto graph_id = v.String("graph_id", kRequired);
//   auto limit = v.Limit();
//   if (!v.ok()) co_return v.Response();
//
// Absent and null fields read as nullopt (the protocol treats null as absent); unknown fields
// are ignored. Every getter returns nullopt (or the default) when the field is invalid.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "common/time.hpp"
#include "http/message.hpp"

namespace agentd::api {

namespace json = boost::json;

// A parsed body, or the refusal to send instead (an errors.hpp error body).
template <class T>
using BodyResult = boost::system::result<T, http::Response>;

// The one parser of request bodies (and of WebSocket messages): `input` as JSON whatever the
// Content-Type, objects/arrays nested at most `max_depth` levels (server.json_max_depth).
// Refusals, which nothing has acted on yet:
//   400 {"error":"invalid_json","detail":"Malformed JSON in request body"}; too deep: the same
//       detail + ": nesting deeper than <N> levels (server.json_max_depth)"
//   422 {"error":"number_out_of_range","detail":"Number out of range at <path>: ...",
//       "path":[...]} for a number beyond a double's range (1e999): it could not be stored
//       as JSON, and every reader of the stored copy would lose the object around it.
BodyResult<json::value> ParseJsonBody(std::string_view input, std::size_t max_depth);

// ParseJsonBody of the request's body as an object: empty (or blank) means {}; any other JSON
// type is refused with 400 {"error":"invalid_body","detail":"Request body must be a JSON
// object, received <type>"}.
BodyResult<json::object> ParseBody(const http::Request& request, std::size_t max_depth);

// true/false, 1/0, yes/no in any case; nullopt for anything else.
std::optional<bool> ParseBool(std::string_view text);

// An array query parameter sent as a JSON string (`["a","b"]`, JS SDK) or repeated (py SDK).
std::vector<std::string> QueryArray(const http::Request& request, std::string_view name);

inline constexpr bool kRequired = true;

class Validator {
 public:
  explicit Validator(const json::object& body) : body_(&body), issues_(&own_issues_) {}
  // Only query getters (and AddIssue) are usable on this one.
  Validator() : body_(&empty_), issues_(&own_issues_) {}
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // The field when present and not null.
  const json::value* Raw(std::string_view field) const;

  std::optional<std::string> String(std::string_view field, bool required = false);
  std::optional<std::string> Enum(std::string_view field,
                                  std::span<const std::string_view> options);
  std::optional<std::string> Enum(std::string_view field,
                                  std::initializer_list<std::string_view> options) {
    return Enum(field, std::span<const std::string_view>(options.begin(), options.size()));
  }
  std::optional<std::string> Uuid(std::string_view field);
  std::optional<std::int64_t> Int(std::string_view field, bool required = false);
  std::optional<double> Number(std::string_view field);
  std::optional<bool> Bool(std::string_view field);
  std::optional<json::object> Object(std::string_view field);
  std::optional<json::array> Array(std::string_view field);
  std::optional<std::vector<std::string>> Strings(std::string_view field, bool required = false);
  std::optional<std::vector<std::string>> Uuids(std::string_view field);
  // `limit`: default `fallback`, 1..1000. `offset`: default 0, >= 0.
  std::int64_t Limit(std::int64_t fallback = 10);
  std::int64_t Offset();
  // A string array whose items must each be one of `allowed` (the `select` of searches).
  std::optional<std::vector<std::string>> Select(std::span<const std::string_view> allowed);

  // A nested object's validator: issues land in this one's list with `field` prefixed to paths.
  // Absent/null: nullopt. Not an object: an issue, nullopt.
  std::optional<Validator> Child(std::string_view field);

  // Query parameters: issues name the parameter as the path.
  std::optional<bool> QueryBool(const http::Request& request, std::string_view name);
  std::optional<std::int64_t> QueryInt(const http::Request& request, std::string_view name,
                                       std::int64_t min, std::int64_t max);

  // Zod-style issue builders, for checks a handler makes itself.
  void InvalidType(json::array path, std::string_view expected, std::string_view received);
  void Required(json::array path);
  void InvalidEnum(json::array path, std::span<const std::string_view> options,
                   std::string_view received);
  void InvalidUuid(json::array path);
  void AddIssue(json::object issue);

  bool ok() const { return issues_->empty(); }
  const json::array& issues() const { return *issues_; }
  // 400 with every issue so far (errors.cpp renders it).
  http::Response Response() const;

  // A moved root keeps its issues (own_issues_ moves with it); a child keeps its parent's list.
  Validator(Validator&& other) noexcept
      : body_(other.body_),
        own_issues_(std::move(other.own_issues_)),
        issues_(other.issues_ == &other.own_issues_ ? &own_issues_ : other.issues_),
        prefix_(std::move(other.prefix_)) {}

 private:
  Validator(const json::object& body, json::array* issues, json::array prefix)
      : body_(&body), issues_(issues), prefix_(std::move(prefix)) {}
  json::array PathOf(std::string_view field) const;
  void RangeIssue(std::string_view field, std::int64_t value, std::int64_t min, std::int64_t max);

  static const json::object empty_;
  const json::object* body_;
  json::array own_issues_;
  json::array* issues_;  // own_issues_, or the parent's for a Child
  json::array prefix_;
};

// Zod's name for the JSON type of `v`: string, number, boolean, object, array, null.
std::string_view JsonTypeName(const json::value& v);

// `ttl` (threads and assistants): minutes, or {ttl: minutes, strategy: "delete"}. Returns the
// absolute expiry `now` + ttl (ms), or nullopt when absent or invalid (then an issue is
// recorded: must be a number > 0).
std::optional<TimestampMs> ReadTtl(Validator& v, TimestampMs now);

}  // namespace agentd::api
