#pragma once
// Maps (method, path) to a Handler. Patterns are literal segments and `{name}` captures:
// "/threads/{thread_id}/runs/{run_id}". Literal segments win over captures at the same depth
// ("/threads/search" beats "/threads/{thread_id}"). No match: 404; path matches but not the
// method: 405 with Allow. Built once at start-up, then read-only (safe from every loop).

#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace agentd::http {

class Router {
 public:
  void Add(Method method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: see status
    int status = 404;                  // 404 (no route) or 405 (wrong method)
    std::string allow;                 // for 405: comma-separated methods
    std::string route;                 // the matched pattern, for metrics labels
  };
  // Fills request.path_params on success.
  Match Find(Request& request) const;

 private:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace agentd::http
