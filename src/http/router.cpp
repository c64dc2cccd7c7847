#include "http/router.hpp"

#include <algorithm>

namespace agentd::http {

namespace {

// "/a/{b}/c" -> {"a", "{b}", "c"}; "/" -> {""}. A trailing slash yields an empty last
// segment, so "/threads/" does not match "/threads".
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsCapture(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// Does `segments` (a pattern) match `parts` (a path)? Captures need a non-empty segment.
bool PathMatches(const std::vector<std::string>& segments, const std::vector<std::string_view>& parts) {
  if (segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (IsCapture(segments[i])) {
      if (parts[i].empty()) return false;
    } else if (segments[i] != parts[i]) {
      return false;
    }
  }
  return true;
}

// True when `a` is more specific than `b`: at the first depth where one has a literal and
// the other a capture, the literal wins.
bool MoreSpecific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bool ca = IsCapture(a[i]);
    bool cb = IsCapture(b[i]);
    if (ca != cb) return !ca;
  }
  return false;
}

// HEAD is served by the GET handler when no HEAD route exists (the server drops the body).
bool MethodServes(Method route, Method request) {
  return route == request || (request == Method::kHead && route == Method::kGet);
}

}  // namespace

void Router::Add(Method method, std::string pattern, Handler handler) {
  Route r;
  r.method = method;
  for (auto seg : Split(pattern)) r.segments.emplace_back(seg);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

Router::Match Router::Find(Request& request) const {
  auto parts = Split(request.path);
  const Route* best = nullptr;
  const Route* get_for_head = nullptr;  // a GET route that could serve a HEAD request
  std::vector<Method> allowed;
  for (const auto& r : routes_) {
    if (!PathMatches(r.segments, parts)) continue;
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
      allowed.push_back(r.method);
    }
    if (!MethodServes(r.method, request.method)) continue;
    const Route*& slot = (r.method == request.method) ? best : get_for_head;
    if (slot == nullptr || MoreSpecific(r.segments, slot->segments)) slot = &r;
  }
  // For HEAD, an explicit HEAD route wins unless the GET one is more specific.
  if (get_for_head != nullptr &&
      (best == nullptr || MoreSpecific(get_for_head->segments, best->segments))) {
    best = get_for_head;
  }

  Match m;
  if (best != nullptr) {
    m.handler = &best->handler;
    m.status = 200;
    m.route = best->pattern;
    request.path_params.clear();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& seg = best->segments[i];
      if (IsCapture(seg)) {
        request.path_params.emplace_back(seg.substr(1, seg.size() - 2), std::string(parts[i]));
      }
    }
    return m;
  }
  if (allowed.empty()) {
    m.status = 404;
    return m;
  }
  m.status = 405;
  bool has_get = std::find(allowed.begin(), allowed.end(), Method::kGet) != allowed.end();
  bool has_head = std::find(allowed.begin(), allowed.end(), Method::kHead) != allowed.end();
  if (has_get && !has_head) allowed.push_back(Method::kHead);
  std::sort(allowed.begin(), allowed.end());
  for (auto method : allowed) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += MethodName(method);
  }
  return m;
}

}  // namespace agentd::http
