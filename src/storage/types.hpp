#pragma once
// What every storage interface shares: the awaitable type, create-if-exists behaviour and a
// page of results with the total for X-Pagination-Total.

#include <cstdint>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/fwd.hpp>

namespace agentd::storage {

namespace json = boost::json;
template <class T>
using Task = boost::asio::awaitable<T>;

enum class IfExists { kRaise, kDoNothing };

template <class T>
struct Page {
  std::vector<T> items;
  std::int64_t total = 0;  // matches before limit/offset, for X-Pagination-Total
};

}  // namespace agentd::storage
