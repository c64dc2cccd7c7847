#pragma once
// Query semantics shared by every backend, as plain functions: filter matching, patches,
// sort order, namespace matching. Backends differ in where rows live, never in what a query
// means, so both call these (sqlite/ on its own thread, after its SQL prefilter).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/time.hpp"
#include "model/types.hpp"
#include "storage/storage.hpp"

namespace agentd::storage {

// ------------------------------------------------------------------ matching

// Everything in the query but tenant, limit, offset and sort.
bool Matches(const model::Assistant& a, const AssistantQuery& q);
// Only the JSON filters (metadata, values) of the query.
bool MatchesJson(const model::Thread& t, const ThreadQuery& q);
// ids and status as well as MatchesJson.
bool Matches(const model::Thread& t, const ThreadQuery& q);
// Case-insensitive (ASCII, like SQLite's lower()) substring test.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
// ItemSearch.filter semantics: each top-level key equals, or satisfies every $op in an object.
bool MatchesItemFilter(const json::object& value, const json::object& filter);

// ------------------------------------------------------------------ patches

void ApplyPatch(model::Assistant& a, const AssistantPatch& patch);
void ApplyPatch(model::Thread& t, const ThreadPatch& patch, TimestampMs now);
model::AssistantVersion SnapshotOf(const model::Assistant& a, TimestampMs created_at);

// ------------------------------------------------------------------ sort

// Three-way comparison on the named column (unknown columns fall back to created_at).
// Backends break ties by insertion order in the same direction, as SQLite's rowid does.
int CompareBy(const model::Assistant& a, const model::Assistant& b, std::string_view column);
int CompareBy(const model::Thread& a, const model::Thread& b, std::string_view column);
// The SQL column for a sort_by value (whitelisted; anything else gives "created_at").
std::string_view AssistantSortColumn(std::string_view sort_by);
std::string_view ThreadSortColumn(std::string_view sort_by);

// ------------------------------------------------------------------ namespaces

// Labels contain no '.', so the joined path is unambiguous and prefix search is a string test.
std::string JoinNamespace(const std::vector<std::string>& ns);
std::vector<std::string> SplitNamespace(std::string_view path);
bool HasNamespacePrefix(const std::vector<std::string>& ns, const std::vector<std::string>& prefix);
// prefix/suffix match with "*" as any one label, max_depth cut, dedupe, lexical sort,
// pagination: the whole of ListNamespaces after the backend listed the live namespaces.
std::vector<std::vector<std::string>> SelectNamespaces(
    std::vector<std::vector<std::string>> all, const NamespaceQuery& q);

// ------------------------------------------------------------------ TTL

inline bool IsExpired(TimestampMs expires_at, TimestampMs now) {
  return expires_at != 0 && expires_at <= now;
}
TimestampMs ExpiryFromTtl(std::optional<double> ttl_minutes, TimestampMs now);
// The kNotFound a backend answers for an expired thread or assistant: "<kind> <id> expired at
// <ISO time>" (kind "Thread" or "Assistant"). Unlike other storage messages this text is the
// protocol's: the API keeps it as the 404 reason (IsExpiredError).
Error ExpiredError(std::string_view kind, std::string_view id, TimestampMs expired_at);
bool IsExpiredError(const Error& error);

// Slices [offset, offset + limit) out of `all` (negative values count as 0).
template <class T>
std::vector<T> Slice(std::vector<T> all, std::int64_t offset, std::int64_t limit) {
  if (offset < 0) offset = 0;
  if (limit < 0) limit = 0;
  std::vector<T> out;
  for (std::int64_t i = offset; i < static_cast<std::int64_t>(all.size()) && i < offset + limit;
       ++i) {
    out.push_back(std::move(all[static_cast<std::size_t>(i)]));
  }
  return out;
}

}  // namespace agentd::storage
