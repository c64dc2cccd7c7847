#include "storage/query.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "common/json.hpp"
#include "common/time.hpp"

namespace agentd::storage {
namespace {

int Three(auto const& a, auto const& b) { return a < b ? -1 : (b < a ? 1 : 0); }

// Equality as containment both ways: numbers compare by value whatever their storage.
bool JsonEqual(const json::value& a, const json::value& b) {
  if (a.is_object() != b.is_object()) return false;
  if (a.is_object()) return JsonContains(a, b) && JsonContains(b, a);
  return JsonContains(a, b);
}

// Orders two scalars of the same kind (numbers, strings); nullopt when incomparable.
std::optional<int> JsonOrder(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    boost::system::error_code ec1, ec2;
    double x = a.to_number<double>(ec1);
    double y = b.to_number<double>(ec2);
    if (ec1 || ec2) return std::nullopt;
    return Three(x, y);
  }
  if (a.is_string() && b.is_string()) {
    return Three(std::string_view(a.get_string()), std::string_view(b.get_string()));
  }
  return std::nullopt;
}

bool InArray(const json::value* v, const json::value& list) {
  if (v == nullptr || !list.is_array()) return false;
  for (const auto& e : list.get_array()) {
    if (JsonEqual(*v, e)) return true;
  }
  return false;
}

bool IsOperatorObject(const json::value& v) {
  if (!v.is_object() || v.get_object().empty()) return false;
  for (const auto& [k, _] : v.get_object()) {
    if (k.empty() || k[0] != '$') return false;
  }
  return true;
}

// One operator against the item's value (nullptr when the key is absent: only $ne and $nin
// can match an absent key).
bool ApplyOperator(std::string_view op, const json::value* v, const json::value& arg) {
  if (op == "$eq") return v != nullptr && JsonEqual(*v, arg);
  if (op == "$ne") return v == nullptr || !JsonEqual(*v, arg);
  if (op == "$in") return InArray(v, arg);
  if (op == "$nin") return !InArray(v, arg);
  if (v == nullptr) return false;
  auto order = JsonOrder(*v, arg);
  if (!order) return false;
  if (op == "$gt") return *order > 0;
  if (op == "$gte") return *order >= 0;
  if (op == "$lt") return *order < 0;
  if (op == "$lte") return *order <= 0;
  return false;  // unknown operator: matches nothing rather than everything
}

bool LabelsMatch(const std::vector<std::string>& ns, std::size_t start,
                 const std::vector<std::string>& pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != "*" && pattern[i] != ns[start + i]) return false;
  }
  return true;
}

}  // namespace

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [&](char a, char b) { return lower(a) == lower(b); });
  return it != haystack.end() || needle.empty();
}

bool Matches(const model::Assistant& a, const AssistantQuery& q) {
  if (q.graph_id && a.graph_id != *q.graph_id) return false;
  if (q.name && !ContainsIgnoreCase(a.name, *q.name)) return false;
  if (q.metadata && !JsonContains(a.metadata, *q.metadata)) return false;
  return true;
}

bool MatchesJson(const model::Thread& t, const ThreadQuery& q) {
  if (q.metadata && !JsonContains(t.metadata, *q.metadata)) return false;
  if (q.values && !JsonContains(t.values, *q.values)) return false;
  return true;
}

bool Matches(const model::Thread& t, const ThreadQuery& q) {
  if (q.status && t.status != *q.status) return false;
  if (q.ids && std::find(q.ids->begin(), q.ids->end(), t.thread_id) == q.ids->end()) {
    return false;
  }
  return MatchesJson(t, q);
}

bool MatchesItemFilter(const json::object& value, const json::object& filter) {
  for (const auto& [key, want] : filter) {
    auto it = value.find(key);
    const json::value* have = it == value.end() ? nullptr : &it->value();
    if (IsOperatorObject(want)) {
      for (const auto& [op, arg] : want.get_object()) {
        if (!ApplyOperator(op, have, arg)) return false;
      }
    } else if (have == nullptr || !JsonEqual(*have, want)) {
      return false;
    }
  }
  return true;
}

void ApplyPatch(model::Assistant& a, const AssistantPatch& patch) {
  if (patch.graph_id) a.graph_id = *patch.graph_id;
  if (patch.config) a.config = *patch.config;
  if (patch.context) a.context = *patch.context;
  if (patch.metadata) MergeShallow(a.metadata, *patch.metadata);
  if (patch.name) a.name = *patch.name;
  if (patch.description) a.description = *patch.description;
  if (patch.expires_at) a.expires_at = *patch.expires_at;
}

void ApplyPatch(model::Thread& t, const ThreadPatch& patch, TimestampMs now) {
  if (patch.metadata) MergeShallow(t.metadata, *patch.metadata);
  if (patch.status) t.status = *patch.status;
  if (patch.config) t.config = *patch.config;
  if (patch.values) {
    t.values = *patch.values;
    t.state_updated_at = now;
  }
  if (patch.interrupts) t.interrupts = *patch.interrupts;
  if (patch.error) t.error = *patch.error;
  if (patch.expires_at) t.expires_at = *patch.expires_at;
  t.updated_at = now;
}

model::AssistantVersion SnapshotOf(const model::Assistant& a, TimestampMs created_at) {
  model::AssistantVersion v;
  v.assistant_id = a.assistant_id;
  v.graph_id = a.graph_id;
  v.name = a.name;
  v.description = a.description;
  v.config = a.config;
  v.context = a.context;
  v.metadata = a.metadata;
  v.version = a.version;
  v.created_at = created_at;
  return v;
}

std::string_view AssistantSortColumn(std::string_view sort_by) {
  for (std::string_view c : {"assistant_id", "graph_id", "name", "created_at", "updated_at"}) {
    if (c == sort_by) return c;
  }
  return "created_at";
}

std::string_view ThreadSortColumn(std::string_view sort_by) {
  for (std::string_view c :
       {"thread_id", "status", "created_at", "updated_at", "state_updated_at"}) {
    if (c == sort_by) return c;
  }
  return "created_at";
}

int CompareBy(const model::Assistant& a, const model::Assistant& b, std::string_view column) {
  column = AssistantSortColumn(column);
  if (column == "assistant_id") return Three(a.assistant_id, b.assistant_id);
  if (column == "graph_id") return Three(a.graph_id, b.graph_id);
  if (column == "name") return Three(a.name, b.name);
  if (column == "updated_at") return Three(a.updated_at, b.updated_at);
  return Three(a.created_at, b.created_at);
}

int CompareBy(const model::Thread& a, const model::Thread& b, std::string_view column) {
  column = ThreadSortColumn(column);
  if (column == "thread_id") return Three(a.thread_id, b.thread_id);
  // SQLite stores the status as its protocol string, so both backends sort by that.
  if (column == "status") return Three(model::ToString(a.status), model::ToString(b.status));
  if (column == "updated_at") return Three(a.updated_at, b.updated_at);
  if (column == "state_updated_at") return Three(a.state_updated_at, b.state_updated_at);
  return Three(a.created_at, b.created_at);
}

std::string JoinNamespace(const std::vector<std::string>& ns) {
  std::string out;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    if (i > 0) out += '.';
    out += ns[i];
  }
  return out;
}

std::vector<std::string> SplitNamespace(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

bool HasNamespacePrefix(const std::vector<std::string>& ns,
                        const std::vector<std::string>& prefix) {
  return prefix.size() <= ns.size() && std::equal(prefix.begin(), prefix.end(), ns.begin());
}

std::vector<std::vector<std::string>> SelectNamespaces(std::vector<std::vector<std::string>> all,
                                                       const NamespaceQuery& q) {
  std::set<std::vector<std::string>> picked;  // dedupes and sorts lexically, label by label
  for (auto& ns : all) {
    if (q.prefix && (q.prefix->size() > ns.size() || !LabelsMatch(ns, 0, *q.prefix))) continue;
    if (q.suffix && (q.suffix->size() > ns.size() ||
                     !LabelsMatch(ns, ns.size() - q.suffix->size(), *q.suffix))) {
      continue;
    }
    if (q.max_depth && *q.max_depth >= 0 &&
        ns.size() > static_cast<std::size_t>(*q.max_depth)) {
      ns.resize(static_cast<std::size_t>(*q.max_depth));
    }
    picked.insert(std::move(ns));
  }
  std::vector<std::vector<std::string>> sorted(picked.begin(), picked.end());
  return Slice(std::move(sorted), q.offset, q.limit);
}

TimestampMs ExpiryFromTtl(std::optional<double> ttl_minutes, TimestampMs now) {
  if (!ttl_minutes) return 0;
  return now + static_cast<TimestampMs>(std::llround(*ttl_minutes * 60'000.0));
}

namespace {
constexpr std::string_view kExpiredAt = " expired at ";
}  // namespace

Error ExpiredError(std::string_view kind, std::string_view id, TimestampMs expired_at) {
  std::string text(kind);
  text += ' ';
  text += id;
  text += kExpiredAt;
  text += FormatIso8601(expired_at);
  return MakeError(Errc::kNotFound, std::move(text));
}

bool IsExpiredError(const Error& error) {
  return error.code == Errc::kNotFound &&
         (error.message.rfind("Thread ", 0) == 0 || error.message.rfind("Assistant ", 0) == 0) &&
         error.message.find(kExpiredAt) != std::string::npos;
}

}  // namespace agentd::storage
