#include "limits/redis/script_call.hpp"
#include "limits/redis/sha1_hex.hpp"

#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <openssl/sha.h>

namespace agentd::limits::redis {

namespace asio = boost::asio;
using bus::redis::detail::Connection;
using bus::redis::detail::Reply;

namespace {

bool IsNoScript(const Error& e) {
  return e.code == Errc::kInternal && e.message.find("NOSCRIPT") != std::string::npos;
}

}  // namespace

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  hex.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char c : digest) hex += fmt::format("{:02x}", c);
  return hex;
}

void SendScript(std::shared_ptr<Connection> conn, std::string_view script,
                std::vector<std::string> args, std::chrono::milliseconds timeout,
                Connection::Callback cb) {
  auto retry = std::make_shared<std::vector<std::string>>(args);
  Connection* first = conn.get();
  first->Send(
      std::move(args), timeout,
      [conn = std::move(conn), script, timeout, retry, cb = std::move(cb)](Result<Reply> r) {
        if (r || !IsNoScript(r.error())) {
          cb(std::move(r));
          return;
        }
        std::vector<std::string> load{"SCRIPT", "LOAD", std::string(script)};
        conn->Send(std::move(load), timeout, [conn, timeout, retry, cb](Result<Reply> loaded) {
          if (!loaded) {
            cb(loaded.error());
            return;
          }
          conn->Send(std::move(*retry), timeout, cb);
        });
      });
}

asio::awaitable<Result<Reply>> AwaitCommand(std::shared_ptr<Connection> conn,
                                            std::string_view script,
                                            std::vector<std::string> args,
                                            std::chrono::milliseconds timeout) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<Reply>)>(
      [conn = std::move(conn), script, args = std::move(args), timeout](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        // The awaiting context must not run out of work while the reply is outstanding.
        auto work = asio::prefer(asio::get_associated_executor(*h),
                                 asio::execution::outstanding_work.tracked);
        auto done = [h, work](Result<Reply> r) {
          asio::post(work, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
        };
        if (script.empty()) {
          conn->Send(std::move(args), timeout, std::move(done));
        } else {
          SendScript(std::move(conn), script, std::move(args), timeout, std::move(done));
        }
      },
      asio::use_awaitable);
}

}  // namespace agentd::limits::redis
