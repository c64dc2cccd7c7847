#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "commands.hpp"

namespace agentd::app {

struct TerminationSignals::State {
  boost::asio::io_context io;
  boost::asio::signal_set signals{io, SIGINT, SIGTERM};
};

TerminationSignals::TerminationSignals() : state_(std::make_unique<State>()) {}
TerminationSignals::~TerminationSignals() = default;

int TerminationSignals::Wait() {
  int received = 0;
  state_->signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (!ec) received = signal;
  });
  state_->io.run();
  return received;
}

}  // namespace agentd::app
