#pragma once
// Errors are values. An Error is a code (what kind of failure, which decides the HTTP status
// in api/errors.cpp) plus a short human message naming the offending thing. Result<T> is
// boost::system::result<T, Error>: check it, or .value() it where failure is a bug.

#include <string>
#include <string_view>
#include <utility>

#include <boost/system/result.hpp>

namespace agentd {

enum class Errc {
  kInvalidArgument,    // bad input from a client: 400
  kNotFound,           // no such object: 404
  kConflict,           // exists already, or busy: 409
  kUnprocessable,      // well-formed but refused (multitask reject, bad namespace label): 422
  kUnavailable,        // a dependency is down or we are draining: 503
  kTimeout,            // a bounded wait ran out
  kCancelled,          // the operation was cancelled; not logged as an error
  kResourceExhausted,  // over a limit: 429/503
  kUnsupported,        // a capability this backend or build does not have
  kInternal,           // a bug or an unexpected backend failure: 500
};

std::string_view ErrcName(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;

  Error() = default;
  Error(Errc c, std::string m) : code(c), message(std::move(m)) {}
};

// boost::system::result requires a way to throw the error on .value() of a failed result.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// Status is Result<void>: success or an Error.
using Status = boost::system::result<void, Error>;

inline Error MakeError(Errc code, std::string message) { return Error(code, std::move(message)); }

}  // namespace agentd
